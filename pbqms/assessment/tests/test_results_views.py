"""The results pages through HTTP: ranking, scorecard, dashboard, star ratings and the linkage table —
inside and outside scope, bounded queries, and each bad input with its message and nothing changed."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.assessment import charts, linkage, results, services, stats
from pbqms.assessment.models import (
    LinkageRow,
    Period,
    PeriodStatus,
    Result,
    StarChange,
    StarRating,
    StarStatus,
)
from pbqms.assessment.tests import walk_results as W
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.members import services as members
from pbqms.members.models import Member

MAX_QUERIES = 15
SCORECARD_QUERIES = MAX_QUERIES + 2  # + the letter targets and the items measuring them (22.4)


@pytest.fixture
def data(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    inside = W.build(staff, tree.sub1, [tree.b01, tree.b02])
    from pbqms.accounts import services as accounts

    outsider = accounts.create_user(None, username="res_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)
    outside = W.build(outsider, tree.sub2, [tree.b03], name=W.OUTSIDE_SCHEME, reason=W.OUTSIDE_REASON)
    return {"in": inside, "out": outside, "staff": staff}


def url(name, **kw):
    return reverse(f"assessment:{name}", kwargs=kw)


def body(r) -> str:
    return r.content.decode()


# ---- ranking -------------------------------------------------------------------------------------

def test_ranking_lists_the_units_in_rank_order_with_categories(client, data, tree, users,
                                                                django_assert_max_num_queries):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(MAX_QUERIES):
        r = client.get(url("ranking", period_pk=data["in"]["period"]))
    assert r.status_code == 200
    page = body(r)
    rows = [x.unit.name for x in Result.objects.filter(period_id=data["in"]["period"]).order_by("rank")]
    assert rows == ["第一党支部", "第二党支部"]
    assert page.index("第一党支部") < page.index("第二党支部")
    assert "党建工作" in page and "宣传工作" in page and "第三党支部" not in page
    assert url("scorecard", period_pk=data["in"]["period"], code="B01") in page


def test_branch_sees_only_its_own_unit_and_nothing_outside(client, data, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(url("ranking", period_pk=data["in"]["period"]))
    assert r.status_code == 200 and "第一党支部" in body(r) and "第二党支部" not in body(r)
    assert client.get(url("ranking", period_pk=data["out"]["period"])).status_code == 404
    client.force_login(users[Role.MEMBER])
    r = client.get(url("ranking", period_pk=data["in"]["period"]))
    assert r.status_code == 200 and "第一党支部" in body(r) and "第二党支部" not in body(r)


@pytest.mark.parametrize("role", [Role.COMMITTEE_SECRETARY, Role.DEPARTMENT_STAFF, Role.INTERNAL_AUDITOR,
                                  Role.BRANCH_SECRETARY])
def test_outside_period_answers_404(client, data, users, role):
    client.force_login(users[role])
    for name in ("ranking", "dashboard", "bulletin"):
        assert client.get(url(name, period_pk=data["out"]["period"])).status_code == 404
    assert client.get(url("scorecard", period_pk=data["out"]["period"], code="B03")).status_code == 404
    assert client.get(url("scorecard", period_pk=data["in"]["period"], code="B03")).status_code == 404
    assert client.get(url("stars", plan_pk=data["out"]["plan"])).status_code == 404
    assert client.get(url("star_rating", rating_pk=data["out"]["rating"])).status_code == 404


def test_results_before_publication_are_the_committees_only(client, data, tree, users):
    staff = data["staff"]
    plan = Period.objects.get(pk=data["in"]["period"]).plan
    q2 = Period.objects.get(plan=plan, key=f"{W.YEAR}Q2")
    services.move_period(staff, q2, PeriodStatus.SCORING)
    q2.refresh_from_db()
    W.score(staff, q2, tree.b01, W.schemes.items_by_code(plan.scheme), {})
    results.compute(q2)
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("ranking", period_pk=q2.pk)).status_code == 403
    assert client.get(url("scorecard", period_pk=q2.pk, code="B01")).status_code == 403
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(url("ranking", period_pk=q2.pk))
    assert r.status_code == 200 and "第一党支部" in body(r)


def test_peer_filter_ranks_within_the_group(client, data, tree, users):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    period = data["in"]["period"]
    key = Result.objects.filter(period_id=period, unit=tree.b02).values_list("peer_key", flat=True).get()
    r = client.get(url("ranking", period_pk=period), {"peer": key})
    assert r.status_code == 200 and "第二党支部" in body(r)
    r = client.get(url("ranking", period_pk=period), {"peer": "g999999"})
    assert r.status_code == 200 and "第二党支部" not in body(r)


def test_ranking_exports_xlsx(client, data, users):
    from openpyxl import load_workbook

    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.get(url("ranking", period_pk=data["in"]["period"]), {"export": "xlsx"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][2] == "第一党支部" and rows[1][0] == 1 and len(rows) == 3


@pytest.fixture
def member_points(tree, users):
    """A members' points scheme of SUB1: m01 and a second B01 member scored, the period published."""
    staff = users[Role.DEPARTMENT_STAFF]
    _plan, period, other = W.scored_member_points(tree, staff)
    services.move_period(staff, period, PeriodStatus.PUBLISHED)
    return period, other


