"""The assessment API (/api/v1/assessment): schemes, plans, periods, sheets, results and stars — each
through HTTP as the roles that use it, refusals with their status and message, nothing changed."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services, xlsx
from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.models import (
    Period,
    PeriodStatus,
    PeriodStep,
    Result,
    Scheme,
    SchemeItem,
    Score,
    Sheet,
    SheetKind,
    StarRating,
    StarStatus,
)
from pbqms.assessment.tests.conftest import SMALL, YEAR
from pbqms.audit.models import AuditEntry
from pbqms.core import clock

BASE = "/api/v1/assessment"
FACTS = {"reason": "支委会记录缺失", "standard_applied": "缺1次扣2分", "evidence_ref": "支委会记录本第3页"}
FULL = [{"item": "DJ01", "occurrences": 0}, {"item": "DJ02", "level": "好"}, {"item": "DJ03", "measured": 100},
        {"item": "XC01", "yes": True}]


class Api:
    """A client calling the API with one user's bearer token."""

    def __init__(self, client, user):  # type: ignore[no-untyped-def]
        self.client = client
        self.headers = {"Authorization": f"Bearer {accounts.issue_token(user)}"}

    def get(self, path: str, **query):  # type: ignore[no-untyped-def]
        return self.client.get(BASE + path, query, headers=self.headers)

    def send(self, method: str, path: str, body=None):  # type: ignore[no-untyped-def]
        return self.client.generic(method, BASE + path, json.dumps(body or {}), content_type="application/json",
                                   headers=self.headers)

    def post(self, path: str, body=None):  # type: ignore[no-untyped-def]
        return self.send("POST", path, body)

    def put(self, path: str, body=None):  # type: ignore[no-untyped-def]
        return self.send("PUT", path, body)

    def upload(self, path: str, data: bytes | None):  # type: ignore[no-untyped-def]
        files = {"file": io.BytesIO(data)} if data is not None else {}
        if data is not None:
            files["file"].name = "scheme.xlsx"  # type: ignore[attr-defined]
        return self.client.post(BASE + path, files, headers=self.headers)


@pytest.fixture
def api(english, users):  # type: ignore[no-untyped-def]
    """role → Api, in English (messages asserted in English; the catalogue is built at the end)."""
    return {role: Api(english, user) for role, user in users.items()}


@pytest.fixture
def staff(api):  # type: ignore[no-untyped-def]
    return api[Role.DEPARTMENT_STAFF]


def state() -> tuple:
    return (Scheme.objects.count(), SchemeItem.objects.count(), Sheet.objects.count(),
            sorted(Score.objects.values_list("pk", "points", "version")), PeriodStep.objects.count(),
            Result.objects.count(), sorted(StarRating.objects.values_list("pk", "stars", "status")),
            AuditEntry.objects.count())


