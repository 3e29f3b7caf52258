"""The batched deadline sweep: the same messages as the notice-by-notice sweep it replaced (per
person, per language, once), crash-safe between and inside batches, in a number of SQL queries
that does not grow with the number of notices."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.core import clock
from pbqms.notify import channels
from pbqms.notify import selectors as recipients
from pbqms.notify import services as notify
from pbqms.notify.models import Delivery, Notification
from pbqms.orgs import tally
from pbqms.orgs.models import UnitTally
from pbqms.rectification import numbering, reminders, services, stats
from pbqms.rectification.models import (
    OWED_FINDING,
    OWED_NOTICE,
    Finding,
    Notice,
    PreventiveAction,
    PreventiveStatus,
    PreventiveTrigger,
)
from pbqms.rectification.reminders import SweepResult, sweep_deadlines

from .factories import SECRETARY, STAFF, finding, issued_notice, today

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b3c4d-aaaa-bbbb-cccc-0123456789ab"


# ---- the sweep as it was: one notice, one notify() per language, at a time -------------------

def _legacy_send(key, users, unit, link, title, body) -> int:
    by_lang: dict[str, list[Any]] = {}
    for u in users:
        by_lang.setdefault(u.language or "zh-hans", []).append(u)
    sent = 0
    for lang, group in by_lang.items():
        with translation.override(lang):
            sent += notify.notify(key=key, recipients=group, title=_(title[0]) % title[1],
                                  body=_(body[0]) % body[1], link=link, unit=unit)
    return sent


def _legacy_issuers(notice: Notice) -> list[Any]:
    users = {u.pk: u for u in recipients.role_holders(notice.issuing_unit, scope.RECT_ISSUE_ROLES)}
    if notice.created_by_id and notice.created_by and notice.created_by.is_active:
        users[notice.created_by_id] = notice.created_by
    return list(users.values())


def legacy_mark_overdue_findings(today: dt.date) -> int:
    marked = 0
    while True:
        with transaction.atomic():
            rows = list(Finding.objects.select_for_update(skip_locked=True)
                        .filter(status__in=OWED_FINDING, deadline__lt=today, overdue=False)
                        .values_list("pk", "org_path", "found_on")[:5000])
            if not rows:
                return marked
            Finding.objects.filter(pk__in=[r[0] for r in rows]).update(overdue=True)
            deltas: tally.Deltas = Counter()
            for _pk, path, found_on in rows:
                for uid in tally.path_ids(path):
                    deltas[(uid, f"{stats.PREFIX}{found_on.year}:overdue")] += 1
            tally.apply(deltas)
            marked += len(rows)


def legacy_sweep(day: dt.date) -> SweepResult:
    """The sweep before batching (kept here as the reference the batched sweep must equal)."""
    result = SweepResult()
    result.findings_overdue = legacy_mark_overdue_findings(day)
    link = lambda n: reverse("rectification:notice", args=[n.pk])  # noqa: E731
    owed = Notice.objects.filter(status__in=OWED_NOTICE).select_related("unit", "issuing_unit", "created_by")
    for n in owed.filter(deadline__lt=day, overdue_since__isnull=True):
        result.notices_overdue += 1
        result.messages += _legacy_send(
            f"rect:notice:{n.pk}:overdue:{n.deadline}",
            list(recipients.role_holders(n.unit, scope.RECT_RESPOND_ROLES)) + _legacy_issuers(n), n.unit, link(n),
            ("%(number)s is overdue", {"number": n.number}),
            ("%(unit)s has not submitted its feedback; the deadline was %(deadline)s.", {
                "unit": n.unit.name, "deadline": n.deadline.isoformat()}))
        Notice.objects.filter(pk=n.pk).update(overdue_since=n.deadline + dt.timedelta(days=1))
    for n in owed.filter(deadline__gte=day, deadline__lte=day + dt.timedelta(days=3)):
        left = (n.deadline - day).days
        due = [d for d in reminders._reminder_days(numbering.settings_for(n.issuing_unit)) if left <= d]
        if not due:
            continue
        sent = _legacy_send(
            f"rect:notice:{n.pk}:due:{n.deadline}:{min(due)}",
            list(recipients.role_holders(n.unit, scope.RECT_RESPOND_ROLES)), n.unit, link(n),
            ("%(number)s: deadline %(deadline)s", {"number": n.number, "deadline": n.deadline.isoformat()}),
            ("%(days)d days left to submit the feedback on %(title)s.", {"days": left, "title": n.title}))
        result.reminders += 1 if sent else 0
        result.messages += sent
    for n in owed.filter(deadline__lt=day, escalated_at__isnull=True):
        if (day - n.deadline).days < numbering.settings_for(n.issuing_unit).escalate_after_days:
            continue
        result.messages += _legacy_send(
            f"rect:notice:{n.pk}:escalate:{n.deadline}", list(recipients.secretaries_above(n.unit)), n.unit,
            link(n), ("Escalated: %(number)s overdue", {"number": n.number}),
            ("%(unit)s is %(days)d days late with the feedback on %(title)s.", {
                "unit": n.unit.name, "days": (day - n.deadline).days, "title": n.title}))
        Notice.objects.filter(pk=n.pk).update(escalated_at=clock.now())
        result.escalations += 1
    late = PreventiveAction.objects.filter(status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN),
                                           due_on__lt=day, owner__isnull=False).select_related("owner", "unit")
    for a in late:
        sent = _legacy_send(f"rect:preventive:{a.pk}:overdue:{a.due_on}", [a.owner], a.unit,
                            reverse("rectification:preventive", args=[a.pk]),
                            ("Preventive action overdue: %(title)s", {"title": a.title}),
                            ("It was due on %(due)s.", {"due": a.due_on.isoformat()}))
        result.preventive_overdue += 1 if sent else 0
        result.messages += sent
    return result


# ---- a varied organisation ---------------------------------------------------------------------

DAY_OFFSET = 8  # the sweep runs 8 days from now


@pytest.fixture
def world(tree, users, monkeypatch):
    """Notices in three branches under two issuers, people in two languages (one inactive, one
    without an address), a robot on B01, preventive actions; at `day`: overdue, escalated, reminded."""
    for role, lang, email in ((SECRETARY, "en", "sec@example.com"), (Role.BRANCH_COMMITTEE, "", ""),
                              (Role.COMMITTEE_SECRETARY, "en", "csec@example.com"), (STAFF, "", "staff@example.com"),
                              (Role.COMMITTEE_ADMIN, "zh-hans", "admin@example.com")):
        users[role].language, users[role].email = lang, email
        users[role].save(update_fields=["language", "email"])
    staff2 = accounts.create_user(None, username="staff2", password="x", validate=False)
    accounts.grant_role(None, staff2, STAFF, tree.sub2)
    b03_sec = accounts.create_user(None, username="b03sec", password="x", validate=False)
    b03_sec.language, b03_sec.email = "en", "b03@example.com"
    b03_sec.save()
    accounts.grant_role(None, b03_sec, SECRETARY, tree.b03)
    gone = accounts.create_user(None, username="gone", password="x", validate=False)
    accounts.grant_role(None, gone, SECRETARY, tree.b02)
    gone.is_active = False
    gone.save()
    monkeypatch.setattr(channels, "resolve", lambda host, port: ["101.91.22.57"])  # no DNS look-up in a test
    notify.save_webhook(None, tree.b01, "wecom", WECOM_URL, "", True)
    made = []
    for staff, unit, days in ((users[STAFF], tree.b01, 2), (users[STAFF], tree.b02, 2), (staff2, tree.b03, 2),
                              (users[STAFF], tree.b01, 6), (users[STAFF], tree.b01, 9), (users[STAFF], tree.b02, 11),
                              (staff2, tree.b03, 9), (users[STAFF], tree.b01, 12)):
        made.append(issued_notice(staff, unit, n=1, deadline_days=days))
    # a notice on findings of last year: the totals of two years move
    last_year = [finding(users[STAFF], tree.b02, item=f"DJ-2.{i}", found_on=today() - dt.timedelta(days=400 + i))
                 for i in (1, 2)]
    made.append(services.issue_notice(users[STAFF], services.draft_notice(
        users[STAFF], unit=tree.b02, findings=last_year, title="去年检查问题整改", requirement="逐条整改。",
        deadline=today() + dt.timedelta(days=1))))
    for i, (owner, due) in enumerate(((users[SECRETARY], 3), (users[Role.BRANCH_COMMITTEE], 1), (gone, 1),
                                      (users[SECRETARY], 20))):
        PreventiveAction.objects.create(key=f"manual:{i}", trigger=PreventiveTrigger.MANUAL, unit=tree.b01,
                                        org_path=tree.b01.path, title=f"建立三会一课台账 {i}", owner=owner,
                                        due_on=today() + dt.timedelta(days=due), status=PreventiveStatus.OPEN)
    return {"notices": made, "day": today() + dt.timedelta(days=DAY_OFFSET), "users": users}


def snapshot() -> tuple[list[tuple], ...]:
    """What the sweep filed and marked (messages, deliveries, notices' and findings' marks with
    the totals), without ids or times."""
    messages = sorted(Notification.objects.values_list("recipient_id", "key", "title", "body", "link", "unit_id",
                                                       "org_path"))
    deliveries = sorted(Delivery.objects.values_list("channel", "target", "key", "title", "body", "org_path",
                                                     "notification__recipient_id"), key=repr)
    marks = sorted((pk, since, at is not None) for pk, since, at in
                   Notice.objects.values_list("pk", "overdue_since", "escalated_at"))
    findings = sorted(Finding.objects.values_list("pk", "overdue"))
    totals = sorted(UnitTally.objects.filter(key__startswith=stats.PREFIX, n__gt=0).values_list("unit_id", "key", "n"))
    return messages, deliveries, marks, findings, totals


def undo(before: tuple[int, int]) -> None:
    """Take back a sweep: its messages and marks (as the benchmark does)."""
    Notification.objects.filter(pk__gt=before[0]).delete()
    Delivery.objects.filter(pk__gt=before[1]).delete()
    Finding.objects.filter(overdue=True).update(overdue=False)
    Notice.objects.filter(Q(overdue_since__isnull=False) | Q(escalated_at__isnull=False)).update(
        overdue_since=None, escalated_at=None)
    stats.recount()


def high_water() -> tuple[int, int]:
    last_n = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_d = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last_n, last_d


# ---- equal to the old sweep ---------------------------------------------------------------------

@pytest.fixture
def tagged(monkeypatch):
    """Translations that show the language they were made in (the catalogues need not hold the
    sweep's texts for the tests to see who reads which language)."""
    def tag(text: str) -> str:
        return f"[{translation.get_language()}] {translation.gettext(text)}"

    monkeypatch.setattr(reminders, "_", tag)
    monkeypatch.setattr(sys.modules[__name__], "_", tag)


def test_the_batched_sweep_files_what_the_old_sweep_filed(world, tagged):
    day = world["day"]
    before = high_water()
    old_result = legacy_sweep(day)
    old = snapshot()
    undo(before)
    assert snapshot()[2] == sorted((n.pk, None, False) for n in Notice.objects.all())
    new_result = sweep_deadlines(day)
    new = snapshot()
    assert new[0] == old[0], "the in-app messages differ"
    assert new[1] == old[1], "the e-mail and group-chat deliveries differ"
    assert new[2] == old[2], "the overdue and escalation marks differ"
    assert new[3] == old[3], "the findings' overdue flags differ"
    assert new[4] == old[4], "the totals differ"
    assert vars(new_result) == vars(old_result)
    # the case is not empty: every kind of message, both languages, the robot
    assert (new_result.notices_overdue, new_result.escalations) == (5, 4)  # one is 2 days late only
    assert new_result.findings_overdue == 6
    overdue_years = {key.split(":")[1] for _u, key, _n in new[4] if key.endswith(":overdue")}
    assert overdue_years == {str(today().year), str((today() - dt.timedelta(days=400)).year)}
    assert new_result.reminders >= 2 and new_result.preventive_overdue == 2
    titles = {t for _uid, _k, t, *_rest in new[0]}
    assert any(t.startswith("[en] ") for t in titles) and any(t.startswith("[zh-hans] ") for t in titles)
    assert any(channel == "wecom" for channel, *_rest in new[1])


def test_each_person_reads_the_message_in_their_own_language(world, tagged):
    users, day = world["users"], world["day"]
    sweep_deadlines(day)
    first = world["notices"][0]
    key = f"rect:notice:{first.pk}:overdue:{first.deadline}"
    expected = {SECRETARY: "en", Role.BRANCH_COMMITTEE: "zh-hans", STAFF: "zh-hans", Role.COMMITTEE_ADMIN: "zh-hans"}
    for role, lang in expected.items():
        message = Notification.objects.get(recipient=users[role], key=key)
        with translation.override(lang):
            title = translation.gettext("%(number)s is overdue") % {"number": first.number}
        assert message.title == f"[{lang}] {title}"
        assert message.body.startswith(f"[{lang}] {first.unit.name}")
    # the Chinese readers read Chinese (the texts are in the catalogue)
    assert Notification.objects.get(recipient=users[STAFF], key=key).title.endswith("已逾期")
    escalation = Notification.objects.get(recipient=users[Role.COMMITTEE_SECRETARY],
                                          key=f"rect:notice:{first.pk}:escalate:{first.deadline}")
    assert escalation.title.startswith("[en] Escalated")
    assert not Notification.objects.filter(recipient__username="gone").exists()
    # the robot of B01 hears each key once, though the key went out in two languages
    assert Delivery.objects.filter(key=key, channel="wecom").count() == 1


def test_a_second_sweep_files_nothing(world):
    day = world["day"]
    first = sweep_deadlines(day)
    assert first.messages > 0
    state = snapshot()
    again = sweep_deadlines(day)
    assert (again.messages, again.notices_overdue, again.escalations, again.reminders,
            again.preventive_overdue, again.findings_overdue) == (0, 0, 0, 0, 0, 0)
    assert snapshot() == state


# ---- crash safety --------------------------------------------------------------------------------

_real_send = reminders._send


def _dying_on(call: int, monkeypatch, after_filing: bool = False, when=None) -> None:
    """Kill the worker at the `call`-th batch of messages (or the first for which `when` holds)."""
    calls = {"n": 0}

    def dying(messages):
        calls["n"] += 1
        if (when(messages) if when else calls["n"] == call):
            if after_filing:
                _real_send(messages)  # the messages are written, then the worker dies before the marks
            raise SystemExit("worker killed")
        return _real_send(messages)

    monkeypatch.setattr(reminders, "_send", dying)


def test_a_sweep_killed_between_batches_and_rerun_equals_one_clean_sweep(world, monkeypatch):
    day = world["day"]
    before = high_water()
    sweep_deadlines(day)
    clean = snapshot()
    undo(before)
    monkeypatch.setattr(reminders, "NOTICE_BATCH", 1)
    first = world["notices"][0]
    # the first batch (one late notice) is done, the second dies
    _dying_on(0, monkeypatch, when=lambda messages: any(f":{first.pk}:" not in m.key for m in messages))
    with pytest.raises(SystemExit):
        sweep_deadlines(day)
    marked = Notice.objects.exclude(overdue_since=None).values_list("pk", flat=True)
    assert list(marked) == [first.pk]
    assert Notification.objects.filter(pk__gt=before[0]).exclude(key__contains=f":{first.pk}:").count() == 0
    monkeypatch.setattr(reminders, "_send", _real_send)
    sweep_deadlines(day)
    sweep_deadlines(day)
    assert snapshot() == clean


def test_a_sweep_killed_inside_a_batch_leaves_the_batch_undone(world, monkeypatch):
    """Killed after filing a batch's messages but before its marks: the transaction takes both back."""
    day = world["day"]
    before = high_water()
    sweep_deadlines(day)
    clean = snapshot()
    undo(before)
    _dying_on(1, monkeypatch, after_filing=True)
    with pytest.raises(SystemExit):
        sweep_deadlines(day)
    assert Notification.objects.filter(pk__gt=before[0]).count() == 0
    assert not Notice.objects.exclude(overdue_since=None).exists()
    monkeypatch.setattr(reminders, "_send", _real_send)
    sweep_deadlines(day)
    assert snapshot() == clean


def test_small_batches_file_what_one_batch_files(world, monkeypatch):
    day = world["day"]
    before = high_water()
    one = sweep_deadlines(day)
    whole = snapshot()
    undo(before)
    monkeypatch.setattr(reminders, "NOTICE_BATCH", 2)
    monkeypatch.setattr(reminders, "BATCH", 1)
    monkeypatch.setattr(notify, "BATCH", 3)
    assert vars(sweep_deadlines(day)) == vars(one)
    assert snapshot() == whole


# ---- bounded queries -------------------------------------------------------------------------------

def _notices(users, tree, n: int) -> None:
    for i in range(n):
        unit = (tree.b01, tree.b02)[i % 2]
        issued_notice(users[STAFF], unit, n=1, deadline_days=(2, 9)[i // 2 % 2])
        PreventiveAction.objects.create(key=f"q:{n}:{i}", trigger=PreventiveTrigger.MANUAL, unit=unit,
                                        org_path=unit.path, title="台账", owner=users[SECRETARY],
                                        due_on=today() + dt.timedelta(days=1), status=PreventiveStatus.OPEN)


def test_the_sweeps_queries_do_not_grow_with_the_notices(tree, users, django_assert_max_num_queries):
    for role, lang in ((SECRETARY, "en"), (Role.COMMITTEE_SECRETARY, "en")):
        users[role].language = lang
        users[role].save(update_fields=["language"])
    day = today() + dt.timedelta(days=DAY_OFFSET)
    _notices(users, tree, 5)
    before = high_water()
    with CaptureQueriesContext(connection) as small:
        result = sweep_deadlines(day)
    assert result.notices_overdue and result.reminders and result.escalations and result.preventive_overdue
    undo(before)
    _notices(users, tree, 45)
    # SQLite binds at most 999 parameters a statement: Django splits the larger run's one bulk insert
    # of notifications (ten columns since messages carry their kind) into two statements.
    chunks = 1 if connection.vendor == "sqlite" else 0
    with django_assert_max_num_queries(len(small) + chunks):
        result = sweep_deadlines(day)
    assert result.notices_overdue == 26 and result.escalations == 26 and result.preventive_overdue == 50
    assert result.reminders == 12  # B02 has nobody to remind
