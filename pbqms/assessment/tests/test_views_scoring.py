"""The score sheets through HTTP: rows saved one by one (htmx) and all at once (without JS), the
five facts of a deduction, points out of range, two assessors on one sheet, the self-score beside
the assessor's, auto-filled rows, submit and withdraw, and every refusal (own unit, locked period,
outside scope 404, inside without the role 403) with nothing changed.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services
from pbqms.assessment.models import PeriodStatus, Score, Sheet, SheetKind, SheetStatus
from pbqms.assessment.services import ScoreInput
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

from .conftest import YEAR

HX = {"HTTP_HX_REQUEST": "true"}
FACTS = {"reason": "一季度缺1次支委会", "standard": "缺1次扣2分", "evidence": "会议记录本第3页"}


def url(name: str, **kw) -> str:
    return reverse(f"assessment:{name}", kwargs=kw)


def body(r) -> str:
    return html.unescape(r.content.decode())


def row_data(item, version: int = 0, **fields) -> dict[str, str]:
    """The POST fields of one row, named as the sheet names them."""
    data = {f"i{item.pk}-version": str(version)}
    for k, v in fields.items():
        data[f"i{item.pk}-{k}"] = v
    return data


def scoring(setup, admin, key="2026Q1"):
    period = setup.period(key)
    services.move_period(admin, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    return period


def opened(client, period, code: str, kind: str = "assess") -> Sheet:
    r = client.post(url(f"open_{kind}", period_pk=period.pk, code=code))
    assert r.status_code == 302, body(r)
    return Sheet.objects.get(pk=int(r["Location"].rstrip("/").split("/")[-1]))


def second_staff(tree, name="staff2"):
    other = accounts.create_user(None, username=name, password="x-Secret-123456", validate=False)
    accounts.grant_role(None, other, Role.DEPARTMENT_STAFF, tree.sub1)
    return other


def test_open_score_a_deduction_row_by_row(english, users, setup, admin_user):
    period = scoring(setup, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    sheet = opened(english, period, "B02")
    assert sheet.kind == SheetKind.ASSESSOR and sheet.assessor is None and sheet.unit.code == "B02"
    r = english.get(url("sheet", sheet_pk=sheet.pk))
    assert r.status_code == 200 and r.context["editable"]
    text = body(r)
    for code in ("DJ01", "DJ02", "DJ03", "XC01", "FJ01", "JK01", "JK02"):
        assert code in text
    assert "XC02" not in text  # annual-only: scored in the year's summary
    dj01 = setup.items["DJ01"]
    # the standard is pre-filled as the suggested standard applied
    assert f'name="i{dj01.pk}-standard" value="缺1次扣2分，扣完为止"' in text
    # a deduction without its facts: refused in the row, nothing saved
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj01.pk), row_data(dj01, occ="2", standard=""), **HX)
    assert r.status_code == 200 and "a deduction must give the reason" in body(r) and "the standard applied" in body(r)
    assert "the evidence" in body(r) and 'id="row-' in body(r) and "<html" not in body(r)
    assert not Score.objects.filter(sheet=sheet).exists()
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj01.pk), row_data(dj01, occ="2", **FACTS), **HX)
    score = Score.objects.get(sheet=sheet, item=dj01)
    assert score.points == Decimal("36") and score.deducted and score.occurrences == 2
    assert score.reason == FACTS["reason"] and score.standard_applied == "缺1次扣2分" and score.version == 1
    text = body(r)
    assert "Saved" in text and 'id="sheet-totals" hx-swap-oob="true"' in text and "36" in text
    assert f'name="i{dj01.pk}-version" value="1"' in text


def test_points_out_of_range_and_bad_levels_are_refused(english, users, setup, admin_user):
    period = scoring(setup, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    sheet = opened(english, period, "B02")
    dj02, dj03 = setup.items["DJ02"], setup.items["DJ03"]
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk), row_data(dj02, points="25"), **HX)
    assert "points must lie between 0 and 20" in body(r)
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk), row_data(dj02, level="优"), **HX)
    assert "is not one of its levels" in body(r)
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj03.pk), row_data(dj03, measured="140"), **HX)
    assert "a rate lies between 0 and 100" in body(r)
    assert not Score.objects.filter(sheet=sheet).exists()


def test_two_assessors_on_one_sheet_never_lose_work(english, users, setup, tree, admin_user):
    period = scoring(setup, admin_user)
    staff, other = users[Role.DEPARTMENT_STAFF], second_staff(tree)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # a second browser
    english.force_login(staff)
    sheet = opened(english, period, "B02")
    client.force_login(other)
    assert opened(client, period, "B02") == sheet  # the department's shared sheet
    dj02 = setup.items["DJ02"]
    # both opened the row at version 0; staff saves first
    english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk),
                 row_data(dj02, level="较好", reason="班子学习不够", standard="较好15分", evidence="访谈记录"), **HX)
    r = client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk),
                    row_data(dj02, level="一般", reason="制度执行一般", standard="一般10分", evidence="检查记录"), **HX)
    text = body(r)
    assert r.status_code == 200 and "was changed by u_department_staff" in text and "your change was not saved" in text
    assert "Saved by u_department_staff:" in text and "15 points" in text and "较好" in text and "班子学习不够" in text
    # the other's entry is kept in the row, now carrying the newer version
    assert 'value="一般" selected' in text and f'name="i{dj02.pk}-version" value="1"' in text
    score = Score.objects.get(sheet=sheet, item=dj02)
    assert score.level == "较好" and score.version == 1 and score.updated_by == staff
    # saving again, knowingly, replaces it
    client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk),
                row_data(dj02, version=1, level="一般", reason="制度执行一般", standard="一般10分",
                         evidence="检查记录"), **HX)
    score.refresh_from_db()
    assert score.level == "一般" and score.version == 2 and score.updated_by == other


def test_the_page_without_js_saves_every_row_all_or_nothing(english, users, setup, admin_user):
    period = scoring(setup, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    sheet = opened(english, period, "B02")
    it = setup.items
    data = {**row_data(it["DJ01"], occ="0"), **row_data(it["DJ02"], level="好"), **row_data(it["DJ03"], measured="95"),
            **row_data(it["XC01"], yes="no"), **row_data(it["FJ01"]), **row_data(it["JK01"], occ="")}
    r = english.post(url("sheet", sheet_pk=sheet.pk), data)
    assert r.status_code == 200 and "XC01" in body(r) and "a deduction must give the reason" in body(r)
    assert "Nothing was saved" in body(r)
    assert r.context["blocks"][0].rows[1].values["level"] == "好"  # what was typed stays
    assert not Score.objects.filter(sheet=sheet).exists()
    data.update(row_data(it["XC01"], yes="no", reason="本季度未报道", standard="每季度不少于2篇", evidence="宣传台账"))
    r = english.post(url("sheet", sheet_pk=sheet.pk), data)
    assert r.status_code == 302
    points = dict(Score.objects.filter(sheet=sheet).values_list("item__code", "points"))
    assert points == {"DJ01": Decimal("40"), "DJ02": Decimal("20"), "DJ03": Decimal("10"), "XC01": Decimal("0")}
    # the unchanged rows posted again change nothing (no conflict, no new version)
    r = english.post(url("sheet", sheet_pk=sheet.pk), {**data, **row_data(it["DJ01"], version=1, occ="0"),
                                                       **row_data(it["DJ02"], version=1, level="好"),
                                                       **row_data(it["DJ03"], version=1, measured="95"),
                                                       **row_data(it["XC01"], version=1, yes="no",
                                                                  reason="本季度未报道", standard="每季度不少于2篇",
                                                                  evidence="宣传台账")})
    assert r.status_code == 302
    assert set(Score.objects.filter(sheet=sheet).values_list("version", flat=True)) == {1}


def test_self_score_beside_the_assessors_with_differences_marked(client, users, setup, tree, admin_user):
    period = setup.period("2026Q1")
    secretary, staff = users[Role.BRANCH_SECRETARY], users[Role.DEPARTMENT_STAFF]
    own = services.open_sheet(secretary, period, tree.b01, SheetKind.SELF)
    services.save_scores(secretary, own, [ScoreInput(item=setup.items["DJ02"], level="好"),
                                          ScoreInput(item=setup.items["XC01"], yes=True)])
    own.summary = "本季度支部按计划开展三会一课"
    own.save(update_fields=["summary"])
    period = scoring(setup, admin_user)
    sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    services.save_scores(staff, sheet, [ScoreInput(item=setup.items["DJ02"], level="较好", reason="班子学习不够",
                                                   standard_applied="较好15分", evidence_ref="访谈记录"),
                                        ScoreInput(item=setup.items["XC01"], yes=True)])
    client.force_login(staff)
    r = client.get(url("sheet", sheet_pk=sheet.pk))
    assert r.context["beside"] == own
    rows = {row.item.code: row for b in r.context["blocks"] for row in b.rows}
    assert rows["DJ02"].differs and rows["DJ02"].other.points == Decimal("20")
    assert not rows["XC01"].differs
    text = body(r)
    assert "本季度支部按计划开展三会一课" in text
    assert f'id="row-{setup.items["DJ02"].pk}"' in text and "as-self num diff" in text
    # the branch reads it too, but may not score it: nobody scores their own unit
    client.force_login(secretary)
    r = client.get(url("sheet", sheet_pk=sheet.pk))
    assert r.status_code == 200 and not r.context["editable"]
    dj01 = setup.items["DJ01"]
    r = client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj01.pk), row_data(dj01, occ="0"), **HX)
    assert "第一党支部" in body(r) and r.context["row"].errors
    assert not Score.objects.filter(sheet=sheet, item=dj01).exists()


def test_own_unit_is_refused_with_the_services_message(english, setup, tree, admin_user):
    period = scoring(setup, admin_user)
    staff = second_staff(tree, "staff_b01")
    accounts.grant_role(None, staff, Role.BRANCH_COMMITTEE, tree.b01)
    english.force_login(staff)
    r = english.post(url("open_assess", period_pk=period.pk, code="B01"), follow=True)
    assert "Nobody scores their own unit" in body(r) and "第一党支部" in body(r)
    assert not Sheet.objects.filter(kind=SheetKind.ASSESSOR).exists()
    r = english.get(url("period", period_pk=period.pk))
    rows = {row.unit.code: row for row in r.context["rows"]}
    assert not rows["B01"].may_assess and rows["B02"].may_assess


def test_a_locked_period_refuses_scores(english, users, setup, admin_user):
    period = scoring(setup, admin_user)
    staff = users[Role.DEPARTMENT_STAFF]
    english.force_login(staff)
    sheet = opened(english, period, "B02")
    services.move_period(admin_user, period, PeriodStatus.REVIEW)
    services.move_period(admin_user, period, PeriodStatus.PUBLISHED)
    dj02 = setup.items["DJ02"]
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk), row_data(dj02, level="好"), **HX)
    assert "published and locked" in body(r)
    r = english.get(url("sheet", sheet_pk=sheet.pk))
    assert not r.context["editable"] and "published and locked" in body(r)
    r = english.post(url("sheet", sheet_pk=sheet.pk), row_data(dj02, level="好"))
    assert "published and locked" in body(r)
    assert not Score.objects.filter(sheet=sheet).exists()
    # and no new sheet opens
    r = english.post(url("open_assess", period_pk=period.pk, code="B01"), follow=True)
    assert "published and locked" in body(r)
    assert Sheet.objects.count() == 1


def test_outside_is_404_and_inside_without_the_role_is_403(client, users, setup, tree, admin_user):
    outside_scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(
        admin_user, tree.sub2, YEAR, {**setup_data(setup), "name": "二矿"}))
    outside_plan = services.create_plan(admin_user, outside_scheme)
    out_period = outside_plan.periods.get(key="2026Q1")
    services.move_period(admin_user, out_period, PeriodStatus.SCORING)
    out_sheet = services.open_sheet(admin_user, out_period, tree.b03, SheetKind.ASSESSOR)
    item = out_sheet.period.scheme.items.get(code="DJ02")
    period = scoring(setup, admin_user)
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert client.get(url("sheet", sheet_pk=out_sheet.pk)).status_code == 404
    assert client.post(url("sheet_row", sheet_pk=out_sheet.pk, item_pk=item.pk), row_data(item, level="好"),
                       **HX).status_code == 404
    assert client.post(url("sheet_submit", sheet_pk=out_sheet.pk)).status_code == 404
    assert client.post(url("open_assess", period_pk=out_period.pk, code="B03")).status_code == 404
    assert client.post(url("open_assess", period_pk=period.pk, code="B03")).status_code == 404
    assert not Score.objects.exists()
    # inside, without the role: an internal auditor reads the sheet but may not score it
    sheet = services.open_sheet(users[Role.DEPARTMENT_STAFF], period, tree.b01, SheetKind.ASSESSOR)
    client.force_login(users[Role.MEMBER])
    assert client.get(url("sheet", sheet_pk=sheet.pk)).status_code == 200  # a member reads their branch's
    client.force_login(users[Role.INTERNAL_AUDITOR])
    assert client.get(url("sheet", sheet_pk=sheet.pk)).status_code == 200
    dj02 = setup.items["DJ02"]
    assert client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk), row_data(dj02, level="好"),
                       **HX).status_code == 403
    assert client.post(url("sheet", sheet_pk=sheet.pk), row_data(dj02, level="好")).status_code == 403
    assert client.post(url("sheet_submit", sheet_pk=sheet.pk)).status_code == 403
    assert client.post(url("open_assess", period_pk=period.pk, code="B02")).status_code == 403
    # a branch secretary may not assess (a neighbour's unit is outside their scope: 404)
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.post(url("open_assess", period_pk=period.pk, code="B02")).status_code == 404
    assert not Score.objects.exists() and Sheet.objects.filter(period=period).count() == 1


def setup_data(setup):
    return schemes.scheme_data(setup.scheme)


def test_submit_needs_every_item_then_withdraw_needs_a_reason(english, users, setup, admin_user):
    period = scoring(setup, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    sheet = opened(english, period, "B02")
    it = setup.items
    r = english.post(url("sheet_submit", sheet_pk=sheet.pk), {"summary": "总体较好"}, follow=True)
    assert "Score every item before submitting" in body(r) and "DJ01" in body(r)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT
    english.post(url("sheet", sheet_pk=sheet.pk), {**row_data(it["DJ01"], occ="0"), **row_data(it["DJ02"], level="好"),
                                                   **row_data(it["DJ03"], points="10"),
                                                   **row_data(it["XC01"], yes="yes")})
    r = english.post(url("sheet_submit", sheet_pk=sheet.pk), {"summary": "总体较好"}, follow=True)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED and sheet.summary == "总体较好"
    assert not r.context["editable"] and r.context["may_withdraw"]
    r = english.post(url("sheet_withdraw", sheet_pk=sheet.pk), {"reason": " "}, follow=True)
    assert "Give the reason for withdrawing the submission." in body(r)
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED
    english.post(url("sheet_withdraw", sheet_pk=sheet.pk), {"reason": "DJ02评分有误"})
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT


def test_auto_filled_rows_link_the_evidence_and_need_a_reason_to_override(english, users, setup, admin_user,
                                                                           monkeypatch):
    from pbqms.core import metrics

    monkeypatch.setattr(metrics.Metric, "compute", lambda self, ids, start, end: {i: Decimal("80") for i in ids})
    period = scoring(setup, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    sheet = opened(english, period, "B02")
    dj03 = setup.items["DJ03"]
    score = Score.objects.get(sheet=sheet, item=dj03)
    assert score.auto and score.measured == Decimal("80")
    r = english.get(url("sheet", sheet_pk=sheet.pk))
    text = body(r)
    assert 'href="/activities/units/B02/calendar/"' in text and "auto · 80%" in text
    assert f'name="i{dj03.pk}-override"' in text and f'name="i{dj03.pk}-measured" value="80"' in text
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj03.pk),
                     row_data(dj03, version=1, measured="95", reason="", standard="", evidence=""), **HX)
    assert "give the reason for overriding it" in body(r)
    score.refresh_from_db()
    assert score.measured == Decimal("80") and score.version == 1
    r = english.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj03.pk),
                     row_data(dj03, version=1, measured="95", override="查阅原始记录，3月支委会记录漏录"), **HX)
    score.refresh_from_db()
    assert score.points == Decimal("10") and score.override_reason == "查阅原始记录，3月支委会记录漏录"


MEMBER_SCHEME = {
    "name": "党员量化积分细则", "target_kind": "member", "full_mark": "100",
    "categories": [{"code": "JB", "name": "基本积分", "items": [
        {"code": "JB01", "title": "参加组织生活", "standard": "缺1次扣5分", "max_points": "60", "method": "deduct",
         "deduct_per": "5"},
        {"code": "JB02", "title": "按时交纳党费", "standard": "按时交纳", "max_points": "40", "method": "yesno"},
    ]}],
}


def test_a_member_scores_their_own_points_on_the_same_sheet(client, users, tree, admin_user, monkeypatch):
    from pbqms.core import clock

    monkeypatch.setattr(clock, "today", lambda: __import__("datetime").date(YEAR, 2, 10))
    scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub1, YEAR, MEMBER_SCHEME))
    plan = services.create_plan(admin_user, scheme)
    member = users[Role.MEMBER]
    client.force_login(member)
    r = client.get(url("home"))
    periods = [p.key for p, _s in r.context["member_periods"]]
    assert "2026-02" in periods and "2026Q1" in periods
    period = plan.periods.get(key="2026-02")
    r = client.post(url("open_member_self", period_pk=period.pk, member_pk=tree.m01.pk))
    sheet = Sheet.objects.get(period=period, member=tree.m01)
    assert r.status_code == 302 and sheet.kind == SheetKind.SELF
    r = client.get(url("sheet", sheet_pk=sheet.pk))
    assert r.status_code == 200 and r.context["editable"] and "参加组织生活" in body(r)
    jb02 = scheme.items.get(code="JB02")
    client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=jb02.pk), row_data(jb02, yes="yes"), **HX)
    assert Score.objects.get(sheet=sheet, item=jb02).points == Decimal("40")
    # nobody opens another member's points
    assert client.post(url("open_member_self", period_pk=period.pk, member_pk=tree.m02.pk)).status_code == 404


@pytest.mark.parametrize("panel", [False, True])
def test_sheet_page_queries_are_bounded(client, users, setup, tree, admin_user, django_assert_max_num_queries, panel):
    staff = users[Role.DEPARTMENT_STAFF]
    period = setup.period("2026Q1")
    if panel:
        services.set_panel(admin_user, period, [staff], lead=staff)
    period = scoring(setup, admin_user)
    for n in range(5):
        orgs.create_unit(None, code=f"X{n}", name=f"新支部{n}", kind=UnitKind.BRANCH, parent=tree.sub1)
    sheet = services.open_sheet(staff, period, tree.b02, SheetKind.ASSESSOR)
    services.save_scores(staff, sheet, [ScoreInput(item=setup.items["DJ02"], level="好")])
    client.force_login(staff)
    with django_assert_max_num_queries(20):
        r = client.get(url("sheet", sheet_pk=sheet.pk))
    assert r.status_code == 200
    dj02 = setup.items["DJ02"]
    with django_assert_max_num_queries(30):
        r = client.post(url("sheet_row", sheet_pk=sheet.pk, item_pk=dj02.pk), row_data(dj02, version=1, level="好"),
                        **HX)
    assert r.status_code == 200


def test_the_open_page_asks_first_then_leads_to_the_sheet(client, users, setup, admin_user):
    period = scoring(setup, admin_user)
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("open_assess", period_pk=period.pk, code="B02"))
    assert r.status_code == 200 and not Sheet.objects.exists()  # a GET never opens a sheet
    sheet = opened(client, period, "B02")
    r = client.get(url("open_assess", period_pk=period.pk, code="B02"))
    assert r.status_code == 302 and r["Location"] == url("sheet", sheet_pk=sheet.pk)
    # a row's own address without JS leads to the row on its page
    item = setup.items["DJ01"]
    r = client.get(url("sheet_row", sheet_pk=sheet.pk, item_pk=item.pk))
    assert r.status_code == 302 and r["Location"].endswith(f"#row-{item.pk}")
    r = client.get(url("sheet_row", sheet_pk=sheet.pk, item_pk=item.pk), **HX)
    assert r.status_code == 200 and f'id="row-{item.pk}"' in body(r)


def test_a_panel_scores_on_its_own_sheets(client, users, setup, tree, admin_user):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    services.set_panel(admin_user, setup.period("2026Q1"), [secretary], lead=secretary)
    period = scoring(setup, admin_user)
    client.force_login(staff)  # not on the panel: no button, and the service says why
    r = client.get(url("period", period_pk=period.pk))
    assert not r.context["assess_open"]
    r = client.post(url("open_assess", period_pk=period.pk, code="B02"), follow=True)
    assert not Sheet.objects.exists()
    client.force_login(secretary)
    sheet = opened(client, period, "B02")
    assert sheet.assessor == secretary
    r = client.get(url("period", period_pk=period.pk))
    row = next(row for row in r.context["rows"] if row.unit.code == "B02")
    assert row.mine.pk == sheet.pk and row.assessor[0].assessor_name == "u_committee_secretary"