def to_scoring(setup, admin, key: str = "2026Q1") -> Period:  # type: ignore[no-untyped-def]
    period = setup.period(key)
    services.move_period(admin, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    return period


# ---- the OpenAPI document ---------------------------------------------------------------------------

def test_openapi_document_lists_the_assessment_api(client, admin_user):
    client.force_login(admin_user)
    doc = client.get("/api/v1/openapi.json").json()
    ops = {op["operationId"] for path, methods in doc["paths"].items() if path.startswith("/api/v1/assessment")
           for op in methods.values()}
    assert ops == {
        "assess_schemes_list", "assess_schemes_create", "assess_schemes_import", "assess_schemes_get",
        "assess_schemes_publish", "assess_schemes_copy", "assess_schemes_diff", "assess_schemes_export",
        "assess_plans_list", "assess_plans_create", "assess_plans_get", "assess_periods_get", "assess_periods_move",
        "assess_periods_compute", "assess_sheets_open", "assess_sheets_get", "assess_sheets_save",
        "assess_sheets_submit", "assess_results_list", "assess_results_scorecard", "assess_stars_list",
        "assess_stars_publicise", "assess_stars_confirm", "assess_stars_change",
        # everything else the web UI does (test_api_more.py)
        "assess_items_create", "assess_items_update", "assess_items_delete", "assess_periods_panel",
        "assess_periods_analysis", "assess_sheets_withdraw", "assess_results_member_scorecard",
        "assess_results_findings", "assess_bulletin_docx", "assess_bulletin_pdf", "assess_bulletin_build",
        "assess_bulletin_files", "assess_linkage_get", "assess_linkage_save", "assess_linkage_export"}
    names = set(doc["components"]["schemas"])
    assert {"SchemeDetail", "ItemOut", "PlanDetail", "PeriodDetail", "SheetOut", "ScoreIn", "ScoresIn",
            "ResultList", "ScorecardOut", "StarRatingOut", "ImportErrorOut"} <= names
    save = doc["paths"]["/api/v1/assessment/sheets/{id}/scores"]["put"]["responses"]
    assert "409" in save and "422" in save
    export = doc["paths"]["/api/v1/assessment/schemes/{id}/xlsx"]["get"]["responses"]["200"]
    assert xlsx.XLSX_TYPE in export["content"]
    docx = doc["paths"]["/api/v1/assessment/periods/{id}/bulletin.docx"]["get"]["responses"]["200"]
    assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in docx["content"]
    assert "202" in doc["paths"]["/api/v1/assessment/periods/{id}/bulletin/build"]["post"]["responses"]


# ---- schemes ----------------------------------------------------------------------------------------

def test_create_from_fixture_read_and_list(tree, api, staff):
    r = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "fixture": "liukao"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "draft" and body["owner"] == {"code": "SUB1", "name": "一矿党委"}
    assert [c["code"] for c in body["categories"]] == [c["code"] for c in SCHEMES["liukao"]["categories"]]
    assert sum(len(c["items"]) for c in body["categories"]) == 74 and body["indicator_total"] == "100.00"
    dj06 = next(i for i in body["categories"][0]["items"] if i["code"] == "DJ06")
    assert dj06["method"] == "graded" and dj06["levels"][0] == ["好", "2"]
    assert len(body["stars"]) == 5
    got = staff.get(f"/schemes/{body['id']}").json()
    assert got["name"] == SCHEMES["liukao"]["name"]
    # a draft is read by those who manage it only
    assert api[Role.BRANCH_SECRETARY].get(f"/schemes/{body['id']}").status_code == 404
    listed = staff.get("/schemes", year=YEAR, status="draft").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    assert api[Role.BRANCH_SECRETARY].get("/schemes").json()["count"] == 0


def test_create_refusals_change_nothing(tree, api, staff):
    before = state()
    r = api[Role.BRANCH_SECRETARY].post("/schemes", {"owner": "B01", "year": YEAR, "fixture": "liukao"})
    assert r.status_code == 403
    assert staff.post("/schemes", {"owner": "SUB2", "year": YEAR, "fixture": "liukao"}).status_code == 404
    r = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "fixture": "nope"})
    assert r.status_code == 422 and "nope" in r.json()["detail"] and "liukao" in r.json()["detail"]
    r = staff.post("/schemes", {"owner": "SUB1", "year": YEAR})
    assert r.status_code == 422 and "data" in r.json()["detail"]
    bad = copy.deepcopy(SMALL)
    bad["categories"][0]["items"][0]["standard"] = ""
    bad["categories"][0]["items"][1]["kind"] = "important"
    r = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": bad})
    assert r.status_code == 422
    assert "item DJ01: The item has no content and standard." in r.json()["detail"]
    assert "item DJ02: Unknown kind “important”." in r.json()["detail"]
    r = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": {"name": "x", "categories": "DJ"}})
    assert r.status_code == 422
    assert state() == before


