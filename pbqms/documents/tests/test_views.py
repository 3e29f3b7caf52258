"""The document pages over HTTP: reads in scope, bounded queries, exports, and bad input with its
message in Chinese (default) and English."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.documents import services
from pbqms.documents.models import Acknowledgement, DocumentVersion, NumberingPattern, Tier, VersionStatus

from .conftest import TEXT, publish_flow

pytestmark = pytest.mark.django_db


def login(client, users, role):
    client.force_login(users[role])
    return users[role]


def test_list_and_detail_within_bounded_queries(client, tree, users, regulation, outside_doc,
                                                django_assert_max_num_queries):
    for i in range(8):
        d = services.create_document(None, unit=tree.sub1, tier=Tier.RECORD_FORM, title=f"记录表{i}", purpose="记录")
        publish_flow(d, None, None)
    login(client, users, Role.COMMITTEE_SECRETARY)
    with django_assert_max_num_queries(15):
        r = client.get(reverse("documents:list"))
    assert r.status_code == 200 and "党员大会制度" in r.content.decode() and "二矿保密制度" not in r.content.decode()
    with django_assert_max_num_queries(15):
        r = client.get(regulation.get_absolute_url())
    body = r.content.decode()
    assert "党员大会一般每季度召开一次" in body and "Read by" not in body and "已阅" in body


def test_member_reads_the_regulation_and_confirms(client, tree, users, regulation, django_assert_max_num_queries):
    login(client, users, Role.MEMBER)
    with django_assert_max_num_queries(16):  # + the version's steps, for its three hands (#22.10)
        r = client.get(regulation.get_absolute_url())
    assert "我已阅读" in r.content.decode()
    r = client.post(reverse("documents:acknowledge", args=[regulation.pk]))
    assert r.status_code == 302
    assert Acknowledgement.objects.get(user=users[Role.MEMBER]).acknowledged_at is not None
    # members see no draft and no acknowledgement list
    assert client.get(reverse("documents:acknowledgements", args=[regulation.pk])).status_code == 403


def test_acknowledgement_list_and_exports(client, tree, users, regulation):
    login(client, users, Role.COMMITTEE_ADMIN)
    r = client.get(reverse("documents:acknowledgements", args=[regulation.pk]) + "?unread=1")
    assert r.status_code == 200 and "u_member" in r.content.decode()
    r = client.get(reverse("documents:acknowledgements", args=[regulation.pk]) + "?format=xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.values)
    assert len(rows) == 9 and rows[0][0] == "接收人"
    r = client.get(reverse("documents:export") + "?tier=regulation")
    rows = list(load_workbook(io.BytesIO(r.content)).active.values)
    assert rows[1][:2] == (regulation.number, "党员大会制度")


def test_version_page_shows_the_diff(client, tree, users, regulation):
    staff = users[Role.DEPARTMENT_STAFF]
    v2 = services.new_version(staff, regulation, change_summary="明确记录要求")
    services.edit_draft(staff, v2, duties=TEXT["duties"] + "会议记录由组织委员归档。")
    login(client, users, Role.COMMITTEE_SECRETARY)
    r = client.get(reverse("documents:version", args=[regulation.pk, 2]))
    body = r.content.decode()
    assert "<ins>会议记录由组织委员归档。</ins>" in body and "明确记录要求" in body
    login(client, users, Role.MEMBER)
    assert client.get(reverse("documents:version", args=[regulation.pk, 2])).status_code == 404


def test_search_page_highlights(client, tree, users, regulation):
    login(client, users, Role.BRANCH_SECRETARY)
    r = client.get(reverse("documents:search"), {"q": "发展党员"})
    body = r.content.decode()
    assert "<mark>发展党员</mark>" in body and regulation.number in body


def test_the_whole_flow_over_http(client, tree, users):
    staff = login(client, users, Role.DEPARTMENT_STAFF)
    r = client.post(reverse("documents:create"), {"unit": "SUB1", "tier": Tier.PROCEDURE, "title": "发展党员控制程序",
                                                  "applies_to": "SUB1", "include_subtree": "on",
                                                  "review_interval_months": 12, "order": 0})
    assert r.status_code == 302
    version = DocumentVersion.objects.get(title="发展党员控制程序")
    doc = version.document
    r = client.post(reverse("documents:draft", args=[doc.pk]), {"title": "发展党员控制程序", **TEXT, "then": "submit"})
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW and version.author == staff
    login(client, users, Role.COMMITTEE_ADMIN)
    client.post(reverse("documents:review", args=[doc.pk]), {"decision": "pass", "comment": "好"})
    login(client, users, Role.COMMITTEE_SECRETARY)
    client.post(reverse("documents:approve", args=[doc.pk]), {"comment": ""})
    r = client.post(reverse("documents:publish", args=[doc.pk]), {"effective_from": ""})
    assert r.status_code == 302
    doc.refresh_from_db()
    assert doc.current_id == version.pk and Acknowledgement.objects.filter(version=version).count() == 8
    r = client.get(reverse("documents:todo"))
    assert r.status_code == 200 and "发展党员控制程序" in r.content.decode()
    r = client.get(reverse("documents:book", args=["SUB1"]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


# ---- bad input: clear message, nothing changed --------------------------------------------

def _draft_in_review(tree, users, author_role=Role.COMMITTEE_SECRETARY):
    doc = services.create_document(users[author_role], unit=tree.sub1, tier=Tier.REGULATION, title="党费制度", **TEXT)
    services.submit(users[author_role], doc.versions.get())
    return doc


@pytest.mark.parametrize("lang,expected", [("zh", "尚无批准人"), ("en", "has no approver yet")])
def test_publishing_without_an_approver(client, request, tree, users, lang, expected):
    doc = _draft_in_review(tree, users)
    c = request.getfixturevalue("english") if lang == "en" else client
    login(c, users, Role.COMMITTEE_ADMIN)
    r = c.post(reverse("documents:publish", args=[doc.pk]), {"effective_from": ""})
    assert r.status_code == 200 and expected in r.content.decode()
    assert doc.versions.get().status == VersionStatus.IN_REVIEW and not Acknowledgement.objects.exists()


@pytest.mark.parametrize("lang,expected", [("zh", "不得批准自己起草"), ("en", "Nobody approves their own draft")])
def test_approving_ones_own_draft(client, request, tree, users, lang, expected):
    doc = _draft_in_review(tree, users)
    services.review(users[Role.COMMITTEE_ADMIN], doc.versions.get(), passed=True)
    c = request.getfixturevalue("english") if lang == "en" else client
    login(c, users, Role.COMMITTEE_SECRETARY)
    r = c.post(reverse("documents:approve", args=[doc.pk]), {"comment": ""})
    assert r.status_code == 200 and expected in r.content.decode()
    assert doc.versions.get().status == VersionStatus.IN_REVIEW
    assert not doc.versions.get().steps.filter(kind="approve").exists()


@pytest.mark.parametrize("lang,expected", [("zh", "已发布的版本不能修改"),
                                           ("en", "A published version cannot be changed")])
def test_editing_a_published_version_via_api(client, request, tree, users, regulation, lang, expected):
    from pbqms.accounts import services as accounts

    token = accounts.issue_token(users[Role.DEPARTMENT_STAFF])
    headers = {"Authorization": f"Bearer {token}"}
    if lang == "en":
        headers["Accept-Language"] = "en"
    else:
        headers["Accept-Language"] = "zh-hans"
    v = regulation.current
    r = client.patch(f"/api/v1/documents/{regulation.pk}/versions/{v.number}", {"procedure": "改"},
                     content_type="application/json", headers=headers)
    assert r.status_code == 422 and expected in r.json()["detail"]
    assert DocumentVersion.objects.get(pk=v.pk).procedure == TEXT["procedure"]


@pytest.mark.parametrize("lang,expected", [("zh", "无效"), ("en", "is malformed")])
def test_malformed_numbering_pattern(client, request, tree, users, lang, expected):
    c = request.getfixturevalue("english") if lang == "en" else client
    login(c, users, Role.DEPARTMENT_STAFF)
    r = c.post(reverse("documents:patterns"), {"unit": "SUB1", "tier": Tier.PROCEDURE, "pattern": "SUB1-CX-{num}"})
    assert r.status_code == 200 and expected in r.content.decode()
    assert not NumberingPattern.objects.exists()


@pytest.mark.parametrize("lang,expected", [("zh", "不符"), ("en", "")])
def test_attachment_that_lies_about_its_type(client, request, tree, users, lang, expected):
    from pbqms.files.models import StoredFile

    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=tree.sub1, tier=Tier.REGULATION, title="党费制度", **TEXT)
    c = request.getfixturevalue("english") if lang == "en" else client
    login(c, users, Role.DEPARTMENT_STAFF)
    fake = SimpleUploadedFile("制度.pdf", b"MZ\x90\x00 this is an executable, not a PDF" * 20,
                              content_type="application/pdf")
    r = c.post(reverse("documents:attach", args=[doc.pk]), {"files": fake}, follow=True)
    body = r.content.decode()
    assert "制度.pdf" in body and 'msg-error' in body
    if expected:
        assert expected in body
    assert not StoredFile.objects.exists()
