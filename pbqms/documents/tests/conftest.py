"""Fixtures of the documents tests: a mine regulation of SUB1 that applies to SUB1's whole subtree,
published through the whole flow (drafted by department staff, reviewed by the committee admin
and approved by the committee secretary: three hands), and an outside one of SUB2."""

from __future__ import annotations

import pytest

from pbqms.accounts.models import Role
from pbqms.documents import services
from pbqms.documents.models import Tier

TEXT = {
    "purpose": "规范党员大会的召开，保证党员行使民主权利。",
    "scope_text": "适用于矿党委所属各党支部。",
    "duties": "党支部书记负责召集党员大会；组织委员负责会议记录。",
    "procedure": "一、党员大会一般每季度召开一次。二、会前确定议题，提前通知全体党员。"
                 "三、发展党员须经党员大会讨论表决。",
}


def publish_flow(doc, writer, approver, reviewer=None, **publish_kw):
    """Submit, review, approve and publish the latest version. Three hands: the reviewer is the
    committee admin of the `users` fixture unless given (None actors for system-made documents)."""
    from pbqms.accounts.models import User

    if reviewer is None and approver is not None:
        reviewer = User.objects.get(username="u_committee_admin")
    version = doc.versions.order_by("-number").first()
    services.submit(writer, version)
    services.review(reviewer, version, passed=True, comment="同意")
    services.approve(approver, version, comment="批准")
    return services.publish(writer, version, **publish_kw)


@pytest.fixture
def regulation(tree, users):
    doc = services.create_document(users[Role.DEPARTMENT_STAFF], unit=tree.sub1, tier=Tier.REGULATION,
                                   title="党员大会制度", applies_to=[tree.sub1], book_part="党的自身建设", **TEXT)
    publish_flow(doc, users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY])
    doc.refresh_from_db()
    return doc


@pytest.fixture
def outside_doc(tree):
    doc = services.create_document(None, unit=tree.sub2, tier=Tier.REGULATION, title="二矿保密制度",
                                   applies_to=[tree.sub2], purpose="二矿专用的保密规定。", procedure="按二矿规定执行。")
    publish_flow(doc, None, None)
    doc.refresh_from_db()
    return doc