def test_publish_checks_the_points_and_locks(tree, staff, api):
    short = copy.deepcopy(SMALL)
    short["categories"][0]["items"][0]["max_points"] = "30"  # indicators add up to 90
    sid = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": short}).json()["id"]
    before = state()
    r = staff.post(f"/schemes/{sid}/publish")
    assert r.status_code == 422 and "add up to 90" in r.json()["detail"]
    assert api[Role.BRANCH_SECRETARY].post(f"/schemes/{sid}/publish").status_code == 404  # a draft: unseen
    assert api[Role.INTERNAL_AUDITOR].post(f"/schemes/{sid}/publish").status_code == 404
    assert state() == before
    good = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": SMALL}).json()["id"]
    r = staff.post(f"/schemes/{good}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["published_at"]
    assert api[Role.BRANCH_SECRETARY].get(f"/schemes/{good}").status_code == 200  # published: readable below
    r = staff.post(f"/schemes/{good}/publish")
    assert r.status_code == 422 and "already published" in r.json()["detail"]


def test_copy_and_diff(tree, admin_user, staff, setup):
    r = staff.post(f"/schemes/{setup.scheme.pk}/copy", {"year": YEAR + 1})
    assert r.status_code == 201
    new = r.json()
    assert new["year"] == YEAR + 1 and new["copied_from_id"] == setup.scheme.pk and new["status"] == "draft"
    copy_ = Scheme.objects.get(pk=new["id"])
    items = schemes.items_by_code(copy_)
    schemes.save_item(admin_user, copy_, {"max_points": "30", "deduct_per": "3"}, item=items["DJ01"])
    schemes.delete_item(admin_user, items["XC02"])
    diff = staff.get(f"/schemes/{new['id']}/diff").json()
    assert diff["base"]["id"] == setup.scheme.pk
    changes = {c["code"]: c for c in diff["changes"]}
    assert changes["XC02"]["change"] == "removed"
    assert changes["DJ01"]["change"] == "changed"
    assert {f["field"]: (f["before"], f["after"]) for f in changes["DJ01"]["fields"]} == {
        "maximum points": ("40", "30"), "points per occurrence": ("2", "3")}
    explicit = staff.get(f"/schemes/{setup.scheme.pk}/diff", base=new["id"]).json()
    assert {c["code"]: c["change"] for c in explicit["changes"]}["XC02"] == "added"
    r = staff.get(f"/schemes/{setup.scheme.pk}/diff")
    assert r.status_code == 422 and "earlier version" in r.json()["detail"]


def test_export_and_import_xlsx(tree, staff, api, setup):
    r = staff.get(f"/schemes/{setup.scheme.pk}/xlsx")
    assert r.status_code == 200 and r["Content-Type"] == xlsx.XLSX_TYPE
    assert "attachment" in r["Content-Disposition"] and ".xlsx" in r["Content-Disposition"]
    data = r.content
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Items", "Star levels", "About"]  # the caller's language
    r = staff.upload(f"/schemes/import?owner=SUB1&year={YEAR + 1}", data)
    assert r.status_code == 201, r.content
    imported = Scheme.objects.get(pk=r.json()["id"])
    assert imported.year == YEAR + 1 and imported.status == "draft"
    assert schemes.scheme_data(imported) == schemes.scheme_data(setup.scheme)
    # branches read the published scheme and export it too
    assert api[Role.BRANCH_SECRETARY].get(f"/schemes/{setup.scheme.pk}/xlsx").status_code == 200


def test_import_refusals_change_nothing(tree, staff, api, setup):
    data = staff.get(f"/schemes/{setup.scheme.pk}/xlsx").content
    wb = load_workbook(io.BytesIO(data))
    wb["Items"].cell(2, 7).value = "important"
    wb["Items"].cell(3, 6).value = "twenty"
    buf = io.BytesIO()
    wb.save(buf)
    before = state()
    r = staff.upload(f"/schemes/import?owner=SUB1&year={YEAR}", buf.getvalue())
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "2 problems found; nothing was imported."
    assert body["errors"] == [{"where": "row 2", "message": "Unknown kind “important”."},
                              {"where": "row 3", "message": "Maximum points must be a number."}]
    r = staff.upload(f"/schemes/import?owner=SUB1&year={YEAR}", b"not a workbook")
    assert r.status_code == 422 and r.json()["errors"][0]["where"] == "file"
    r = staff.upload(f"/schemes/import?owner=SUB1&year={YEAR}", None)
    assert r.status_code == 422 and "file" in r.json()["detail"]
    assert api[Role.BRANCH_SECRETARY].upload(f"/schemes/import?owner=B01&year={YEAR}", data).status_code == 403
    assert staff.upload(f"/schemes/import?owner=SUB2&year={YEAR}", data).status_code == 404
    assert state() == before


# ---- plans and periods ---------------------------------------------------------------------------------

def test_plan_create_and_read(tree, staff, api):
    sid = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": SMALL}).json()["id"]
    r = staff.post("/plans", {"scheme": sid})
    assert r.status_code == 422 and "Publish the scheme" in r.json()["detail"]
    staff.post(f"/schemes/{sid}/publish")
    r = staff.post("/plans", {"scheme": sid, "quarter_weight": 60, "annual_weight": 30})
    assert r.status_code == 422 and "add up to 100" in r.json()["detail"]
    assert api[Role.BRANCH_SECRETARY].post("/plans", {"scheme": sid}).status_code == 403
    r = staff.post("/plans", {"scheme": sid, "quarter_weight": 60, "annual_weight": 40, "panel_rule": "lead"})
    assert r.status_code == 201
    plan = r.json()
    assert plan["panel_rule"] == "lead" and plan["quarter_weight"] == "60.00"
    keys = [p["key"] for p in plan["periods"]]
    assert len(keys) == 19 and "2026-01" in keys and "2026Q3" in keys and "2026H1" in keys and "2026" in keys
    # the cadence is read by the branches judged by it
    got = api[Role.BRANCH_SECRETARY].get(f"/plans/{plan['id']}")
    assert got.status_code == 200 and len(got.json()["periods"]) == 19
    assert api[Role.MEMBER].get("/plans", year=YEAR).json()["count"] == 1


def test_period_moves_and_compute(tree, staff, api, setup):
    period = setup.period("2026Q1")
    r = staff.post(f"/periods/{period.pk}/move", {"to": "scoring"})
    assert r.status_code == 200 and r.json()["status"] == "scoring"
    assert r.json()["steps"][0]["from_status"] == "open" and r.json()["steps"][0]["to_status"] == "scoring"
    before = state()
    r = staff.post(f"/periods/{period.pk}/move", {"to": "open"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = staff.post(f"/periods/{period.pk}/move", {"to": "published"})
    assert r.status_code == 422 and "one step at a time" in r.json()["detail"]
    r = api[Role.BRANCH_SECRETARY].post(f"/periods/{period.pk}/move", {"to": "review"})
    assert r.status_code == 403
    r = staff.post(f"/periods/{period.pk}/move", {"to": "nowhere"})
    assert r.status_code == 422
    assert state() == before
    r = staff.post(f"/periods/{period.pk}/move", {"to": "open", "reason": "补充自查"})
    assert r.status_code == 200 and r.json()["steps"][-1]["reason"] == "补充自查"
    assert api[Role.MEMBER].get(f"/periods/{period.pk}").status_code == 200
    r = staff.post(f"/periods/{period.pk}/compute")
    assert r.status_code == 200 and r.json()["results"] == 0 and r.json()["period"] == "2026Q1"
    assert api[Role.BRANCH_SECRETARY].post(f"/periods/{period.pk}/compute").status_code == 403


# ---- sheets and scores ---------------------------------------------------------------------------------

def test_assessor_scores_with_five_facts_and_submits(tree, staff, api, setup, admin_user):
    period = to_scoring(setup, admin_user)
    r = staff.post("/sheets", {"period": period.pk, "unit": "B01", "kind": "assessor"})
    assert r.status_code == 200, r.content
    sheet = r.json()
    assert sheet["unit"]["code"] == "B01" and sheet["kind"] == "assessor" and sheet["status"] == "draft"
    assert [row["item"] for row in sheet["rows"]] == ["DJ01", "DJ02", "DJ03", "XC01", "FJ01", "FJ02", "JK01",
                                                      "JK02"]
    again = staff.post("/sheets", {"period": period.pk, "unit": "B01", "kind": "assessor"}).json()
    assert again["id"] == sheet["id"]
    sid = sheet["id"]
    before = state()
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ01", "occurrences": 2}]})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "DJ01" in detail and "the reason" in detail and "the standard applied" in detail and "evidence" in detail
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "points": 25},
                                                        {"item": "ZZ99", "points": 1}]})
    assert r.status_code == 422 and "ZZ99" in r.json()["detail"]
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "points": 25}]})
    assert r.status_code == 422 and "between 0 and 20" in r.json()["detail"]
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "XC02", "yes": True}]})
    assert r.status_code == 422 and "not scored in this period" in r.json()["detail"]
    r = staff.post(f"/sheets/{sid}/submit")
    assert r.status_code == 422 and "DJ01" in r.json()["detail"]
    assert state() == before
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{**FULL[0], "occurrences": 2, **FACTS}, *FULL[1:]]})
    assert r.status_code == 200, r.content
    rows = {row["item"]: row for row in r.json()["rows"]}
    assert rows["DJ01"]["score"]["points"] == "36.00" and rows["DJ01"]["score"]["deducted"]
    assert rows["DJ01"]["score"]["reason"] == FACTS["reason"] and rows["DJ01"]["score"]["version"] == 1
    assert r.json()["total"] == "86.00" and r.json()["scored"] == 4
    r = staff.post(f"/sheets/{sid}/submit", {"summary": "总体较好"})
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["summary"] == "总体较好"
    r = staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "差", "version": 1, **FACTS}]})
    assert r.status_code == 422 and "submitted" in r.json()["detail"]
    # the branch reads its assessment, with its own self-check beside (none yet)
    got = api[Role.BRANCH_SECRETARY].get(f"/sheets/{sid}")
    assert got.status_code == 200 and got.json()["rows"][0]["self_score"] is None
    assert api[Role.GROUP_LEADER].get(f"/sheets/{sid}").status_code == 404


