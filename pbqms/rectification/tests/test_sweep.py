"""The deadline sweep: reminders, overdue marking, escalation — never twice, never lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from pbqms.accounts.models import Role
from pbqms.notify.models import Notification
from pbqms.rectification import reminders, services, stats
from pbqms.rectification.models import Finding, Notice
from pbqms.rectification.reminders import sweep_deadlines

from .factories import SECRETARY, STAFF, answers, issued_notice, today


def keys_for(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("key", flat=True))


def test_issuing_tells_the_units_committee(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    for role in (Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE):
        assert keys_for(users[role]) == [f"rect:notice:{notice.pk}:issued"]
    assert keys_for(users[Role.MEMBER]) == []
    message = Notification.objects.filter(recipient=users[SECRETARY]).get()
    assert notice.number in message.title and message.link.endswith(f"/{notice.pk}/")


def test_reminders_come_once_per_reminder_day(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=1, deadline_days=3)
    secretary = users[SECRETARY]
    first = sweep_deadlines(today())
    assert first.reminders == 1
    again = sweep_deadlines(today())
    assert again.reminders == 0 and again.messages == 0
    sweep_deadlines(today() + dt.timedelta(days=2))
    assert keys_for(secretary) == sorted([
        f"rect:notice:{notice.pk}:issued",
        f"rect:notice:{notice.pk}:due:{notice.deadline}:3",
        f"rect:notice:{notice.pk}:due:{notice.deadline}:1",
    ])


def test_overdue_is_marked_once_and_counted(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=2, deadline_days=2)
    day = notice.deadline + dt.timedelta(days=1)
    result = sweep_deadlines(day)
    assert (result.findings_overdue, result.notices_overdue) == (2, 1)
    notice.refresh_from_db()
    assert notice.overdue_since == day
    assert set(Finding.objects.values_list("overdue", flat=True)) == {True}
    assert stats.read([tree.sub1.pk], today().year)[tree.sub1.pk]["overdue"] == 2
    # the issuer hears of it too
    assert f"rect:notice:{notice.pk}:overdue:{notice.deadline}" in keys_for(users[STAFF])
    second = sweep_deadlines(day)
    assert (second.findings_overdue, second.notices_overdue, second.messages) == (0, 0, 0)
    assert stats.read([tree.sub1.pk], today().year)[tree.sub1.pk]["overdue"] == 2


def test_answered_findings_are_not_overdue_and_closing_clears_the_count(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = issued_notice(staff, tree.b01, n=1, deadline_days=2)
    sweep_deadlines(notice.deadline + dt.timedelta(days=1))
    assert stats.read([tree.b01.pk], today().year)[tree.b01.pk]["overdue"] == 1
    services.submit_feedback(secretary, notice, answers(notice))
    assert stats.read([tree.b01.pk], today().year)[tree.b01.pk]["overdue"] == 0
    services.verify_finding(staff, notice.findings.get(), effective=True, note="核实")
    totals = stats.read([tree.b01.pk], today().year)[tree.b01.pk]
    assert (totals["closed"], totals["overdue"]) == (1, 0)


def test_escalation_reaches_the_secretary_one_level_up_once(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=1, deadline_days=2)
    above = users[Role.COMMITTEE_SECRETARY]  # secretary of SUB1, B01's parent
    sweep_deadlines(notice.deadline + dt.timedelta(days=2))
    assert not any(":escalate:" in k for k in keys_for(above))
    result = sweep_deadlines(notice.deadline + dt.timedelta(days=3))
    assert result.escalations == 1
    assert f"rect:notice:{notice.pk}:escalate:{notice.deadline}" in keys_for(above)
    assert sweep_deadlines(notice.deadline + dt.timedelta(days=4)).escalations == 0


def test_a_returned_notice_rearms_the_reminders_for_its_new_deadline(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = issued_notice(staff, tree.b01, n=1, deadline_days=1)
    sweep_deadlines(today())
    services.submit_feedback(secretary, notice, answers(notice))
    new_deadline = today() + dt.timedelta(days=3)
    services.return_notice(staff, Notice.objects.get(pk=notice.pk), reason="不到位", deadline=new_deadline)
    sweep_deadlines(today())
    assert f"rect:notice:{notice.pk}:due:{new_deadline}:3" in keys_for(secretary)


def test_a_sweep_killed_half_way_loses_nothing_and_duplicates_nothing(tree, users, monkeypatch):
    notices = [issued_notice(users[STAFF], unit, n=1, deadline_days=2) for unit in (tree.b01, tree.b02, tree.b01)]
    day = max(n.deadline for n in notices) + dt.timedelta(days=5)
    real = reminders._send
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminders, "_send", dying)
    with pytest.raises(SystemExit):
        sweep_deadlines(day)
    monkeypatch.setattr(reminders, "_send", real)
    sweep_deadlines(day)
    sweep_deadlines(day)
    keys = list(Notification.objects.values_list("recipient_id", "key"))
    assert len(keys) == len(set(keys)), "a message was filed twice"
    for n in notices:
        n.refresh_from_db()
        assert n.overdue_since is not None and n.escalated_at is not None
        overdue_key = f"rect:notice:{n.pk}:overdue:{n.deadline}"
        assert Notification.objects.filter(key=overdue_key).exists(), "an overdue message was lost"
        assert Notification.objects.filter(key=f"rect:notice:{n.pk}:escalate:{n.deadline}").exists()
    assert Finding.objects.filter(overdue=False).count() == 0


def test_the_command_runs_the_sweep(tree, users, capsys):
    issued_notice(users[STAFF], tree.b01, n=1, deadline_days=2)
    call_command("sweep_deadlines", "--today", (today() + dt.timedelta(days=3)).isoformat())
    assert "notices newly overdue: 1" in capsys.readouterr().out


def test_sweep_messages_read_in_each_recipients_language(tree, users):
    """The sweep's texts are in the catalogue: a Chinese reader gets Chinese, an English one English."""
    notice = issued_notice(users[STAFF], tree.b01, n=1, deadline_days=3)
    secretary = users[SECRETARY]
    secretary.language = "zh-hans"
    secretary.save(update_fields=["language"])
    committee = users[Role.BRANCH_COMMITTEE]
    committee.language = "en"
    committee.save(update_fields=["language"])
    sweep_deadlines(today())
    key = f"rect:notice:{notice.pk}:due:{notice.deadline}:3"
    zh = Notification.objects.get(recipient=secretary, key=key)
    en = Notification.objects.get(recipient=committee, key=key)
    assert zh.title == f"{notice.number}：期限 {notice.deadline.isoformat()}"
    assert "整改反馈期限还有 3 天" in zh.body
    assert en.body.startswith("3 days left to submit the feedback")
