"""Downloads answer only inside scope, with safe headers; uploads ahead of a record are scoped too."""

from __future__ import annotations

import uuid

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.files import services
from pbqms.files.forms import MultipleFileField
from pbqms.files.models import StoredFile

from . import samples
from .conftest import files_on_disk
from .test_services import READS


def url(f: StoredFile, **query: str) -> str:
    base = reverse("files:download", args=[f.token])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_download_as_every_role_inside_and_outside_scope(client, any_role, stored, django_assert_max_num_queries):
    role, user = any_role
    client.force_login(user)
    for key, f in stored.items():
        with django_assert_max_num_queries(8):
            r = client.get(url(f))
        expected = 200 if key in READS[role] else 404
        assert r.status_code == expected, (role, key, r.status_code)
        if expected == 200:
            assert body(r) == samples.GOOD[f.original_name][0]
        else:
            assert "第三支部".encode() not in r.content and f.original_name.encode() not in r.content
        assert client.post(url(f)).status_code in (404, 405)


def test_superuser_downloads_everything(client, admin_user, stored):
    client.force_login(admin_user)
    assert {k: client.get(url(f)).status_code for k, f in stored.items()} == {"b01": 200, "g1": 200, "b03": 200}


def test_unknown_token_and_anonymous(client, users, stored):
    r = client.get(url(stored["b01"]))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    client.force_login(users[Role.COMMITTEE_ADMIN])
    assert client.get(reverse("files:download", args=[uuid.uuid4()])).status_code == 404
    assert client.get(f"/files/{stored['b01'].pk}/").status_code == 404  # the primary key is no address


def test_download_headers(client, users, stored):
    client.force_login(users[Role.BRANCH_SECRETARY])
    pdf = stored["b01"]
    r = client.get(url(pdf))
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf" in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in r["Cache-Control"]
    assert r["Content-Length"] == str(pdf.size)
    r = client.get(url(pdf, inline="1"))
    assert r["Content-Disposition"].startswith("inline;") and r["Content-Security-Policy"].startswith("sandbox")
    png = stored["g1"]
    r = client.get(url(png, inline="1"))
    assert (r["Content-Type"], r["Content-Disposition"].split(";")[0]) == ("image/png", "inline")


def test_office_files_always_download(client, admin_user, stored):
    client.force_login(admin_user)
    r = client.get(url(stored["b03"], inline="1"))
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_missing_bytes_answer_404(client, admin_user, stored, file_root):
    (file_root / stored["b01"].path).unlink()
    client.force_login(admin_user)
    assert client.get(url(stored["b01"])).status_code == 404


# ---- upload ahead of the record -----------------------------------------------------------

def post_upload(client, unit: str, *files, kinds: str = "", htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("files:upload"), {"unit": unit, "kinds": kinds, "upload": list(files)}, headers=headers)


UPLOAD = {  # role → (unit, status)
    Role.COMMITTEE_SECRETARY: ("B02", 200),
    Role.COMMITTEE_ADMIN: ("SUB1", 200),
    Role.DEPARTMENT_STAFF: ("B01", 200),
    Role.INTERNAL_AUDITOR: ("B01", 403),  # reads the subtree, records nothing (DOMAIN.md)
    Role.BRANCH_SECRETARY: ("B01", 200),
    Role.BRANCH_COMMITTEE: ("B01G1", 200),
    Role.GROUP_LEADER: ("B01G1", 200),
    Role.MEMBER: ("B01", 403),  # reads the branch, records nothing there through this door
}


def test_upload_as_every_role(client, any_role, file_root):
    role, user = any_role
    client.force_login(user)
    unit, status = UPLOAD[role]
    r = post_upload(client, unit, samples.upload("照片.png"), samples.upload("整改报告.pdf"))
    assert r.status_code == status
    if status == 200:
        rows = list(StoredFile.objects.order_by("id"))
        assert [(f.original_name, f.owner, f.uploaded_by, f.unit.code) for f in rows] == [
            ("照片.png", "", user, unit), ("整改报告.pdf", "", user, unit)]
        html = r.content.decode()
        for f in rows:
            assert f'<input type="hidden" name="files" value="{f.token}">' in html
            assert client.get(url(f)).status_code == 200  # one's own upload, before its record
    else:
        assert StoredFile.objects.count() == 0 and files_on_disk(file_root) == []
    r = post_upload(client, "B03", samples.upload("照片.png"))
    assert r.status_code == 404
    if role == Role.GROUP_LEADER:
        assert post_upload(client, "B01", samples.upload("照片.png")).status_code == 404
    assert StoredFile.objects.filter(org_path__startswith="0").exclude(unit__code__in=["B01", "B02", "SUB1", "B01G1"]) \
        .count() == 0