def test_second_save_over_a_newer_score_is_a_conflict(tree, admin_user, setup, english):
    period = to_scoring(setup, admin_user)
    a = accounts.create_user(None, username="assessor_a", password="x-Secret-123456", validate=False)
    b = accounts.create_user(None, username="assessor_b", password="x-Secret-123456", validate=False)
    for u in (a, b):
        accounts.grant_role(None, u, Role.DEPARTMENT_STAFF, tree.sub1)
    api_a, api_b = Api(english, a), Api(english, b)
    sid = api_a.post("/sheets", {"period": period.pk, "unit": "B02", "kind": "assessor"}).json()["id"]
    assert api_b.post("/sheets", {"period": period.pk, "unit": "B02", "kind": "assessor"}).json()["id"] == sid
    r = api_a.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "好"}]})
    assert r.status_code == 200
    before = state()
    r = api_b.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "一般", **FACTS, "version": 0},
                                                        {"item": "XC01", "yes": True}]})
    assert r.status_code == 409
    assert "DJ02" in r.json()["detail"] and "assessor_a" in r.json()["detail"] and "not saved" in r.json()["detail"]
    assert state() == before  # XC01 was not saved either
    version = next(row for row in api_b.get(f"/sheets/{sid}").json()["rows"] if row["item"] == "DJ02")["score"]
    r = api_b.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "一般", **FACTS,
                                                         "version": version["version"]}]})
    assert r.status_code == 200
    assert Score.objects.get(sheet_id=sid, item__code="DJ02").level == "一般"


