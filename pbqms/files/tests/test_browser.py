"""The upload-ahead input in a real browser: htmx posts the chosen files, each comes back as a
hidden input of the surrounding form; a lying file shows its message and leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.core.tests.test_browser import sign_in
from pbqms.files.models import StoredFile

from . import samples

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.urls("pbqms.files.tests.demo_urls")]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


def test_upload_ahead_of_the_record(page, users, tree, tmp_path):
    from pbqms.files import services

    services.store_upload(None, samples.upload("会议记录.docx"), unit=tree.b01, owner="demo:1")
    services.store_upload(None, samples.upload("整改报告.pdf"), unit=tree.b01, owner="demo:1")
    (tmp_path / "现场照片.png").write_bytes(samples.GOOD["照片.png"][0])
    (tmp_path / "整改说明.pdf").write_bytes(samples.PDF)
    (tmp_path / "假的.pdf").write_bytes(samples.EXE)
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/files-demo/")
    file_input = page.locator("input[type=file][name=upload]")
    assert file_input.get_attribute("accept") == ".jpg,.jpeg,.png,.gif,.webp,.pdf"
    file_input.set_input_files([str(tmp_path / "现场照片.png"), str(tmp_path / "整改说明.pdf")])
    page.wait_for_selector("#record input[type=hidden][name=files] >> nth=1", state="attached")
    rows = list(StoredFile.objects.filter(owner="").order_by("id"))
    assert [(f.original_name, f.unit.code) for f in rows] == [("现场照片.png", "B01"), ("整改说明.pdf", "B01")]
    tokens = page.locator("#record input[type=hidden][name=files]").evaluate_all("els => els.map(e => e.value)")
    assert tokens == [str(f.token) for f in rows]
    file_input.set_input_files([str(tmp_path / "假的.pdf")])
    page.wait_for_selector("text=“假的.pdf”的文件内容与扩展名不符。")
    assert StoredFile.objects.filter(owner="").count() == 2
    file_input.set_input_files([str(tmp_path / "整改说明.pdf")])
    page.wait_for_selector("#record input[type=hidden][name=files] >> nth=2", state="attached")
    assert page.locator(".file-error").count() == 0  # the next upload clears the old message
    file_input.set_input_files([str(tmp_path / "假的.pdf")])
    page.wait_for_selector("text=“假的.pdf”的文件内容与扩展名不符。")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "files-upload.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(SHOTS / "files-upload-mobile.png"), full_page=True)
    page.locator(".file-item", has_text="现场照片.png").get_by_role("button").click()
    expect(page.locator("#record input[type=hidden][name=files]")).to_have_count(2)
