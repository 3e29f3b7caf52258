"""Submitting once (#21.7): a create form's hidden one-time key and an API POST's Idempotency-Key
make one record however often the same submission arrives; the repeat answers with the first's
result. Without a key nothing changes; a failed submission does not spend its key."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.activities.models import ActivityRecord
from pbqms.core import clock
from pbqms.documents.models import Document
from pbqms.files import idempotency
from pbqms.files.models import SubmissionKey
from pbqms.objectives import services as objectives
from pbqms.objectives.models import Target
from pbqms.rectification.models import Feedback, Finding, Notice
from pbqms.rectification.tests.factories import finding, issued_notice, today

STAFF, SECRETARY = Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY
KEY = "3f1c9a0e2b7d4c5a8e6f1d2c3b4a5968"
FINDING_POST = {"unit": "B01", "source": "inspection", "item_code": "DJ-1.1", "severity": "major",
                "description": "三会一课记录不全", "submission_key": KEY}


def body(r) -> str:
    return r.content.decode()


def api_post(client, user, path: str, payload: dict, key: str | None = KEY):
    headers = {"Authorization": f"Bearer {accounts.issue_token(user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json.dumps(payload), content_type="application/json", headers=headers)


# ---- the mechanism -----------------------------------------------------------------------------

def test_once_runs_the_creation_once_per_user_and_key(users, tree):
    staff, other = users[STAFF], users[Role.COMMITTEE_ADMIN]
    made = []

    def create():
        made.append(finding(staff, tree.b01))
        return made[-1]

    first = idempotency.once(staff, KEY, "rectification.finding", create)
    again = idempotency.once(staff, KEY, "rectification.finding", create)
    assert first.created and not again.created and again.pk == first.pk and again.obj is None
    assert len(made) == 1 and Finding.objects.count() == 1
    # another person's same key is theirs alone; no key at all always creates
    assert idempotency.once(other, KEY, "rectification.finding", create).created
    assert idempotency.once(staff, "", "rectification.finding", create).created
    assert Finding.objects.count() == 3
    # the same key for another kind of record is refused, and makes nothing
    with pytest.raises(ValidationError) as e:
        idempotency.once(staff, KEY, "rectification.notice", create)
    assert e.value.code == "idempotency_key" and Finding.objects.count() == 3


def test_a_failed_creation_does_not_spend_the_key(users, tree):
    staff = users[STAFF]

    def fail():
        raise ValidationError("不行")

    with pytest.raises(ValidationError):
        idempotency.once(staff, KEY, "rectification.finding", fail)
    assert not SubmissionKey.objects.exists()
    assert idempotency.once(staff, KEY, "rectification.finding", lambda: finding(staff, tree.b01)).created


def test_old_keys_are_purged(users, tree):
    idempotency.once(users[STAFF], KEY, "rectification.finding", lambda: finding(users[STAFF], tree.b01))
    assert idempotency.purge() == 0
    assert idempotency.purge(clock.now() + dt.timedelta(days=idempotency.KEEP_DAYS + 1)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor == 'sqlite'", reason="SQLite serialises whole transactions; "
                    "the sequential tests cover it")
def test_two_simultaneous_submissions_make_one_record(tree, users):
    """Two threads submit the same key at the same moment: one record, both answer its pk."""
    staff = users[STAFF]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def create():
        f = finding(staff, tree.b01)
        time.sleep(0.5)  # the other submission arrives while this one is still inside its transaction
        return f

    def submit():
        try:
            barrier.wait(timeout=5)
            results.append(idempotency.once(staff, KEY, "rectification.finding", create))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors
    assert Finding.objects.count() == 1
    assert len(results) == 2 and {r.pk for r in results} == {Finding.objects.get().pk}
    assert sorted(r.created for r in results) == [False, True]


# ---- rectification: finding, notice, feedback (web and API) -----------------------------------------

def test_new_finding_form_sent_twice_records_one_finding(client, users, tree):
    client.force_login(users[STAFF])
    r = client.get(reverse("rectification:finding_create"))
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', body(r)).group(1)
    post = {**FINDING_POST, "found_on": today().isoformat(), "submission_key": key}
    first = client.post(reverse("rectification:finding_create"), post)
    second = client.post(reverse("rectification:finding_create"), post)
    assert Finding.objects.count() == 1
    f = Finding.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("rectification:finding", args=[f.pk])
    r = client.get(second["Location"])
    assert "此表单已经提交过" in body(r)
    # a fresh form has a fresh key: a second finding on purpose is recorded
    r = client.get(reverse("rectification:finding_create"))
    assert key not in body(r)


def test_a_refused_finding_form_keeps_its_key_for_the_corrected_submission(client, users, tree):
    client.force_login(users[STAFF])
    bad = {**FINDING_POST, "found_on": (today() + dt.timedelta(days=5)).isoformat()}  # in the future
    r = client.post(reverse("rectification:finding_create"), bad)
    assert r.status_code == 200 and KEY in body(r) and Finding.objects.count() == 0
    r = client.post(reverse("rectification:finding_create"), {**bad, "found_on": today().isoformat()})
    assert r.status_code == 302 and Finding.objects.count() == 1


def test_new_notice_form_sent_twice_drafts_one_notice(client, users, tree):
    staff = users[STAFF]
    f = finding(staff, tree.b01)
    client.force_login(staff)
    r = client.get(reverse("rectification:notice_create") + "?unit=B01")
    assert 'name="submission_key"' in body(r)
    post = {"unit": "B01", "findings": [f.pk], "title": "整改", "requirement": "整改",
            "deadline": (today() + dt.timedelta(days=10)).isoformat(), "submission_key": KEY, "issue": "1"}
    first = client.post(reverse("rectification:notice_create"), post)
    second = client.post(reverse("rectification:notice_create"), post)
    assert Notice.objects.count() == 1 and first["Location"] == second["Location"]


def test_feedback_form_sent_twice_files_one_feedback(client, users, tree):
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    client.force_login(users[SECRETARY])
    url = reverse("rectification:notice_feedback", args=[notice.pk])
    r = client.get(url)
    assert 'name="submission_key"' in body(r)
    f = notice.findings.get()
    from pbqms.rectification.models import CauseCategory
    post = {f"f{f.pk}-cause_category": CauseCategory.objects.filter(active=True).first().pk,
            f"f{f.pk}-cause": "学习不够", f"f{f.pk}-measures": "补齐记录", f"f{f.pk}-completed_on": today().isoformat(),
            "submission_key": KEY}
    first = client.post(url, post)
    assert first.status_code == 302, body(first)
    second = client.post(url, post)
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert Feedback.objects.count() == 1


def test_api_creates_answer_the_first_result_for_a_repeated_key(client, users, tree):
    staff = users[STAFF]
    payload = {"unit": "B01", "description": "检查发现", "found_on": today().isoformat()}
    a = api_post(client, staff, "/api/v1/rectification/findings", payload)
    b = api_post(client, staff, "/api/v1/rectification/findings", payload)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert Finding.objects.count() == 1
    assert api_post(client, staff, "/api/v1/rectification/findings", payload, key=None).status_code == 201
    assert Finding.objects.count() == 2  # no key: as before
    f = Finding.objects.order_by("pk").first()
    notice = {"unit": "B01", "findings": [f.pk], "title": "整改", "requirement": "整改",
              "deadline": (today() + dt.timedelta(days=10)).isoformat()}
    a = api_post(client, staff, "/api/v1/rectification/notices", notice, key="notice-key-0001")
    b = api_post(client, staff, "/api/v1/rectification/notices", notice, key="notice-key-0001")
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert Notice.objects.count() == 1


def test_api_feedback_sent_twice_files_one_feedback(client, users, tree):
    from pbqms.rectification.models import CauseCategory
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    f = notice.findings.get()
    payload = {"answers": [{"finding": f.pk, "cause_category": CauseCategory.objects.filter(active=True).first().code,
                            "cause": "学习不够", "measures": "补齐记录", "completed_on": today().isoformat()}]}
    a = api_post(client, users[SECRETARY], f"/api/v1/rectification/notices/{notice.pk}/feedback", payload)
    b = api_post(client, users[SECRETARY], f"/api/v1/rectification/notices/{notice.pk}/feedback", payload)
    assert a.status_code == b.status_code == 200, b.content
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize(("lang", "message"), [
    ("zh-hans", "Idempotency-Key 请求头须为 8 至 64 个字母、数字或 - _ . :"),
    ("en", "The Idempotency-Key header must be 8 to 64 letters, digits or - _ . :")])
def test_a_malformed_idempotency_key_is_refused(client, users, tree, lang, message):
    headers = {"Authorization": f"Bearer {accounts.issue_token(users[STAFF])}", "Idempotency-Key": "短 key",
               "Accept-Language": lang}
    r = client.post("/api/v1/rectification/findings",
                    json.dumps({"unit": "B01", "description": "检查发现", "found_on": today().isoformat()}),
                    content_type="application/json", headers=headers)
    assert r.status_code == 422 and message in body(r)
    assert Finding.objects.count() == 0


# ---- activities, documents, objectives -----------------------------------------------------------

RECORD_DAY = dt.date(2026, 5, 12)


def test_activity_record_sent_twice_records_once(client, users, tree):
    with clock.as_of(dt.date(2026, 5, 20)):
        client.force_login(users[SECRETARY])
        url = reverse("activities:record_create", args=["B01"])
        assert 'name="submission_key"' in body(client.get(url))
        post = {"kind": "assembly", "held_on": RECORD_DAY.isoformat(), "start_time": "14:30", "place": "三楼",
                "topic": "研究五月份党建工作", "host": str(tree.m01.pk), "recorder": "", "minutes": "传达",
                "resolutions": "", "attendee": [str(tree.m01.pk)], "present": [str(tree.m01.pk)],
                f"reason-{tree.m01.pk}": "", "submission_key": KEY}
        first = client.post(url, post)
        second = client.post(url, post)
        assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
        assert ActivityRecord.objects.count() == 1
        payload = {"unit": "B01", "kind": "assembly", "held_on": "2026-05-13", "topic": "再研究",
                   "attendance": [{"member": tree.m01.pk, "present": True, "reason": ""}]}
        a = api_post(client, users[SECRETARY], "/api/v1/activities/records", payload, key="record-key-001")
        b = api_post(client, users[SECRETARY], "/api/v1/activities/records", payload, key="record-key-001")
        assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
        assert ActivityRecord.objects.count() == 2


def test_new_document_sent_twice_creates_one(client, users, tree):
    staff = users[STAFF]
    client.force_login(staff)
    assert 'name="submission_key"' in body(client.get(reverse("documents:create")))
    post = {"unit": "SUB1", "tier": "procedure", "title": "发展党员控制程序", "applies_to": "SUB1",
            "include_subtree": "on", "review_interval_months": 12, "order": 0, "submission_key": KEY}
    first = client.post(reverse("documents:create"), post)
    second = client.post(reverse("documents:create"), post)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Document.objects.count() == 1
    payload = {"unit": "SUB1", "tier": "regulation", "title": "党员大会制度", "purpose": "规范"}
    a = api_post(client, staff, "/api/v1/documents", payload, key="document-key-01")
    b = api_post(client, staff, "/api/v1/documents", payload, key="document-key-01")
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert Document.objects.count() == 2


def test_new_target_sent_twice_sets_one(client, users, tree):
    objective = objectives.create_objective(None, tree.sub1, year=2026, title="党员教育培训全覆盖", indicator="参训率",
                                            value_kind="percent", target_value="100",
                                            deadline=dt.date(2026, 12, 31), responsible="党委副书记")
    admin = users[Role.COMMITTEE_SECRETARY]
    client.force_login(admin)
    url = reverse("objectives:target_create", args=["B01"]) + "?year=2026"
    assert 'name="submission_key"' in body(client.get(url))
    post = {"objective": str(objective.pk), "parent": "", "member": "", "task": "组织学习", "person": "支部书记",
            "indicator": "次数", "value_kind": "number", "target_value": "4", "deadline": "2026-10-31",
            "submission_key": KEY}
    first = client.post(url, post)
    second = client.post(url, post)
    assert first.status_code == second.status_code == 302, body(first)
    assert first["Location"] == second["Location"] and Target.objects.count() == 1
    payload = {"objective": objective.pk, "unit": "B01", "task": "组织学习", "person": "支部书记", "indicator": "次数",
               "value_kind": "number", "target_value": "4", "deadline": "2026-10-31"}
    a = api_post(client, admin, "/api/v1/objectives/targets", payload, key="target-key-0001")
    b = api_post(client, admin, "/api/v1/objectives/targets", payload, key="target-key-0001")
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    assert Target.objects.count() == 2