def test_self_check_own_unit_and_rights(tree, admin_user, api, setup, english):
    period = setup.period("2026Q1")  # open: self-checks only
    sec = api[Role.BRANCH_SECRETARY]
    r = sec.post("/sheets", {"period": period.pk, "unit": "B01", "kind": "self"})
    assert r.status_code == 200 and r.json()["kind"] == "self"
    sid = r.json()["id"]
    r = sec.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ01", "occurrences": 1}]})
    assert r.status_code == 422 and "the reason" in r.json()["detail"]
    r = sec.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ01", "occurrences": 1, "reason": "缺1次支委会"}]})
    assert r.status_code == 200
    before = state()
    r = sec.post("/sheets", {"period": period.pk, "unit": "B01", "kind": "assessor"})
    assert r.status_code == 422 and "scoring" in r.json()["detail"]  # assessors wait for scoring
    assert sec.post("/sheets", {"period": period.pk, "unit": "B03", "kind": "self"}).status_code == 404
    assert sec.post("/sheets", {"period": period.pk, "unit": "B02", "kind": "self"}).status_code == 404
    r = api[Role.MEMBER].put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "好"}]})
    assert r.status_code == 403
    r = sec.post("/sheets", {"period": period.pk, "kind": "self"})
    assert r.status_code == 422 and "unit" in r.json()["detail"]
    # nobody scores their own unit: a department member who also sits on B01's committee
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    both = accounts.create_user(None, username="staff_b01", password="x-Secret-123456", validate=False)
    accounts.grant_role(None, both, Role.DEPARTMENT_STAFF, tree.sub1)
    accounts.grant_role(None, both, Role.BRANCH_COMMITTEE, tree.b01)
    before = state()
    r = Api(english, both).post("/sheets", {"period": period.pk, "unit": "B01", "kind": "assessor"})
    assert r.status_code == 422 and "own unit" in r.json()["detail"]
    assert state() == before


