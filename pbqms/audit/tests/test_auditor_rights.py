"""The internal auditor (内审员) reads and writes nothing (#21.6, #20.7): they record audit findings
through audits (an app still to come), never directly; they run no assessment, upload no file and
build no bulletin. They read the audit trail of their own subtree."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment.models import Period
from pbqms.assessment.tests import walk_results as W
from pbqms.audit.models import AuditEntry
from pbqms.files.models import StoredFile
from pbqms.files.tests import samples
from pbqms.members import services as members
from pbqms.notify.models import Notification
from pbqms.orgs import services as orgs
from pbqms.rectification.models import Finding


@pytest.fixture
def auditor(users):
    return users[Role.INTERNAL_AUDITOR]


@pytest.fixture
def q1(tree, users):
    data = W.build(users[Role.DEPARTMENT_STAFF], tree.sub1, [tree.b01, tree.b02])
    return Period.objects.get(pk=data["period"])


def _state():
    return (Finding.objects.count(), StoredFile.objects.count(), AuditEntry.objects.count(),
            Notification.objects.count())


def test_auditor_raises_no_finding_through_the_api(client, tree, auditor):
    key = accounts.issue_token(auditor)
    before = _state()
    r = client.post("/api/v1/rectification/findings",
                    {"unit": "B01", "description": "会议记录不全", "found_on": "2025-03-01", "source": "audit"},
                    content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403, r.content
    assert _state() == before


def test_auditor_raises_no_finding_by_hand(client, tree, auditor):
    client.force_login(auditor)
    before = _state()
    assert client.get(reverse("rectification:finding_create")).status_code == 403
    r = client.post(reverse("rectification:finding_create"),
                    {"unit": "B01", "description": "会议记录不全", "found_on": "2025-03-01", "source": "audit"})
    assert r.status_code == 403
    assert _state() == before


def test_auditor_raises_no_finding_from_deductions(client, q1, auditor):
    key = accounts.issue_token(auditor)
    before = _state()
    r = client.post(f"/api/v1/assessment/periods/{q1.pk}/findings", {"unit": "B01"},
                    content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403, r.content
    client.force_login(auditor)
    r = client.post(reverse("assessment:raise_findings", kwargs={"period_pk": q1.pk, "code": "B01"}), {"all": "1"})
    assert r.status_code == 403
    assert _state() == before


def test_auditor_builds_no_bulletin_but_reads_it(client, q1, auditor):
    key = accounts.issue_token(auditor)
    before = _state()
    r = client.post(f"/api/v1/assessment/periods/{q1.pk}/bulletin/build",
                    headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403, r.content
    client.force_login(auditor)
    assert client.post(reverse("assessment:bulletin_build", kwargs={"period_pk": q1.pk})).status_code == 403
    assert _state() == before
    page = client.get(reverse("assessment:bulletin", kwargs={"period_pk": q1.pk}))
    assert page.status_code == 200
    assert reverse("assessment:bulletin_build", kwargs={"period_pk": q1.pk}) not in page.content.decode()


def test_auditor_uploads_no_file(client, tree, auditor):
    client.force_login(auditor)
    before = _state()
    r = client.post(reverse("files:upload"), {"unit": "B01", "upload": [samples.upload("照片.png")]},
                    headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert _state() == before


def test_auditor_reads_the_audit_log_of_their_subtree_only(client, tree, users, auditor,
                                                           django_assert_max_num_queries):
    admin = users[Role.COMMITTEE_ADMIN]
    members.update_member(admin, tree.m01, post="综采队队长")
    orgs.update_unit(admin, tree.b02, name="第二党支部（机电）")
    members.update_member(None, tree.m03, post="外面")  # outside SUB1
    client.force_login(auditor)
    home = client.get("/").content.decode()
    assert reverse("audit:log") in home  # the menu names it
    with django_assert_max_num_queries(15):
        r = client.get(reverse("audit:log"))
    assert r.status_code == 200
    shown = {e.object_repr for e in r.context["page"].items}
    assert "张三" in shown and "第二党支部（机电）" in shown
    assert "王五" not in r.content.decode() and "第三党支部" not in r.content.decode()
    r = client.get(reverse("audit:log"), {"q": "王五"})
    assert r.status_code == 200 and not r.context["page"].items
    r = client.get(reverse("audit:log"), {"q": "张三", "model": "members.member"})
    assert [e.object_repr for e in r.context["page"].items] == ["张三"] * len(r.context["page"].items)
    assert r.context["page"].items
