"""The record books ("二图、三表、四本"): each assembled from the records, plans and roster already
entered, shown as a page and printed as .docx (read back with python-docx) and PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib

import pytest
from django.urls import reverse
from docx import Document

from pbqms.accounts.models import Role
from pbqms.activities import services
from pbqms.activities.models import ActivityKind
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, PartyStatus

TODAY = dt.date(2026, 5, 20)


@pytest.fixture(autouse=True)
def as_of_today():
    with clock.as_of(TODAY):
        yield


def url(name: str, *args) -> str:
    return reverse(f"activities:{name}", args=args)


@pytest.fixture
def branch_year(tree, users):
    """A secretary, a probationary member absent once with a reason, a plan and its records."""
    secretary = users[Role.BRANCH_SECRETARY]
    since = dt.date(2024, 1, 1)
    members.assign_committee_role(None, tree.m01, tree.b01, CommitteeRoleKind.SECRETARY, started_on=since)
    members.assign_committee_role(None, tree.m01, tree.g1, CommitteeRoleKind.GROUP_LEADER, started_on=since)
    zhao = members.create_member(None, unit=tree.b01, name="赵六", gender="F", status=PartyStatus.PROBATIONARY,
                                 post="调度员")
    members.assign_committee_role(None, zhao, tree.b01, CommitteeRoleKind.ORGANISATION, started_on=since)
    with clock.as_of(dt.date(2026, 3, 28)):
        services.file_plan(secretary, unit=tree.b01, period="2026Q2", items=[
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 4, 8), "研究二季度党建工作"),
            services.PlanItem(ActivityKind.PARTY_LECTURE, dt.date(2026, 5, 15), "书记讲党课：党章学习")])
    everyone = {tree.m01.pk: services.Presence(True), zhao.pk: services.Presence(False, "井下当班")}
    services.record_activity(secretary, services.RecordInput(
        unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=dt.date(2026, 4, 9), topic="研究二季度党建工作",
        place="三楼会议室", start_time=dt.time(14, 30), host=tree.m01, recorder=tree.m01,
        minutes="一、传达上级会议精神。\n二、研究发展党员工作。", resolutions="同意将赵六列为发展对象。",
        attendance=everyone))
    services.record_activity(secretary, services.RecordInput(
        unit=tree.g1, kind=ActivityKind.GROUP_MEETING, held_on=dt.date(2026, 5, 6), topic="党小组学习新党章",
        attendance={tree.m01.pk: services.Presence(True)}))
    return secretary


def docx_text(content: bytes) -> tuple[str, str]:
    doc = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in doc.paragraphs)
    text += "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    return doc.core_properties.title, text


def pdf_fonts(pdf: bytes) -> bytes:
    """The names of the fonts a PDF embeds (they sit in compressed object streams)."""
    names = b""
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            names += b" ".join(re.findall(rb"/(?:BaseFont|FontName)\s*/([\w+-]+)", zlib.decompress(m.group(1))))
        except zlib.error:
            continue
    return names


def test_the_index_offers_the_books_of_a_branch(client, tree, branch_year):
    client.force_login(branch_year)
    page = client.get(url("books", "B01")).content.decode()
    for title in ("党员分布状况图", "支部活动计划安排表", "支部书记工作计划记录本", "党小组活动记录本"):
        assert title in page
    assert "群团工作记录本" in page  # named as kept elsewhere
    page = client.get(url("books", "B01G1")).content.decode()
    assert "支部书记工作计划记录本" not in page and "党小组活动记录本" in page


def test_the_secretarys_book_holds_the_years_meetings(client, tree, branch_year):
    client.force_login(branch_year)
    page = client.get(url("book", "B01", "branch-book") + "?year=2026").content.decode()
    assert "支部书记工作计划记录本" in page and "研究二季度党建工作" in page
    assert "赵六（井下当班）" in page and "三楼会议室" in page and "同意将赵六列为发展对象。" in page
    assert "书记讲党课：党章学习" in page and "已于2026年4月9日开展" in page  # the plan, with what was held
    assert "党小组学习新党章" not in page  # a group's meeting goes to the group book
    title, text = docx_text(client.get(url("book_docx", "B01", "branch-book") + "?year=2026").content)
    assert title == "第一党支部 支部书记工作计划记录本"
    assert "研究二季度党建工作" in text and "二、研究发展党员工作。" in text and "赵六（井下当班）" in text
    r = client.get(url("book_pdf", "B01", "branch-book") + "?year=2026")
    assert r["Content-Type"] == "application/pdf" and r.content[:5] == b"%PDF-" and len(r.content) > 10_000
    assert b"Noto-Serif-CJK-SC" in pdf_fonts(r.content)  # the CJK font is embedded
    assert "B01-branch-book-2026.pdf" in r["Content-Disposition"]


def test_the_group_book_and_the_plan_table(client, tree, branch_year):
    client.force_login(branch_year)
    title, text = docx_text(client.get(url("book_docx", "B01", "group-book") + "?year=2026").content)
    assert title == "第一党支部 党小组活动记录本" and "第一党小组" in text and "党小组学习新党章" in text
    page = client.get(url("book", "B01", "plan-table") + "?year=2026").content.decode()
    assert "2026Q2" in page and "书记讲党课：党章学习" in page and "待开展" in page and "未开展" not in page
    with clock.as_of(dt.date(2026, 7, 2)):
        page = client.get(url("book", "B01", "plan-table") + "?year=2026").content.decode()
    assert "未开展" in page  # the lecture planned for May was not held by the quarter's end
    r = client.get(url("book_pdf", "B01", "plan-table") + "?year=2026")
    assert r.content[:5] == b"%PDF-"


def test_the_member_distribution_chart(client, tree, branch_year):
    client.force_login(branch_year)
    page = client.get(url("book", "B01", "distribution")).content.decode()
    assert "党员分布状况图" in page and "第一党小组" in page and "未编入党小组" in page
    assert "张三" in page and "赵六" in page and "预备党员" in page and "调度员" in page
    title, text = docx_text(client.get(url("book_docx", "B01", "distribution")).content)
    assert title == "第一党支部 党员分布状况图" and "赵六" in text and "张三" in text
    assert "王五" not in text


def test_books_are_scoped_and_fit_the_unit(client, tree, users, branch_year):
    client.force_login(branch_year)
    assert client.get(url("book", "B03", "branch-book")).status_code == 404
    assert client.get(url("book_docx", "B03", "distribution")).status_code == 404
    assert client.get(url("book", "B01", "no-such-book")).status_code == 404
    assert client.get(url("book", "B01G1", "branch-book")).status_code == 404
    client.force_login(users[Role.MEMBER])
    text = docx_text(client.get(url("book_docx", "B01", "distribution")).content)[1]
    assert "张三" in text and "赵六" not in text  # a member reads only their own record
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert client.get(url("books", "SUB1")).status_code == 200
    assert client.get(url("book", "SUB1", "branch-book")).status_code == 404


def test_an_empty_year_says_so(client, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    page = client.get(url("book", "B01", "branch-book") + "?year=2025").content.decode()
    assert "本年度还没有记录。" in page
    title, text = docx_text(client.get(url("book_docx", "B01", "branch-book") + "?year=2025").content)
    assert "本年度还没有记录。" in text