# ---- results ------------------------------------------------------------------------------------------

def _assess(staff_api, period, unit: str, entries: list[dict]) -> None:  # type: ignore[no-untyped-def]
    sid = staff_api.post("/sheets", {"period": period.pk, "unit": unit, "kind": "assessor"}).json()["id"]
    assert staff_api.put(f"/sheets/{sid}/scores", {"entries": entries}).status_code == 200
    assert staff_api.post(f"/sheets/{sid}/submit").status_code == 200


def _publish(staff_api, period) -> None:  # type: ignore[no-untyped-def]
    for to in ("review", "published"):
        assert staff_api.post(f"/periods/{period.pk}/move", {"to": to}).status_code == 200


def test_ranking_and_scorecard(tree, admin_user, staff, api, setup):
    period = to_scoring(setup, admin_user)
    _assess(staff, period, "B01", [{**FULL[0], "occurrences": 2, **FACTS}, *FULL[1:],
                                   {"item": "JK01", "occurrences": 1}])
    _assess(staff, period, "B02", [*FULL[:1], {"item": "DJ02", "level": "一般", **FACTS}, *FULL[2:]])
    assert staff.post(f"/periods/{period.pk}/move", {"to": "review"}).status_code == 200
    # not yet published: the committee checks the results; branches may not see them
    r = staff.post(f"/periods/{period.pk}/compute")
    assert r.status_code == 200 and r.json()["results"] == 2
    assert api[Role.BRANCH_SECRETARY].get(f"/periods/{period.pk}/results").status_code == 403
    assert staff.post(f"/periods/{period.pk}/move", {"to": "published"}).status_code == 200
    r = staff.get(f"/periods/{period.pk}/results")
    assert r.status_code == 200
    ranking = r.json()
    assert ranking["count"] == 2 and ranking["period"]["status"] == "published"
    assert [(i["unit"]["code"], i["total"], i["rank"]) for i in ranking["items"]] == [
        ("B01", "97.56", 1), ("B02", "88.89", 2)]  # 86 (+ 2) and 80 of the quarter’s 90 points, on 100
    first_page = staff.get(f"/periods/{period.pk}/results", limit=1, offset=1).json()
    assert first_page["count"] == 2 and [i["unit"]["code"] for i in first_page["items"]] == ["B02"]
    assert api[Role.BRANCH_SECRETARY].get(f"/periods/{period.pk}/results").json()["count"] == 1
    card = staff.get(f"/periods/{period.pk}/units/B01/scorecard")
    assert card.status_code == 200
    body = card.json()
    assert body["result"]["total"] == "97.56" and body["result"]["bonus"] == "2.00"
    assert Decimal({c["code"]: c["points"] for c in body["categories"]}["DJ"]) == 66
    assert [d["item"] for d in body["deductions"]] == ["DJ01"]
    assert body["deductions"][0]["reason"] == FACTS["reason"] and body["deductions"][0]["lost"] == "4.00"
    assert api[Role.MEMBER].get(f"/periods/{period.pk}/units/B01/scorecard").status_code == 200
    assert api[Role.BRANCH_SECRETARY].get(f"/periods/{period.pk}/units/B02/scorecard").status_code == 404
    assert staff.get(f"/periods/{period.pk}/units/B03/scorecard").status_code == 404
    # change since the last quarter
    q2 = to_scoring(setup, admin_user, "2026Q2")
    _assess(staff, q2, "B01", FULL)
    _publish(staff, q2)
    card = staff.get(f"/periods/{q2.pk}/units/B01/scorecard").json()
    assert card["result"]["total"] == "100.00" and card["result"]["previous_total"] == "97.56"
    assert card["result"]["change"] == "2.44"
    # published results are locked
    before = state()
    r = staff.post(f"/periods/{q2.pk}/compute")
    assert r.status_code == 422 and "locked" in r.json()["detail"]
    assert state() == before


# ---- star ratings -----------------------------------------------------------------------------------------