def test_members_are_not_ranked_publicly_unless_allowed(client, english, member_points, tree, users):
    period, other = member_points
    english.force_login(users[Role.INTERNAL_AUDITOR])  # reads the subtree, neither manages nor self-checks
    r = english.get(url("ranking", period_pk=period.pk))
    page = body(r)
    assert r.status_code == 200 and "张三" in page and "赵六" in page
    assert "num ar-rank\"" not in page and "the list is in name order" in page
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert "num ar-rank\"" in body(client.get(url("ranking", period_pk=period.pk)))
    # the member sees their own points only, unranked
    client.force_login(users[Role.MEMBER])
    r = client.get(url("member_scorecard", period_pk=period.pk, member_pk=tree.m01.pk))
    assert r.status_code == 200 and "张三" in body(r)
    assert client.get(url("member_scorecard", period_pk=period.pk, member_pk=other.pk)).status_code == 404


# ---- scorecard -----------------------------------------------------------------------------------

def test_scorecard_shows_where_points_were_lost(client, data, tree, users, django_assert_max_num_queries):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    with django_assert_max_num_queries(SCORECARD_QUERIES):
        r = client.get(url("scorecard", period_pk=data["in"]["period"], code="B01"))
    page = body(r)
    assert r.status_code == 200
    assert "支委会记录缺失" in page and "支委会记录本第3页" in page and "缺1次扣2分" in page
    assert "DJ01" in page and "DJ02" in page
    assert page.count('name="score"') == 2 and 'name="all"' in page  # one button per deduction, one for all
    r = client.get(url("scorecard", period_pk=data["in"]["year"], code="B01"))
    assert r.status_code == 200 and "DJ01" in body(r)  # the year shows its quarters' deductions


def test_branch_reads_its_scorecard_without_finding_buttons(client, data, users, django_assert_max_num_queries):
    client.force_login(users[Role.BRANCH_SECRETARY])
    with django_assert_max_num_queries(SCORECARD_QUERIES):
        r = client.get(url("scorecard", period_pk=data["in"]["period"], code="B01"))
    assert r.status_code == 200 and "支委会记录缺失" in body(r)
    assert 'name="score"' not in body(r)
    assert client.get(url("scorecard", period_pk=data["in"]["period"], code="B02")).status_code == 404


def test_scorecard_lists_what_to_fix_next(client, data, tree, users):
    staff = data["staff"]
    period = Period.objects.select_related("plan", "scheme").get(pk=data["in"]["period"])
    result = Result.objects.get(period=period, unit=tree.b01)
    card = stats.scorecard(staff, period, result)
    assert [f.item.code for f in card.fix_next] == ["DJ02", "DJ01"]  # 5 points, then 4
    assert card.fix_next[0].lost == Decimal(5) and card.fix_next[1].lost == Decimal(4)
    assert [c.category.code for c in card.categories] == ["DJ", "XC"]  # the veto category has no points
    assert card.unraised == 2 and card.can_raise


