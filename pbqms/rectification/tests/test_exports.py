"""The printed two-part form (.docx and PDF) and the .xlsx exports of the ledger and the dashboard."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zlib

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.rectification import services
from pbqms.rectification.models import Notice

from .factories import answered_notice, answers, finding, issued_notice, today


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"


@pytest.fixture
def closed_notice(users, tree) -> Notice:
    """A notice of B01 through one return: two findings, both verified effective in the end."""
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=2)
    first, second = notice.findings.order_by("pk")
    services.verify_finding(staff, first, effective=False, note="记录仍不完整")
    services.verify_finding(staff, second, effective=True, note="台账已更新")
    services.return_notice(staff, notice, reason="第1项不到位", deadline=today() + dt.timedelta(days=5))
    notice.refresh_from_db()
    services.submit_feedback(secretary, notice, {first.pk: answers(notice)[first.pk]})
    services.verify_finding(staff, first, effective=True, note="已补齐")
    return services.close_notice(staff, Notice.objects.get(pk=notice.pk), "整改到位")


def docx_text(content: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_the_two_part_form_as_docx(client, users, closed_notice):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(reverse("rectification:notice_docx", args=[closed_notice.pk]))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "attachment" in r["Content-Disposition"]
    text = docx_text(r.content)
    number = closed_notice.number
    assert re.fullmatch(r"党纠〔\d{4}〕\d{3}号", number)
    assert number in text
    assert "整改通知书" in text and "整改反馈单" in text
    for f in closed_notice.findings.all():
        assert f.description in text and f.item_code in text
    assert "请对照问题逐条整改并反馈。" in text  # the requirement
    assert "补齐记录，建立台账" in text  # the measures of the feedback
    assert "有效：已补齐" in text  # the latest verification of the first finding
    assert "整改单位负责人（签字）" in text and "复查人（签字）" in text
    assert "一矿党委" in text and "第一党支部：" in text  # issuing unit, addressee


def test_a_draft_prints_unnumbered(client, users, tree):
    staff = users[Role.DEPARTMENT_STAFF]
    notice = services.draft_notice(staff, unit=tree.b01, findings=[finding(staff, tree.b01)], title="草稿",
                                   requirement="整改", deadline=today() + dt.timedelta(days=5))
    client.force_login(staff)
    text = docx_text(client.get(reverse("rectification:notice_docx", args=[notice.pk])).content)
    assert "（草稿，尚未编号）" in text


def inflated(pdf: bytes) -> bytes:
    """Every Flate stream of the PDF decompressed (WeasyPrint packs its objects in object streams)."""
    out = []
    for m in re.finditer(rb"stream\r?\n", pdf):
        try:
            out.append(zlib.decompressobj().decompress(pdf[m.end():]))
        except zlib.error:
            continue
    return b"\n".join(out)


def pdf_titles(pdf: bytes) -> list[str]:
    """The /Title strings of the PDF: the document's (Info dictionary) and its bookmarks'."""
    return [bytes.fromhex(h.decode()).decode("utf-16")
            for h in re.findall(rb"/Title\s*<([0-9A-Fa-f]+)>", inflated(pdf) + pdf)]


def page_texts(document) -> list[str]:
    """The text laid out on each page of a weasyprint Document."""
    def walk(box, out):
        if getattr(box, "text", None):
            out.append(box.text)
        for child in getattr(box, "children", None) or ():
            walk(child, out)
        return out
    return ["".join(walk(page._page_box, [])) for page in document.pages]


def test_the_two_part_form_as_pdf(client, users, closed_notice, tmp_path):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(reverse("rectification:notice_pdf", args=[closed_notice.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    content = r.content
    assert content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", inflated(content))) >= 2  # the feedback starts a new page
    assert f"整改通知书 {closed_notice.number}" in pdf_titles(content)
    assert b"NotoSerifCJK" in content or b"Noto" in inflated(content)  # the CJK font is embedded
    if shutil.which("pdftotext"):
        path = tmp_path / "form.pdf"
        path.write_bytes(content)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert closed_notice.number in text and "整改反馈单" in text


def test_the_pdf_pages_carry_the_form(users, closed_notice):
    from pbqms.rectification import exports, selectors

    pages = page_texts(exports.notice_print(closed_notice, selectors.notice_detail(closed_notice)))
    assert len(pages) >= 2
    first, rest = pages[0], "".join(pages[1:])
    assert closed_notice.number in first and "整改通知书" in first and "第一党支部：" in first
    for f in closed_notice.findings.all():
        assert f.description in first
    assert "整改反馈单" in rest and "补齐记录，建立台账" in rest and "复查人（签字）" in rest


def test_print_is_scoped(client, users, tree, admin_user):
    outside = issued_notice(admin_user, tree.b03)
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    assert client.get(reverse("rectification:notice_docx", args=[outside.pk])).status_code == 404
    assert client.get(reverse("rectification:notice_pdf", args=[outside.pk])).status_code == 404


def test_ledger_and_dashboard_export_to_xlsx(client, users, tree, closed_notice):
    staff = users[Role.DEPARTMENT_STAFF]
    finding(staff, tree.b02, item="DJ-7", description="组织生活会准备不充分")
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("rectification:ledger_xlsx", args=["SUB1"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spre")
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "发现日期" and rows[0][4] == "存在问题"
    assert len(rows) == 1 + 3
    descriptions = {row[4] for row in rows[1:]}
    assert "组织生活会准备不充分" in descriptions
    assert any(row[7] == closed_notice.number for row in rows[1:])
    # the filters of the page apply to the export
    r = client.get(reverse("rectification:ledger_xlsx", args=["SUB1"]) + "?status=open")
    rows = list(load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0].iter_rows(values_only=True))
    assert [row[4] for row in rows[1:]] == ["组织生活会准备不充分"]

    r = client.get(reverse("rectification:dashboard_xlsx", args=["SUB1"]))
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    table = list(wb.worksheets[0].iter_rows(values_only=True))
    by_unit = {row[0]: row for row in table[1:]}
    assert by_unit["第一党支部"][1:5] == (2, 0, 0, 2)  # findings, open, overdue, closed
    assert by_unit["第二党支部"][1:3] == (1, 1)
    assert table[-1][1] == 3
    items = list(wb.worksheets[1].iter_rows(values_only=True))
    assert ("DJ-7", 1) in items


def test_exports_are_scoped(client, users, tree):
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(reverse("rectification:ledger_xlsx", args=["SUB1"])).status_code == 404
    assert client.get(reverse("rectification:dashboard_xlsx", args=["B03"])).status_code == 404
    assert client.get(reverse("rectification:ledger_xlsx", args=["B01"])).status_code == 200