def test_star_ratings_publicise_confirm_change(tree, admin_user, staff, api, setup):
    q1 = to_scoring(setup, admin_user)
    _assess(staff, q1, "B01", FULL)
    _assess(staff, q1, "B02", [*FULL[:1], {"item": "DJ02", "level": "差", **FACTS}, *FULL[2:]])
    _publish(staff, q1)
    year = to_scoring(setup, admin_user, "2026")
    for code in ("B01", "B02"):
        _assess(staff, year, code, [{"item": "XC02", "yes": True}])
    _publish(staff, year)
    plan = setup.plan.pk
    listed = staff.get(f"/plans/{plan}/stars").json()
    assert listed["count"] == 2 and {r["status"] for r in listed["items"]} == {"proposed"}
    assert api[Role.BRANCH_SECRETARY].get(f"/plans/{plan}/stars").json()["count"] == 0  # proposals: managers'
    before = state()
    assert api[Role.BRANCH_SECRETARY].post(f"/plans/{plan}/stars/publicise", {"days": 5}).status_code == 403
    r = staff.post(f"/plans/{plan}/stars/publicise", {"days": 0})
    assert r.status_code == 422 and "at least one day" in r.json()["detail"]
    assert state() == before
    r = staff.post(f"/plans/{plan}/stars/publicise", {"days": 5})
    assert r.status_code == 200 and r.json() == {"count": 2}
    on_notice = api[Role.BRANCH_SECRETARY].get(f"/plans/{plan}/stars").json()
    assert on_notice["count"] == 1 and on_notice["items"][0]["status"] == "publicised"
    assert on_notice["items"][0]["unit"]["code"] == "B01"
    r = staff.post(f"/plans/{plan}/stars/confirm")
    assert r.status_code == 422 and "public notice runs until" in r.json()["detail"]
    with clock.as_of(clock.today() + dt.timedelta(days=6)):
        r = staff.post(f"/plans/{plan}/stars/confirm")
    assert r.status_code == 200 and r.json() == {"count": 2}
    rating = StarRating.objects.get(plan=setup.plan, unit=tree.b02)
    assert rating.status == StarStatus.CONFIRMED
    before = state()
    r = staff.post(f"/stars/{rating.pk}/change", {"stars": 1, "reason": ""})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = staff.post(f"/stars/{rating.pk}/change", {"stars": 9, "reason": "调整"})
    assert r.status_code == 422
    r = api[Role.BRANCH_SECRETARY].post(f"/stars/{rating.pk}/change", {"stars": 1, "reason": "调整"})
    assert r.status_code == 404  # B02 lies outside B01's secretary's scope
    assert state() == before
    r = staff.post(f"/stars/{rating.pk}/change", {"stars": 0, "reason": "发生违纪案件，撤销星级"})
    assert r.status_code == 200
    body = r.json()
    assert body["stars"] == 0 and body["status"] == "withdrawn"
    assert any(c["reason"] == "发生违纪案件，撤销星级" and c["to_stars"] == 0 for c in body["changes"])


def test_outside_scope_is_not_found(tree, staff, setup, admin_user):
    other = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub2, YEAR, SMALL))
    plan = services.create_plan(admin_user, other)
    period = Period.objects.get(plan=plan, key="2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    sheet = services.open_sheet(admin_user, period, tree.b03, SheetKind.ASSESSOR)
    before = state()
    for path in (f"/schemes/{other.pk}", f"/schemes/{other.pk}/xlsx", f"/plans/{plan.pk}", f"/periods/{period.pk}",
                 f"/sheets/{sheet.pk}", f"/periods/{period.pk}/results", f"/plans/{plan.pk}/stars",
                 f"/periods/{period.pk}/units/B03/scorecard"):
        assert staff.get(path).status_code == 404, path
    for path, body in ((f"/schemes/{other.pk}/publish", {}), (f"/schemes/{other.pk}/copy", {"year": 2027}),
                       ("/plans", {"scheme": other.pk}), (f"/periods/{period.pk}/move", {"to": "review"}),
                       (f"/periods/{period.pk}/compute", {}), (f"/sheets/{sheet.pk}/submit", {}),
                       ("/sheets", {"period": period.pk, "unit": "B03", "kind": "assessor"}),
                       ("/sheets", {"period": setup.period("2026Q1").pk, "unit": "B03", "kind": "self"}),
                       (f"/plans/{plan.pk}/stars/confirm", {})):
        assert staff.post(path, body).status_code == 404, path
    assert staff.put(f"/sheets/{sheet.pk}/scores", {"entries": []}).status_code == 404
    assert state() == before