def test_upload_refusal_shows_the_message_and_keeps_nothing(client, users, file_root):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = post_upload(client, "B01", samples.upload("照片.png"), samples.upload("setup.pdf", samples.EXE))
    assert r.status_code == 200  # htmx swaps the message in
    assert "“setup.pdf”的文件内容与扩展名不符。" in r.content.decode()
    assert StoredFile.objects.count() == 0 and files_on_disk(file_root) == []
    r = post_upload(client, "B01", samples.upload("照片.png"), kinds="pdf,word", htmx=False)
    assert r.status_code == 422
    assert "“照片.png”无法接收：此处只允许以下类型的文件：.pdf .docx .doc。" in r.content.decode()
    r = post_upload(client, "B01", kinds="pdf", htmx=False)  # no file at all
    assert r.status_code == 422 and "这个字段是必填项" in r.content.decode()
    r = post_upload(client, "B01", samples.upload("照片.png"), kinds="video", htmx=False)
    assert r.status_code == 422 and "未知的文件类别。" in r.content.decode()
    assert StoredFile.objects.count() == 0 and files_on_disk(file_root) == []


def test_upload_refusal_in_english(english, users, file_root):
    english.force_login(users[Role.BRANCH_SECRETARY])
    r = post_upload(english, "B01", samples.upload("big.pdf", b""))
    assert "“big.pdf” is empty." in r.content.decode()
    assert StoredFile.objects.count() == 0


def test_upload_needs_post_and_login(client, users):
    assert client.post(reverse("files:upload"), {"unit": "B01"}).status_code == 302
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(reverse("files:upload")).status_code == 405


# ---- partials --------------------------------------------------------------------------

def test_list_partial(stored):
    html = render_to_string("files/_list.html", {"files": [stored["b01"], stored["b03"]]})
    assert "整改报告.pdf" in html and "会议记录.docx" in html
    assert f'href="/files/{stored["b01"].token}/"' in html
    assert f'href="/files/{stored["b01"].token}/?inline=1"' in html  # PDF may open in the browser
    assert f'/files/{stored["b03"].token}/?inline=1' not in html  # Word always downloads
    assert "PDF" in html and "Word 文档" in html and "字节" in html  # kind label, size
    assert "暂无附件。" in render_to_string("files/_list.html", {"files": []})


def test_input_partial_for_a_form_field(settings):
    from django import forms

    settings.PBQMS_MAX_UPLOAD_MB = 8

    class EvidenceForm(forms.Form):
        files = MultipleFileField(required=False, kinds=["pdf", "word"])

    html = render_to_string("files/_input.html", {"field": EvidenceForm()["files"]})
    assert 'multiple' in html and 'accept=".pdf,.docx,.doc"' in html
    assert "可上传：.pdf .docx .doc；每个文件不超过 8 MB。" in html


def test_multiple_file_field_cleans_to_a_list():
    from django import forms
    from django.utils.datastructures import MultiValueDict

    class EvidenceForm(forms.Form):
        files = MultipleFileField(required=False)

    two = [samples.upload("照片.png"), samples.upload("整改报告.pdf")]
    form = EvidenceForm(data={}, files=MultiValueDict({"files": two}))
    assert form.is_valid() and [f.name for f in form.cleaned_data["files"]] == ["照片.png", "整改报告.pdf"]
    form = EvidenceForm(data={}, files=MultiValueDict())
    assert form.is_valid() and form.cleaned_data["files"] == []


def test_upload_tag_renders_an_htmx_input(tree):
    from django.template import Context, Template

    html = Template('{% load pbqms_files %}{% file_upload "B01" "pdf,image" %}').render(Context({}))
    assert 'hx-post="/files/upload/"' in html and '"unit": "B01"' in html and '"kinds": "pdf,image"' in html
    assert 'accept=".jpg,.jpeg,.png,.gif,.webp,.pdf"' in html and 'name="upload"' in html
    assert "每个文件不超过 20 MB" in html


@pytest.mark.parametrize("name", ["照片.png", "整改报告.pdf"])
def test_stored_file_of_each_kind_downloads_byte_for_byte(client, admin_user, tree, name):
    f = services.store_upload(None, samples.upload(name), unit=tree.b01, owner="test.record:5")
    client.force_login(admin_user)
    assert body(client.get(url(f))) == samples.GOOD[name][0]


@pytest.mark.parametrize("role", list(Role.values))
def test_unattached_upload_downloads_only_for_its_uploader(client, users, admin_user, tree, file_root, role):
    """A file uploaded ahead of its record (a form not yet saved) is its uploader's alone: anyone
    else with the link, even the branch's secretary or a superuser, gets 404, until it is attached."""
    uploader = users[Role.BRANCH_SECRETARY]
    f = services.store_upload(uploader, samples.upload("整改报告.pdf"), unit=tree.b01)
    client.force_login(uploader)
    assert client.get(url(f)).status_code == 200
    if role != Role.BRANCH_SECRETARY:
        client.force_login(users[role])
        r = client.get(url(f))
        assert r.status_code == 404 and "整改报告".encode() not in r.content
        client.force_login(admin_user)
        assert client.get(url(f)).status_code == 404
        services.attach([f], owner="test.record:9", unit=tree.b01)
        client.force_login(users[role])
        expected = 200 if "b01" in READS[role] else 404
        assert client.get(url(f)).status_code == expected