# ---- dashboard -----------------------------------------------------------------------------------

def test_dashboard_draws_its_charts_in_bounded_queries(client, data, users, django_assert_max_num_queries):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(25):
        r = client.get(url("dashboard", period_pk=data["in"]["period"]),
                       {"unit": "B02", "models": "B01", "trend": "B01,B02", "heat": "B01,B02"})
    page = body(r)
    assert r.status_code == 200
    assert page.count("<svg") >= 3 and "assess-chart histogram" in page and "assess-chart heat" in page
    assert "DJ02" in page  # most-deducted items
    assert "第三党支部" not in page


def test_dashboard_names_codes_it_cannot_find(english, data, users):
    english.force_login(users[Role.COMMITTEE_SECRETARY])
    r = english.get(url("dashboard", period_pk=data["in"]["period"]), {"unit": "B03", "models": "NOPE"})
    page = body(r)
    assert r.status_code == 200 and "Not found among your units in this period" in page
    assert "B03" in page and "NOPE" in page and "第三党支部" not in page


def test_branch_dashboard_shows_only_its_own_unit(client, data, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(url("dashboard", period_pk=data["in"]["period"]))
    assert r.status_code == 200 and "第一党支部" in body(r) and "第二党支部" not in body(r)


def test_chart_helpers():
    svg = charts.histogram([("0–10", 0), ("10–20", 3)], "t")
    assert svg.startswith("<svg") and ">3<" in svg
    assert charts.heat_colour(1.0) == "#2e7d32" and charts.heat_colour(0.0) == "#b71c1c"
    assert charts.heat_colour(None) == "#eef0f3"
    lines = charts.line_chart(["Q1", "Q2"], charts.colour_series([charts.Series("<b>", [80, None])]), "t")
    assert "&lt;b&gt;" in lines and "<b>" not in lines


# ---- stars ---------------------------------------------------------------------------------------

def test_star_ratings_page_and_the_public_notice(client, english, data, users):
    plan = data["in"]["plan"]
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(url("stars", plan_pk=plan))
    assert r.status_code == 200 and "第一党支部" not in body(r)  # proposed ratings are not public yet
    assert client.post(url("stars_publicise", plan_pk=plan), {"days": "5"}).status_code == 403
    english.force_login(users[Role.COMMITTEE_ADMIN])
    r = english.get(url("stars", plan_pk=plan))
    assert "第一党支部" in body(r) and "第二党支部" in body(r)
    # bad input: no days, or 0 days → the message, nothing changes
    for days in ("", "0"):
        r = english.post(url("stars_publicise", plan_pk=plan), {"days": days}, follow=True)
        assert StarRating.objects.filter(plan_id=plan, status=StarStatus.PROPOSED).count() == 2
        assert "Ensure this value is greater than or equal to 1" in body(r) or "This field is required" in body(r)
    english.post(url("stars_publicise", plan_pk=plan), {"days": "5"})
    assert StarRating.objects.filter(plan_id=plan, status=StarStatus.PUBLICISED).count() == 2
    r = english.post(url("stars_confirm", plan_pk=plan), follow=True)
    assert "confirm the ratings after it ends" in body(r)
    assert not StarRating.objects.filter(plan_id=plan, status=StarStatus.CONFIRMED).exists()
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert "第一党支部" in body(client.get(url("stars", plan_pk=plan)))  # now on public notice


def test_confirm_after_the_notice(client, data, users):
    from pbqms.core import clock

    plan = data["in"]["plan"]
    client.force_login(users[Role.COMMITTEE_ADMIN])
    client.post(url("stars_publicise", plan_pk=plan), {"days": "1"})
    import datetime as dt

    with clock.as_of(clock.today() + dt.timedelta(days=2)):
        client.post(url("stars_confirm", plan_pk=plan))
    assert StarRating.objects.filter(plan_id=plan, status=StarStatus.CONFIRMED).count() == 2


def test_changing_a_rating_needs_a_reason(english, data, users, tree):
    rating = StarRating.objects.get(plan_id=data["in"]["plan"], unit=tree.b02)
    english.force_login(users[Role.COMMITTEE_ADMIN])
    r = english.post(url("star_rating", rating_pk=rating.pk), {"stars": "1", "reason": "  "})
    assert r.status_code == 200 and "This field is required" in body(r)
    rating.refresh_from_db()
    assert rating.changes.count() == 1
    r = english.post(url("star_rating", rating_pk=rating.pk), {"stars": "9", "reason": "x"})
    assert "Select a valid choice" in body(r)
    english.post(url("star_rating", rating_pk=rating.pk), {"stars": "1", "reason": "发生违纪问题"})
    rating.refresh_from_db()
    assert rating.stars == 1 and rating.changes.last().reason == "发生违纪问题"
    assert StarChange.objects.filter(rating=rating).count() == 2
    english.force_login(users[Role.BRANCH_SECRETARY])
    rating.status = StarStatus.PUBLICISED
    rating.save()
    r = english.get(url("star_rating", rating_pk=rating.pk))
    assert r.status_code == 404  # B02 is outside the B01 secretary's scope
    english.force_login(users[Role.DEPARTMENT_STAFF])
    assert english.get(url("star_rating", rating_pk=rating.pk)).status_code == 200


# ---- linkage -------------------------------------------------------------------------------------

def _rows_post(rows):
    out = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0"}
    for i, (stars, total, sec, com) in enumerate(rows):
        out.update({f"rows-{i}-stars": stars, f"rows-{i}-min_total": total, f"rows-{i}-secretary": sec,
                    f"rows-{i}-committee": com})
    return out


@pytest.mark.parametrize("rows, message", [
    ([("5", "90", "1.2", "1.1")], "give either the stars or the minimum total, not both"),
    ([("", "", "1.2", "1.1")], "give the stars or the minimum total"),
    ([("7", "", "1.2", "1.1")], "stars run from 0 to 5"),
    ([("", "abc", "1.2", "1.1")], "enter numbers only"),
    ([("", "500", "1.2", "1.1")], "the total lies between 0 and"),
    ([("5", "", "", "1.1")], "give both coefficients"),
    ([("5", "", "12", "1.1")], "a coefficient lies between 0 and 10"),
    ([("5", "", "1.2", "1.1"), ("", "90", "1.0", "1.0")], "Use one basis for the whole table"),
    ([("5", "", "1.2", "1.1"), ("5", "", "1.0", "1.0")], "Two rows give the same stars"),
    ([("", "", "", "")], "Enter at least one row"),
])
def test_linkage_table_refuses_bad_rows(english, data, users, rows, message):
    plan = data["in"]["plan"]
    before = list(LinkageRow.objects.filter(plan_id=plan).values_list())
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.post(url("linkage", plan_pk=plan), _rows_post(rows))
    assert r.status_code == 200 and message in body(r)
    assert list(LinkageRow.objects.filter(plan_id=plan).values_list()) == before


def test_linkage_table_saves_with_an_audit_entry(client, data, users):
    plan = data["in"]["plan"]
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.post(url("linkage", plan_pk=plan), _rows_post([("", "90", "1.2", "1.1"), ("", "60", "1.0", "0.95"),
                                                             ("", "", "", "")]))
    assert r.status_code == 302
    rows = list(LinkageRow.objects.filter(plan_id=plan).order_by("-min_total"))
    assert [(r.min_total, r.secretary_coefficient) for r in rows] == [(Decimal(90), Decimal("1.2")),
                                                                       (Decimal(60), Decimal("1.0"))]
    entry = AuditEntry.objects.filter(model="assessment.plan", action=AuditAction.UPDATE).latest("id")
    assert "≥90" in str(entry.changes["linkage"][1])


def test_linkage_is_the_managers(client, data, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("linkage", plan_pk=data["in"]["plan"])).status_code == 403
    assert client.get(url("linkage_xlsx", plan_pk=data["in"]["plan"])).status_code == 403
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert client.get(url("linkage", plan_pk=data["out"]["plan"])).status_code == 404


def test_linkage_export_gives_each_committee_member_a_coefficient(client, data, tree, users):
    from openpyxl import load_workbook

    year = Period.objects.get(pk=data["in"]["year"])
    members.assign_committee_role(None, tree.m01, tree.b01, "secretary", started_on=year.starts_on)
    deputy = members.create_member(None, unit=tree.b01, name="钱七", gender="F", status="full")
    members.assign_committee_role(None, deputy, tree.b01, "organisation", started_on=year.starts_on)
    stars = dict(StarRating.objects.filter(plan_id=data["in"]["plan"]).values_list("unit__code", "stars"))
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("linkage_xlsx", plan_pk=data["in"]["plan"]))
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    by_name = {row[8]: row for row in rows[1:] if row[8]}
    expected = {5: (1.2, 1.1), 3: (1.1, 1.0), 1: (1.0, 0.9)}[stars["B01"]] if stars["B01"] in (5, 3, 1) else None
    assert by_name["张三"][10] == expected[0] and by_name["钱七"][10] == expected[1]
    assert any(row[2] == "第二党支部" and row[8] in ("", None) for row in rows[1:])  # no posts on record
    assert not any(row[2] == "第三党支部" for row in rows)
    assert AuditEntry.objects.filter(model="assessment.plan", action=AuditAction.EXPORT).exists()


