"""支部“创先争优”特色活动计划安排表 (#22.11): its own book, not the plan list — one table of the
year's special activities only (theme party days, other special activities), each with who leads
it and how it was carried out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.activities import services
from pbqms.activities.models import ActivityKind
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind

from .test_books import docx_text

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"activities:{name}", args=args)


@pytest.fixture
def secretary(tree, users):
    members.assign_committee_role(None, tree.m01, tree.b01, CommitteeRoleKind.SECRETARY,
                                  started_on=dt.date(2024, 1, 1))
    user = users[Role.BRANCH_SECRETARY]
    with clock.as_of(dt.date(2026, 3, 28)):
        services.file_plan(user, unit=tree.b01, period="2026Q2", items=[
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 4, 8), "研究二季度党建工作"),
            services.PlanItem(ActivityKind.THEME_DAY, dt.date(2026, 4, 20), "“党员身边无三违”安全承诺践诺"),
            services.PlanItem(ActivityKind.OTHER, dt.date(2026, 6, 10), "创建“党员先锋岗”现场观摩")])
    with clock.as_of(dt.date(2026, 4, 21)):
        services.record_activity(user, services.RecordInput(
            unit=tree.b01, kind=ActivityKind.THEME_DAY, held_on=dt.date(2026, 4, 21),
            topic="“党员身边无三违”安全承诺践诺", attendance={tree.m01.pk: services.Presence(True)}))
    return user


def test_the_excellence_table_is_its_own_book(client, tree, secretary):
    client.force_login(secretary)
    with clock.as_of(dt.date(2026, 7, 2)):
        index = client.get(url("books", "B01")).content.decode()
        page = client.get(url("book", "B01", "excellence") + "?year=2026").content.decode()
    assert "支部“创先争优”特色活动计划安排表" in index
    assert "支部“创先争优”特色活动计划安排表" in page and "负责人" in page and tree.m01.name in page
    assert "“党员身边无三违”安全承诺践诺" in page and "已于2026年4月21日开展" in page
    assert "创建“党员先锋岗”现场观摩" in page and "未开展" in page
    assert "研究二季度党建工作" not in page  # a regular meeting is no special activity
    title, text = docx_text(client.get(url("book_docx", "B01", "excellence") + "?year=2026").content)
    assert title == "第一党支部 支部“创先争优”特色活动计划安排表" and "创建“党员先锋岗”现场观摩" in text
    assert client.get(url("book_pdf", "B01", "excellence") + "?year=2026").content[:5] == b"%PDF-"
    assert client.get(url("book", "B01G1", "excellence") + "?year=2026").status_code == 404  # branches only


def test_an_empty_year_says_so(client, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    page = client.get(url("book", "B01", "excellence") + "?year=2025").content.decode()
    assert "本年度没有安排特色活动。" in page
