"""Plans filed before, not after (issue 22.8, seeds 000/003): every filing is kept with its time
(filing again never deletes a line), a line dated before the day it was filed is late (补报), and
the share of activities filed in advance is a metric the assessment engine can score."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.activities import books, services
from pbqms.activities.models import ActivityKind, ActivityPlan, PlannedActivity
from pbqms.core import clock
from pbqms.core import metrics as core_metrics

MAY = (dt.date(2026, 5, 1), dt.date(2026, 5, 31))


@pytest.fixture
def secretary(users):
    return users[Role.BRANCH_SECRETARY]


def file(secretary, tree, on, *lines, unit=None):
    with clock.as_of(on):
        return services.file_plan(secretary, unit=unit or tree.b01, period="2026-05", items=[
            services.PlanItem(kind, day, topic) for kind, day, topic in lines])


def held(secretary, tree, kind, day, unit=None):
    with clock.as_of(dt.date(2026, 5, 20)):
        return services.record_activity(secretary, services.RecordInput(
            unit=unit or tree.b01, kind=kind, held_on=day, topic="会议",
            attendance={tree.m01.pk: services.Presence(True)}))


COMMITTEE = (ActivityKind.COMMITTEE_MEETING, dt.date(2026, 5, 12), "研究五月工作")
THEME = (ActivityKind.THEME_DAY, dt.date(2026, 5, 18), "主题党日")
LATE_THEME = (ActivityKind.THEME_DAY, dt.date(2026, 5, 10), "主题党日（补）")


def test_filing_again_keeps_every_line_and_flags_late_ones(secretary, tree):
    plan = file(secretary, tree, dt.date(2026, 4, 28), COMMITTEE, THEME)
    first = {line.topic: line for line in plan.items.all()}
    assert not any(line.late for line in first.values()) and plan.version == 1
    plan = file(secretary, tree, dt.date(2026, 5, 15), COMMITTEE, LATE_THEME)
    assert plan.version == 2
    now = {line.topic: line for line in plan.items.all()}
    assert set(now) == {"研究五月工作", "主题党日（补）"}
    # the line kept keeps its first filing time; the new one, dated before its filing, is late
    assert now["研究五月工作"].pk == first["研究五月工作"].pk and not now["研究五月工作"].late
    assert now["研究五月工作"].filed_at.date() == dt.date(2026, 4, 28)
    assert now["主题党日（补）"].late and now["主题党日（补）"].version == 2
    # the dropped line is kept, marked as dropped
    dropped = PlannedActivity.every_version.get(topic="主题党日")
    assert dropped.superseded_at.date() == dt.date(2026, 5, 15) and dropped.filed_at.date() == dt.date(2026, 4, 28)
    assert PlannedActivity.every_version.count() == 3 and PlannedActivity.objects.count() == 2


def test_the_plan_page_shows_late_lines_and_the_history(client, secretary, tree):
    file(secretary, tree, dt.date(2026, 4, 28), COMMITTEE, THEME)
    plan = file(secretary, tree, dt.date(2026, 5, 15), COMMITTEE, LATE_THEME)
    client.force_login(secretary)
    with clock.as_of(dt.date(2026, 5, 20)):
        page = client.get(reverse("activities:plan", args=[plan.pk])).content.decode()
    assert "补报" in page and "被后续报备删除的事项" in page and "<s>主题党日</s>" in page
    assert "共报备 2 次" in page
    with clock.as_of(dt.date(2026, 5, 20)):
        book = books.build(secretary, tree.b01, "plan-table", 2026)
    assert any("（补报）" in row[1] for s in book.sections if s.table for row in s.table.rows)


def test_the_api_tells_late_lines(client, secretary, tree):
    file(secretary, tree, dt.date(2026, 5, 11), COMMITTEE, LATE_THEME)
    headers = {"Authorization": f"Bearer {accounts.issue_token(secretary)}"}
    data = client.get("/api/v1/activities/plans", headers=headers).json()["items"][0]
    assert data["version"] == 1
    assert {i["topic"]: i["late"] for i in data["items"]} == {"研究五月工作": False, "主题党日（补）": True}


def test_filed_in_advance_metric(secretary, tree):
    assert "activities.filed_in_advance" in core_metrics.METRICS
    file(secretary, tree, dt.date(2026, 4, 28), COMMITTEE)
    file(secretary, tree, dt.date(2026, 5, 15), COMMITTEE, LATE_THEME)
    held(secretary, tree, ActivityKind.COMMITTEE_MEETING, dt.date(2026, 5, 12))  # filed in advance
    held(secretary, tree, ActivityKind.THEME_DAY, dt.date(2026, 5, 10))  # filed after (补报)
    held(secretary, tree, ActivityKind.PARTY_LECTURE, dt.date(2026, 5, 8))  # never filed
    got = core_metrics.get("activities.filed_in_advance").compute([tree.b01.pk, tree.b02.pk], *MAY)
    assert got == {tree.b01.pk: Decimal("33.3"), tree.b02.pk: None}


def test_a_line_dropped_before_the_meeting_announced_nothing(secretary, tree):
    file(secretary, tree, dt.date(2026, 4, 28), COMMITTEE, THEME)
    file(secretary, tree, dt.date(2026, 5, 2), THEME)  # the committee meeting dropped from the plan
    held(secretary, tree, ActivityKind.COMMITTEE_MEETING, dt.date(2026, 5, 12))
    got = core_metrics.get("activities.filed_in_advance").compute([tree.b01.pk], *MAY)
    assert got == {tree.b01.pk: Decimal("0.0")}


def test_a_line_covers_one_meeting_only(secretary, tree):
    file(secretary, tree, dt.date(2026, 4, 28), (ActivityKind.HEART_TALK, dt.date(2026, 5, 12), "谈心谈话"))
    with clock.as_of(dt.date(2026, 5, 20)):
        for topic in ("谈心谈话一", "谈心谈话二"):
            services.record_activity(secretary, services.RecordInput(
                unit=tree.b01, kind=ActivityKind.HEART_TALK, held_on=dt.date(2026, 5, 12), topic=topic,
                attendance={tree.m01.pk: services.Presence(True)}))
    got = core_metrics.get("activities.filed_in_advance").compute([tree.b01.pk], *MAY)
    assert got == {tree.b01.pk: 50}
    assert ActivityPlan.objects.count() == 1
