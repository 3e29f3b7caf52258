"""Fixtures of the organisational-life tests."""

from __future__ import annotations

import datetime as dt

import pytest

from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind

TERM = dt.date(2020, 1, 1)


def on_committee(member, unit, role=CommitteeRoleKind.MEMBER, started_on=TERM):
    """Register `member` on `unit`'s committee (支委) from `started_on`."""
    return members.assign_committee_role(None, member, unit, role, started_on=started_on)


@pytest.fixture(autouse=True)
def b01_committee(request):
    """张三 (m01) sits on B01's committee, so a committee meeting of B01 has somebody expected."""
    if "tree" not in request.fixturenames:
        return None
    tree = request.getfixturevalue("tree")
    return on_committee(tree.m01, tree.b01)
