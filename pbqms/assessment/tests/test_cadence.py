"""Issue 22.7: the branches' half of the cadence — monthly self-checks close at the month's end (a
daily, idempotent job), a missed month is counted by a metric that scores an item automatically,
the quarter's self-check starts from the months' answers, and each branch files its half-year
analysis."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.assessment import cadence, schemes, services
from pbqms.assessment.metrics import self_checks_missed
from pbqms.assessment.models import PeriodStatus, SheetKind, SheetStatus
from pbqms.assessment.services import ScoreInput
from pbqms.assessment.tests.conftest import SMALL, YEAR, make_setup
from pbqms.core import clock, schedule
from pbqms.core.metrics import METRICS

FACTS = {"reason": "支委会记录缺失", "standard_applied": "缺1次扣2分", "evidence_ref": "记录本第3页"}
FULL = {"DJ01": {"occurrences": 0}, "DJ02": {"level": "好"}, "DJ03": {"measured": "100"}, "XC01": {"yes": True}}


def _self_check(secretary, setup, key, unit, values=None, submit=True):
    period = setup.period(key)
    sheet = services.open_sheet(secretary, period, unit, SheetKind.SELF)
    entries = [ScoreInput(item=setup.items[c], **FACTS, **v) for c, v in {**FULL, **(values or {})}.items()]
    services.save_scores(secretary, sheet, entries)
    if submit:
        services.submit_sheet(secretary, sheet)
    return sheet


def test_months_close_at_their_end_once_by_a_daily_job(setup):
    assert schedule.jobs()["assessment.close_months"] == "pbqms.assessment.tasks.close_months_task"
    assert cadence.close_months(dt.date(YEAR, 3, 5)) == 2
    statuses = {k: setup.period(k).status for k in (f"{YEAR}-01", f"{YEAR}-02", f"{YEAR}-03")}
    assert statuses == {f"{YEAR}-01": PeriodStatus.PUBLISHED, f"{YEAR}-02": PeriodStatus.PUBLISHED,
                        f"{YEAR}-03": PeriodStatus.OPEN}
    steps = setup.period(f"{YEAR}-01").steps.count()
    assert cadence.close_months(dt.date(YEAR, 3, 5)) == 0  # the same day again: nothing twice
    assert cadence.close_months(dt.date(YEAR, 3, 20)) == 0
    assert setup.period(f"{YEAR}-01").steps.count() == steps
    assert setup.period(f"{YEAR}-03").status == PeriodStatus.OPEN
    assert setup.period(f"{YEAR}Q1").status == PeriodStatus.OPEN  # only months close by themselves


def test_the_daily_job_never_undoes_a_reopening(setup, admin_user):
    assert cadence.close_months(dt.date(YEAR, 3, 5)) == 2
    january = setup.period(f"{YEAR}-01")
    services.move_period(admin_user, january, PeriodStatus.OPEN, "补录一月自查")
    assert cadence.close_months(dt.date(YEAR, 3, 6)) == 0
    assert setup.period(f"{YEAR}-01").status == PeriodStatus.OPEN  # left to the person who reopened it


def test_a_closed_month_refuses_a_late_self_check(setup, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    cadence.close_months(dt.date(YEAR, 2, 3))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as e:
        services.open_sheet(secretary, setup.period(f"{YEAR}-01"), tree.b01, SheetKind.SELF)
    assert "已发布并锁定" in " ".join(e.value.messages)


def test_missed_monthly_self_checks_are_counted(setup, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    with clock.as_of(dt.date(YEAR, 1, 28)):
        _self_check(secretary, setup, f"{YEAR}-01", tree.b01)
    with clock.as_of(dt.date(YEAR, 2, 27)):
        _self_check(secretary, setup, f"{YEAR}-02", tree.b01, submit=False)  # begun, never submitted
    assert "assessment.self_checks_missed" in METRICS
    with clock.as_of(dt.date(YEAR, 3, 10)):
        cadence.close_months()
        got = self_checks_missed([tree.b01.pk, tree.b02.pk], dt.date(YEAR, 1, 1), dt.date(YEAR, 3, 31))
    assert got == {tree.b01.pk: Decimal(1), tree.b02.pk: Decimal(2)}  # March has not ended yet
    with clock.as_of(dt.date(YEAR, 1, 10)):
        assert self_checks_missed([tree.b01.pk], dt.date(YEAR, 1, 1), dt.date(YEAR, 3, 31)) == {tree.b01.pk: None}


def test_an_item_bound_to_the_missed_metric_is_scored_automatically(tree, admin_user, users):
    data = copy.deepcopy(SMALL)
    data["categories"][0]["items"].append(
        {"code": "DJ04", "title": "按月自查", "standard": "未按月自查的，每发现1次扣0.5分，扣完为止", "max_points": "2",
         "method": "deduct", "deduct_per": "0.5", "metric": "assessment.self_checks_missed"})
    data["categories"][0]["items"][0]["max_points"] = "38"  # DJ01 gives DJ04 its 2 points
    setup = make_setup(tree, admin_user, data)
    secretary, staff = users[Role.BRANCH_SECRETARY], users[Role.DEPARTMENT_STAFF]
    with clock.as_of(dt.date(YEAR, 2, 20)):
        _self_check(secretary, setup, f"{YEAR}-02", tree.b01, {"DJ04": {"occurrences": 0}})
    with clock.as_of(dt.date(YEAR, 4, 8)):
        cadence.close_months()
        q1 = setup.period(f"{YEAR}Q1")
        services.move_period(admin_user, q1, PeriodStatus.SCORING)
        sheet = services.open_sheet(staff, q1, tree.b01, SheetKind.ASSESSOR)
    score = sheet.scores.get(item__code="DJ04")
    assert score.auto and score.occurrences == 2 and score.points == Decimal("1.00") and score.deducted
    assert "月度自查缺报次数" in score.reason or "Monthly self-checks missed" in score.reason


@pytest.mark.parametrize("lang, words", [("zh-hans", "按次计分"), ("en", "scored per occurrence")])
def test_the_count_metric_is_refused_on_an_item_not_scored_per_occurrence(tree, admin_user, lang, words):
    data = copy.deepcopy(SMALL)
    data["categories"][1]["items"][0]["metric"] = "assessment.self_checks_missed"  # a yes/no item
    with translation.override(lang), pytest.raises(ValidationError) as e:
        schemes.load_scheme(admin_user, tree.sub1, YEAR, data)
    assert words in " ".join(e.value.messages)


def test_the_quarters_self_check_starts_from_the_months_answers(setup, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    with clock.as_of(dt.date(YEAR, 1, 25)):
        _self_check(secretary, setup, f"{YEAR}-01", tree.b01, {"DJ01": {"occurrences": 1}})
    with clock.as_of(dt.date(YEAR, 2, 25)):
        _self_check(secretary, setup, f"{YEAR}-02", tree.b01, {"DJ01": {"occurrences": 2},
                                                                 "DJ02": {"level": "较好"}})
    with clock.as_of(dt.date(YEAR, 3, 25)):
        sheet = services.open_sheet(secretary, setup.period(f"{YEAR}Q1"), tree.b01, SheetKind.SELF)
    scores = {s.item.code: s for s in sheet.scores.select_related("item")}
    assert scores["DJ01"].occurrences == 3 and scores["DJ01"].points == Decimal("34.00")
    assert scores["DJ01"].reason == FACTS["reason"] and scores["DJ01"].deducted
    assert scores["DJ02"].level == "较好" and scores["XC01"].points == Decimal("20.00")
    assert f"{YEAR}-01" in scores["DJ01"].note and f"{YEAR}-02" in scores["DJ01"].note
    with clock.as_of(dt.date(YEAR, 3, 26)):
        services.submit_sheet(secretary, sheet)  # nothing left to fill in again
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED


def test_each_branch_files_its_half_year_analysis(client, setup, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    h1 = setup.period(f"{YEAR}H1")
    with clock.as_of(dt.date(YEAR, 7, 8)):
        sheet = services.open_sheet(secretary, h1, tree.b01, SheetKind.SELF)
        with translation.override("zh-hans"), pytest.raises(ValidationError) as e:
            services.submit_sheet(secretary, sheet)
        assert "半年分析" in " ".join(e.value.messages)
        sheet.refresh_from_db()
        assert sheet.status == SheetStatus.DRAFT
        services.submit_sheet(secretary, sheet, summary="上半年三会一课按时召开，记录规范；下半年抓整改。")
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    page = client.get(reverse("assessment:period", kwargs={"period_pk": h1.pk})).content.decode()
    assert reverse("assessment:sheet", kwargs={"sheet_pk": sheet.pk}) in page
    page = client.get(reverse("assessment:sheet", kwargs={"sheet_pk": sheet.pk})).content.decode()
    assert "下半年抓整改" in page
    client.force_login(secretary)
    with clock.as_of(dt.date(YEAR, 7, 8)):
        home = client.get(reverse("assessment:home")).content.decode()
    assert f"{YEAR}H1" in home


def test_half_year_analysis_in_english_needs_its_text(setup, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    sheet = services.open_sheet(secretary, setup.period(f"{YEAR}H1"), tree.b01, SheetKind.SELF)
    with translation.override("en"), pytest.raises(ValidationError) as e:
        services.submit_sheet(secretary, sheet, summary="  ")
    assert "half-year analysis" in " ".join(e.value.messages)
