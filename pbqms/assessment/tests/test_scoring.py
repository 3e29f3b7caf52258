"""Scoring through the services: sheets, the five facts of a deduction, own unit, locks, conflicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pbqms.accounts.models import Role
from pbqms.assessment import services
from pbqms.assessment.models import PeriodStatus, Score, Sheet, SheetKind, SheetStatus
from pbqms.assessment.services import ScoreConflict, ScoreInput

FULL = {"DJ01": {"occurrences": 0}, "DJ02": {"level": "好"}, "DJ03": {"measured": "100"}, "XC01": {"yes": True}}


def entries(setup, values: dict[str, dict], **common):
    return [ScoreInput(item=setup.items[code], **{**common, **v}) for code, v in values.items()]


def to_scoring(setup, admin, key="2026Q1"):
    period = setup.period(key)
    services.move_period(admin, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    return period


def test_deduction_needs_number_reason_standard_and_evidence(setup, users, tree, admin_user):
    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    with pytest.raises(ValidationError) as e:
        services.save_scores(staff, sheet, entries(setup, {"DJ01": {"occurrences": 2}}))
    text = " ".join(e.value.messages)
    assert "DJ01" in text and "原因" in text and "标准" in text and "依据" in text or "证据" in text
    assert not Score.objects.filter(sheet=sheet).exists()
    services.save_scores(staff, sheet, entries(setup, {"DJ01": {"occurrences": 2}}, reason="一季度缺1次支委会",
                                               standard_applied="缺1次扣2分", evidence_ref="会议记录本第3页"))
    score = Score.objects.get(sheet=sheet, item=setup.items["DJ01"])
    assert score.points == Decimal("36") and score.deducted and score.occurrences == 2


def test_points_out_of_range_and_bad_levels_change_nothing(setup, users, tree, admin_user):
    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    bad = entries(setup, {"DJ02": {"points": "25"}, "DJ03": {"measured": "140"}, "XC01": {"level": "优"},
                          "DJ01": {"occurrences": "-1"}})
    bad[2].yes = None
    with pytest.raises(ValidationError) as e:
        services.save_scores(staff, sheet, bad)
    text = " ".join(e.value.messages)
    assert "DJ02" in text and "0" in text and "20" in text
    assert "DJ03" in text and "DJ01" in text
    assert Score.objects.filter(sheet=sheet).count() == 0


def test_deduct_caps_at_zero_and_ratio_converts(setup, users, tree, admin_user):
    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    facts = {"reason": "缺会", "standard_applied": "缺1次扣2分", "evidence_ref": "记录本"}
    services.save_scores(staff, sheet, entries(setup, {"DJ01": {"occurrences": 30}, "DJ03": {"measured": "77.5"}},
                                               **facts))
    points = dict(Score.objects.filter(sheet=sheet).values_list("item__code", "points"))
    assert points == {"DJ01": Decimal("0.00"), "DJ03": Decimal("5.00")}


def test_nobody_scores_their_own_unit(setup, tree, admin_user):
    from pbqms.accounts import services as accounts

    period = to_scoring(setup, admin_user)
    staff = accounts.create_user(None, username="staff_b01", password="x-Secret-123456", validate=False)
    accounts.grant_role(None, staff, Role.DEPARTMENT_STAFF, tree.sub1)
    accounts.grant_role(None, staff, Role.BRANCH_COMMITTEE, tree.b01)  # also on B01's committee
    with pytest.raises(ValidationError) as e:
        services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    assert "自己" in e.value.messages[0] or "本单位" in e.value.messages[0]
    assert not Sheet.objects.filter(period=period).exists()
    # B02 is fine
    assert services.open_sheet(staff, period, tree.b02, SheetKind.ASSESSOR).unit == tree.b02


def test_branch_self_checks_but_cannot_assess(setup, users, tree, admin_user):
    period = setup.period("2026-01")
    secretary = users[Role.BRANCH_SECRETARY]
    sheet = services.open_sheet(secretary, period, tree.b01, SheetKind.SELF)
    services.save_scores(secretary, sheet, entries(setup, {**FULL}))
    services.submit_sheet(secretary, sheet, summary="本月支部工作正常开展")
    with pytest.raises((PermissionDenied, ValidationError)):
        services.open_sheet(secretary, setup.period("2026Q1"), tree.b02, SheetKind.ASSESSOR)
    with pytest.raises(PermissionDenied):
        services.open_sheet(secretary, period, tree.b02, SheetKind.SELF)


def test_locked_period_refuses_scores(setup, users, tree, admin_user):
    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    services.move_period(admin_user, period, PeriodStatus.REVIEW)
    services.move_period(admin_user, period, PeriodStatus.PUBLISHED)
    with pytest.raises(ValidationError) as e:
        services.save_scores(staff, sheet, entries(setup, {"DJ02": {"level": "好"}}))
    assert "锁定" in e.value.messages[0]
    assert not Score.objects.filter(sheet=sheet).exists()


def test_reopening_needs_a_reason_and_is_logged(setup, admin_user):
    period = to_scoring(setup, admin_user)
    with pytest.raises(ValidationError):
        services.move_period(admin_user, period, PeriodStatus.OPEN)
    with pytest.raises(ValidationError):
        services.move_period(admin_user, period, PeriodStatus.PUBLISHED)  # skips review
    services.move_period(admin_user, period, PeriodStatus.OPEN, reason="支部反映自查未完成")
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    step = period.steps.last()
    assert step.reason == "支部反映自查未完成" and step.from_status == "scoring"


def test_second_save_over_newer_work_gets_a_conflict(setup, users, tree, admin_user):
    from pbqms.accounts import services as accounts

    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    other = accounts.create_user(None, username="staff2", password="x-Secret-123456", validate=False)
    accounts.grant_role(None, other, Role.DEPARTMENT_STAFF, tree.sub1)
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    assert services.open_sheet(other, period, tree.b01, SheetKind.ASSESSOR) == sheet  # the shared sheet
    services.save_scores(staff, sheet, entries(setup, {"DJ02": {"level": "较好"}}, reason="班子学习不够",
                                               standard_applied="较好15分", evidence_ref="访谈记录"))
    # other opened the sheet before that save (saw no score: version 0) and now saves a different level
    with pytest.raises(ScoreConflict) as e:
        services.save_scores(other, sheet, entries(setup, {"DJ02": {"level": "一般"}}, reason="r",
                                                   standard_applied="s", evidence_ref="e"))
    assert "DJ02" in e.value.messages[0] and "u_department_staff" in e.value.messages[0]
    assert Score.objects.get(sheet=sheet, item=setup.items["DJ02"]).level == "较好"
    # saving other items (or the same values) still works
    services.save_scores(other, sheet, entries(setup, {"XC01": {"yes": True}}))


def test_submit_needs_every_item_and_locks_the_sheet(setup, users, tree, admin_user):
    period = to_scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    services.save_scores(staff, sheet, entries(setup, {"DJ02": {"level": "好"}}))
    with pytest.raises(ValidationError) as e:
        services.submit_sheet(staff, sheet)
    assert "DJ01" in e.value.messages[0]
    services.save_scores(staff, sheet, entries(setup, FULL))
    services.submit_sheet(staff, sheet)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED
    # blank veto/bonus/penalty items were stored as "not triggered"
    assert Score.objects.filter(sheet=sheet).count() == 8
    with pytest.raises(ValidationError):
        services.save_scores(staff, sheet, entries(setup, {"DJ02": {"level": "差"}}, reason="r",
                                                   standard_applied="s", evidence_ref="e"))


def test_panel_members_only_and_lead(setup, users, tree, admin_user):
    period = setup.period("2026Q1")
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    services.set_panel(admin_user, period, [secretary], lead=secretary)
    period = to_scoring(setup, admin_user)
    with pytest.raises(ValidationError):
        services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    sheet = services.open_sheet(secretary, period, tree.b01, SheetKind.ASSESSOR)
    assert sheet.assessor == secretary
