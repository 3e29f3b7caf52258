"""Browser tests of every document screen (Playwright on Debian's chromium), with screenshots in
/work/main/screenshots/documents-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.accounts.models import Role
from pbqms.conftest import PASSWORD
from pbqms.documents import seed_texts, services
from pbqms.documents.models import Acknowledgement, DocumentVersion, NumberingPattern, Tier, VersionStatus

from .conftest import publish_flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(page.base + "/")


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"documents-{name}.png"), full_page=True)


@pytest.fixture
def book(tree, users):
    """A few documents of SUB1 from the demo's texts, published; 党员大会制度 in its second version."""
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    docs = {}
    for i, r in enumerate(seed_texts.REGULATIONS[:6], 1):
        text = {f: r[f] for f in ("purpose", "scope_text", "duties", "procedure")}
        doc = services.create_document(staff, unit=tree.sub1, tier=Tier.REGULATION, title=r["title"],
                                       applies_to=[tree.sub1], book_part=r["block"], order=i, **text)
        publish_flow(doc, staff, secretary)
        docs[r["key"]] = doc
    summary, field, text = seed_texts.REVISIONS["assembly"][0]
    v2 = services.new_version(staff, docs["assembly"], change_summary=summary)
    services.edit_draft(staff, v2, **{field: text})
    publish_flow(docs["assembly"], staff, secretary)
    return docs


def test_list_filters_and_exports(page, users, book):
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + "/documents/")
    rows = page.locator("table.documents tbody tr")
    assert rows.count() == 6
    page.fill("input[name=q]", "党员大会")
    expect(page.locator("table.documents tbody tr")).to_have_count(1)
    assert "党员大会制度" in page.locator("table.documents").inner_text()
    page.fill("input[name=q]", "")
    expect(page.locator("table.documents tbody tr")).to_have_count(6)
    with page.expect_download() as download:
        page.get_by_role("link", name="导出为 .xlsx").click()
    assert download.value.suggested_filename == "体系文件.xlsx"
    shot(page, "list")


def test_member_reads_and_confirms(page, users, book):
    sign_in(page, "u_member")
    page.goto(page.base + book["develop"].get_absolute_url())
    assert "一个月内派人同申请人谈话" in page.locator("main").inner_text()
    page.get_by_role("button", name="我已阅读（已阅）").click()
    page.wait_for_selector(".ack-done")
    assert Acknowledgement.objects.get(user=users[Role.MEMBER], version=book["develop"].versions.get()).acknowledged_at
    shot(page, "detail-member")


def test_owner_sees_who_has_not_read(page, users, book):
    sign_in(page, "u_committee_admin")
    page.goto(page.base + book["assembly"].get_absolute_url())
    status = page.locator("#ack-status")
    assert "0" in status.inner_text() and "u_member" in status.inner_text()
    shot(page, "detail-owner")
    status.get_by_role("link", name="全部接收人").click()
    page.wait_for_selector("table.acks")
    assert page.locator("table.acks tbody tr").count() == 8
    shot(page, "acknowledgements")


def test_version_diff(page, users, book):
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + f"/documents/{book['assembly'].pk}/v2/")
    assert page.locator(".doc-diff-new ins").count() >= 1 and page.locator(".doc-diff-old del").count() >= 1
    shot(page, "diff")
    page.get_by_role("link", name="合并显示").click()
    page.wait_for_selector(".diff-inline ins")


def test_search_in_chinese(page, users, book):
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + "/documents/search/")
    page.fill("input[name=q]", "发展党员")
    page.wait_for_selector(".search-hits .hit")
    hits = page.locator(".search-hits .hit")
    assert "发展党员工作制度" in hits.first.inner_text()
    assert page.locator(".search-hits mark").first.inner_text() in ("发展党员", "发展", "党员")
    page.fill("input[name=q]", "党课 讲稿")
    page.wait_for_selector(".search-hits .hit-title:has-text('党课制度')")
    page.fill("input[name=q]", "党支")  # a partial word widens to 党支部 …
    page.wait_for_selector(".search-hits .hit")
    page.fill("input[name=q]", "发展党员")
    page.wait_for_selector(".search-hits .hit-title:has-text('发展党员工作制度')")
    shot(page, "search")


def test_draft_review_approve_publish(page, users, tree):
    sign_in(page, "u_department_staff")
    page.goto(page.base + "/documents/new/")
    page.select_option("select[name=unit]", "SUB1")
    page.select_option("select[name=tier]", "procedure")
    page.fill("input[name=title]", "发展党员控制程序")
    page.fill("input[name=applies_to]", "SUB1")
    page.get_by_role("button", name="创建").click()
    page.wait_for_selector("textarea[name=purpose]")
    page.fill("textarea[name=purpose]", "规范发展党员工作，保证新党员质量。")
    page.fill("textarea[name=scope_text]", "适用于各党支部发展党员工作。")
    page.fill("textarea[name=duties]", "党支部书记负责组织实施；组织委员负责材料。")
    page.fill("textarea[name=procedure]", "一、受理入党申请。\n二、一个月内谈话。")
    page.fill("textarea[name=who]", "党支部书记、培养联系人")
    page.wait_for_selector("#draft-status:has-text('已于')")  # htmx saved it
    page.wait_for_load_state("networkidle")  # every field's save done before the test reads the database
    version = DocumentVersion.objects.get(title="发展党员控制程序")
    assert version.purpose == "规范发展党员工作，保证新党员质量。"
    shot(page, "draft")
    page.get_by_role("button", name="保存并送审").click()
    page.wait_for_selector(".flow-card")
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    # three hands: the author may not review; the committee admin reviews, the secretary approves
    sign_in(page, "u_committee_admin")
    page.goto(page.base + "/documents/todo/")
    page.locator(".todo-review a").first.click()
    page.get_by_role("button", name="提交审核意见").click()
    page.wait_for_selector(".flow-card")
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + f"/documents/{version.document_id}/")
    page.get_by_role("link", name="批准").click()
    shot(page, "approve")
    page.get_by_role("button", name="批准").click()
    page.get_by_role("link", name="发布").click()
    page.get_by_role("button", name="发布").click()
    page.wait_for_selector(".msg-success")
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_todo_lists_what_waits(page, users, book):
    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=book["lecture"].unit, tier=Tier.REGULATION, title="谈心谈话制度",
                                   purpose="了解思想状况。")
    services.submit(staff, doc.versions.get())
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + "/documents/todo/")
    assert "谈心谈话制度" in page.locator(".todo-review").inner_text()
    assert page.locator(".todo-read li").count() == 6
    shot(page, "todo")


def test_malformed_numbering_pattern(page, users, tree):
    sign_in(page, "u_department_staff")
    page.goto(page.base + "/documents/patterns/")
    page.select_option("select[name=unit]", "SUB1")
    page.fill("input[name=pattern]", "SUB1-CX-{seq")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector(".error")
    assert "编号规则“SUB1-CX-{seq”无效" in page.locator("main").inner_text()
    assert not NumberingPattern.objects.exists()
    page.fill("input[name=pattern]", "SUB1-CX-{seq:03d}")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("td.mono:has-text('SUB1-CX-{seq:03d}')")
    shot(page, "patterns")
