"""Issue 20 (lesser points on objectives): the dashboard's two "achieved" figures are told apart."""

from __future__ import annotations

import pytest

from pbqms.accounts.models import Role

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def test_dashboard_cards_name_the_count_and_the_share_differently(client, tree, year, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    body = client.get(f"/objectives/dashboard/SUB1/?year={YEAR}").content.decode()
    stats = body[body.index('class="stats"'):body.index("</section>", body.index('class="stats"'))]
    labels = [part.split("</div>")[0] for part in stats.split('<div class="l">')[1:]]
    assert len(labels) == len(set(labels)), labels
    assert "完成率" in labels and "已完成" in labels


def test_the_scheme_list_names_the_issuing_unit_not_a_committee(client, tree, users):
    from pbqms.assessment.tests import walk_results as W

    W.make_plan(users[Role.DEPARTMENT_STAFF], tree.sub1)
    client.force_login(users[Role.COMMITTEE_ADMIN])
    body = client.get("/assessment/schemes/").content.decode()
    assert "制定单位" in body and "制定党委" not in body