def test_coefficients_by_stars_and_by_total():
    rows = [LinkageRow(stars=5, secretary_coefficient=Decimal("1.3"), committee_coefficient=Decimal("1.2")),
            LinkageRow(stars=3, secretary_coefficient=Decimal("1.1"), committee_coefficient=Decimal("1.0"))]
    assert linkage.coefficients(rows, stars=4, total=None) == (Decimal("1.1"), Decimal("1.0"))
    assert linkage.coefficients(rows, stars=2, total=None) is None
    bands = [LinkageRow(min_total=Decimal(90), secretary_coefficient=Decimal("1.2"), committee_coefficient=Decimal(1)),
             LinkageRow(min_total=Decimal(60), secretary_coefficient=Decimal("1"), committee_coefficient=Decimal(1))]
    assert linkage.coefficients(bands, stars=None, total=Decimal("95.5")) == (Decimal("1.2"), Decimal(1))
    assert linkage.coefficients(bands, stars=None, total=Decimal("59.99")) is None


def test_results_home_lists_readable_periods(client, data, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(url("results_home"))
    assert r.status_code == 200 and f"{W.YEAR}Q1" in body(r) and W.OUTSIDE_SCHEME not in body(r)
    assert Member.objects.exists()


def test_dashboard_of_a_user_without_results(client, data, users):
    client.force_login(users[Role.GROUP_LEADER])  # reads the period (its committee's), no unit result
    r = client.get(url("dashboard", period_pk=data["in"]["period"]))
    assert r.status_code == 200 and "第一党支部" not in body(r) and "ar-bench" not in body(r)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BRANCH_COMMITTEE, Role.COMMITTEE_SECRETARY])
def test_year_scorecard_in_bounded_queries(client, data, users, role, django_assert_max_num_queries):
    client.force_login(users[role])
    with django_assert_max_num_queries(SCORECARD_QUERIES):
        r = client.get(url("scorecard", period_pk=data["in"]["year"], code="B01"))
    assert r.status_code == 200 and "DJ01" in body(r)


def test_bulletin_page_in_bounded_queries(client, data, users, django_assert_max_num_queries):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(20):
        assert client.get(reverse("assessment:bulletin", kwargs={"period_pk": data["in"]["period"]})).status_code == 200
