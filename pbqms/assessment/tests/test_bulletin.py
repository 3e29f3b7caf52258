"""The bulletin (通报) of a period: .docx and PDF that open and say what they should, with Chinese
typography (Noto fonts, two-character first-line indent); only readers of the whole period get it;
the background build keeps both files and tells the requester."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.assessment import bulletin, tasks
from pbqms.assessment.models import Period
from pbqms.assessment.tests import walk_results as W


@pytest.fixture
def q1(tree, users):
    data = W.build(users[Role.DEPARTMENT_STAFF], tree.sub1, [tree.b01, tree.b02])
    return Period.objects.select_related("plan__owner", "scheme").get(pk=data["period"])


def url(name, period):
    return reverse(f"assessment:{name}", kwargs={"period_pk": period.pk})


def docx_text(content: bytes) -> tuple[str, object]:
    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts), doc


def pdf_objects(content: bytes) -> bytes:
    """The PDF's objects with their compressed streams inflated (WeasyPrint packs objects in streams)."""
    import re
    import zlib

    out = [content]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def test_docx_opens_and_says_what_it_should(client, q1, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(url("bulletin_docx", q1))
    assert r.status_code == 200 and r["Content-Type"] == bulletin.DOCX
    assert "attachment" in r["Content-Disposition"] and ".docx" in r["Content-Disposition"]
    text, doc = docx_text(r.content)
    assert "一矿党委" in text and "第一党支部" in text and "第二党支部" in text
    assert "DJ02" in text  # the most-deducted items
    assert "90" in text and "74.78" in text  # the totals (81 and 70 − 3 of the quarter’s 90 points, on 100)
    assert "第三党支部" not in text
    from docx.oxml.ns import qn

    title = doc.paragraphs[1]
    run = title.runs[0]
    assert run.bold and run.font.size.pt == bulletin.TITLE_PT
    assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == bulletin.TITLE_FONT
    body = doc.paragraphs[2]  # the intro
    assert body.paragraph_format.first_line_indent.pt == 2 * bulletin.BODY_PT  # 首行缩进两字
    assert body.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == bulletin.BODY_FONT
    assert doc.sections[0].page_width.cm == pytest.approx(21.0, abs=0.01)


def test_pdf_opens_and_holds_the_text(client, q1, users):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("bulletin_pdf", q1))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 10_000
    assert b"NotoSerifCJK" in pdf_objects(r.content)  # the CJK serif font is embedded
    b = bulletin.bulletin_data(users[Role.DEPARTMENT_STAFF], q1)
    html = bulletin.bulletin_html(b)
    assert "第一党支部" in html and "DJ02" in html and "Noto Serif CJK SC" in html


def test_preview_page(client, q1, users):
    client.force_login(users[Role.INTERNAL_AUDITOR])
    r = client.get(url("bulletin", q1))
    page = r.content.decode()
    assert r.status_code == 200 and "第一党支部" in page and url("bulletin_docx", q1) in page


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE, Role.MEMBER, Role.GROUP_LEADER])
def test_the_bulletin_is_the_committees(client, q1, users, role):
    client.force_login(users[role])
    for name in ("bulletin", "bulletin_docx", "bulletin_pdf"):
        assert client.get(url(name, q1)).status_code == 403
    assert client.post(url("bulletin_build", q1)).status_code == 403


def test_ranking_in_the_bulletin_is_capped(monkeypatch, q1, users):
    monkeypatch.setattr(bulletin, "RANK_CAP", 1)
    b = bulletin.bulletin_data(users[Role.COMMITTEE_ADMIN], q1)
    assert len(b.rows()) == 1 and b.more == 1 and b.paragraphs["more"]
    text, _doc = docx_text(bulletin.bulletin_docx(b))
    assert "第二党支部" not in text.split("\n")[-40:][0]  # not in the ranking table's rows
    assert b.paragraphs["more"] in text


def test_english_bulletin(english, q1, users):
    english.force_login(users[Role.COMMITTEE_SECRETARY])
    text, _doc = docx_text(english.get(url("bulletin_docx", q1)).content)
    assert "Bulletin on the results of the 2025 quarter 1 party-building assessment" in text
    assert "1. Overview" in text and "No unit triggered a veto item this period." in text


def test_background_build_keeps_both_files_and_tells_the_requester(client, q1, users, settings,
                                                                   django_capture_on_commit_callbacks):
    from pbqms.files.models import StoredFile
    from pbqms.notify.models import Notification

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    user = users[Role.COMMITTEE_SECRETARY]
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url("bulletin_build", q1))
    assert r.status_code == 302
    kept = StoredFile.objects.filter(owner=tasks.OWNER.format(pk=q1.pk))
    assert sorted(f.original_name.rsplit(".", 1)[1] for f in kept) == ["docx", "pdf"]
    assert all(f.unit_id == q1.plan.owner_id for f in kept)
    note = Notification.objects.get(recipient=user)
    assert note.link == url("bulletin", q1)
    page = client.get(url("bulletin", q1)).content.decode()
    assert all(f.original_name in page for f in kept)
