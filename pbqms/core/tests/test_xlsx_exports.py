"""#21.2: user text that looks like a formula comes back from every export as the literal string.

The unit B01 is named "=1+1" and the person m01 "@SUM(A1)" (stored as such: older data, or a
name the product accepts), and the records of each capability carry such text; every export URL
is fetched and each cell holding that text must be a string cell (data_type "s"), never a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.activities import services as activities
from pbqms.activities.models import ActivityKind
from pbqms.core import clock
from pbqms.documents import services as documents
from pbqms.documents.models import Tier
from pbqms.members.models import Member
from pbqms.orgs.models import Unit
from pbqms.rectification import services as rectification

pytestmark = pytest.mark.django_db

EVIL = ("=1+1", "@SUM(A1)", "+1+2", "-2+3", "=HYPERLINK(\"http://x\")")
DAY = dt.date(2026, 5, 12)


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"


@pytest.fixture
def evil(tree, users):
    Unit.objects.filter(pk=tree.b01.pk).update(name="=1+1")
    Member.objects.filter(pk=tree.m01.pk).update(name="@SUM(A1)")
    b01 = Unit.objects.get(pk=tree.b01.pk)
    secretary, staff = users[Role.BRANCH_SECRETARY], users[Role.DEPARTMENT_STAFF]
    with clock.as_of(dt.date(2026, 5, 20)):
        attendance = {m.pk: activities.Presence(True, "") for m in activities.roster_of(b01)}
        activities.record_activity(secretary, activities.RecordInput(
            unit=b01, kind=ActivityKind.BRANCH_ASSEMBLY, held_on=DAY, topic="=HYPERLINK(\"http://x\")",
            attendance=attendance))
        rectification.record_finding(staff, rectification.FindingInput(
            unit=b01, description="+1+2", found_on=DAY, item_code="-2+3", standard="每月召开支委会并记录",
            period=""))
    documents.create_document(users[Role.COMMITTEE_ADMIN], unit=Unit.objects.get(code="SUB1"), tier=Tier.REGULATION,
                              title="=1+1")
    return b01


def cells(content: bytes):  # type: ignore[no-untyped-def]
    wb = load_workbook(io.BytesIO(content))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield c


def fetch(client, user, url: str) -> bytes:  # type: ignore[no-untyped-def]
    client.force_login(user)
    with clock.as_of(dt.date(2026, 5, 20)):
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return b"".join(r.streaming_content) if r.streaming else r.content


EXPORTS = [
    (Role.COMMITTEE_ADMIN, "roster:export", (), ""),
    (Role.COMMITTEE_ADMIN, "roster:export", (), "?unmask=1"),
    (Role.BRANCH_SECRETARY, "activities:records_xlsx", ("B01",), "?year=2026"),
    (Role.BRANCH_SECRETARY, "activities:calendar_xlsx", ("B01",), "?month=2026-05"),
    (Role.COMMITTEE_ADMIN, "activities:heatmap_xlsx", ("SUB1",), "?year=2026"),
    (Role.MEMBER, "activities:my_xlsx", (), "?year=2026"),
    (Role.COMMITTEE_ADMIN, "rectification:ledger_xlsx", ("SUB1",), "?year=2026"),
    (Role.COMMITTEE_ADMIN, "rectification:dashboard_xlsx", ("SUB1",), "?year=2026"),
    (Role.COMMITTEE_ADMIN, "documents:export", (), ""),
    (Role.COMMITTEE_ADMIN, "objectives:dashboard", ("SUB1",), "?year=2026&export=xlsx"),
]


@pytest.mark.parametrize(("role", "name", "args", "query"), EXPORTS, ids=[e[1] + e[3] for e in EXPORTS])
def test_formula_text_comes_back_as_text(client, users, evil, role, name, args, query):
    content = fetch(client, users[role], reverse(name, args=args) + query)
    found = [c for c in cells(content) if isinstance(c.value, str) and c.value.startswith(EVIL)]
    assert found, "the export holds none of the text it should"
    for c in found:
        assert c.data_type == "s", (c.coordinate, c.value, c.data_type)
    assert not [c for c in cells(content) if c.data_type == "f"]


def test_every_writer_path_writes_text_not_formulas():
    """The one writer, whatever way a caller hands it a value: plain, cell, normal or write-only sheet."""
    from pbqms.assessment import bulletin
    from pbqms.core import xlsx

    content = bulletin.xlsx("=1+1", ["=a", "b"], [["=1+1", Decimal("1.5")], ["@SUM(A1)", None]])
    values = {c.value: c.data_type for c in cells(content)}
    assert values["=1+1"] == "s" and values["@SUM(A1)"] == "s" and values["=a"] == "s" and values[1.5] == "n"
    wb = xlsx.Workbook(write_only=False)
    ws = wb.active
    ws.append(["=1+1"])
    ws.cell(row=2, column=1, value="@SUM(A1)")
    ws["A3"] = "=2+2"
    buf = io.BytesIO()
    wb.save(buf)
    assert {c.value: c.data_type for c in cells(buf.getvalue())} == {"=1+1": "s", "@SUM(A1)": "s", "=2+2": "s"}


def test_scheme_export_keeps_formula_text(tree, admin_user):
    from pbqms.assessment import schemes
    from pbqms.assessment import xlsx as scheme_xlsx
    from pbqms.assessment.fixtures import SCHEMES
    from pbqms.assessment.models import Scheme, SchemeItem

    scheme = schemes.load_scheme(admin_user, tree.sub1, 2026, SCHEMES["liukao"])
    Scheme.objects.filter(pk=scheme.pk).update(description="=1+1")
    SchemeItem.objects.filter(pk=SchemeItem.objects.filter(category__scheme=scheme).first().pk).update(
        title="@SUM(A1)")
    scheme.refresh_from_db()
    found = [c for c in cells(scheme_xlsx.export_scheme(scheme)) if c.value in ("=1+1", "@SUM(A1)")]
    assert len(found) == 2 and all(c.data_type == "s" for c in found)


def test_export_names_are_chinese_with_an_ascii_fallback(client, users, evil, english):
    """RFC 6266: filename= (ASCII) and filename*=UTF-8'' (the translated name), for every export."""
    from urllib.parse import quote

    from django.test import Client

    url = reverse("rectification:ledger_xlsx", args=["SUB1"]) + "?year=2026"
    zh = Client()
    zh.force_login(users[Role.COMMITTEE_ADMIN])
    header = zh.get(url)["Content-Disposition"]
    assert header == ("attachment; filename=\"ledger-SUB1-2026.xlsx\"; filename*=UTF-8''"
                      + quote("整改台账-一矿党委-2026.xlsx", safe=""))
    english.force_login(users[Role.COMMITTEE_ADMIN])
    assert "filename*=UTF-8''" + quote("Rectification ledger-一矿党委-2026.xlsx", safe="") in \
        english.get(url)["Content-Disposition"]


def test_assessment_export_names():
    from django.utils import translation

    from pbqms.core import xlsx

    with translation.override("zh-hans"):
        assert xlsx.ranking_name("2026Q3") == "2026年第三季度考核排名.xlsx"
        assert xlsx.linkage_name("2026H1") == "2026年上半年绩效挂钩表.xlsx"
        assert xlsx.period_name("2026") == "2026年度"
    with translation.override("en"):
        assert xlsx.ranking_name("2026Q3") == "2026 Q3 assessment ranking.xlsx"
    assert xlsx.content_disposition("2026年第三季度考核排名.xlsx", "2026Q3-ranking.xlsx") == (
        "attachment; filename=\"2026Q3-ranking.xlsx\"; filename*=UTF-8''"
        "2026%E5%B9%B4%E7%AC%AC%E4%B8%89%E5%AD%A3%E5%BA%A6%E8%80%83%E6%A0%B8%E6%8E%92%E5%90%8D.xlsx")
