"""Deadlines — 整改时限: messages on each step, reminders before the deadline, overdue marking and
escalation to the secretary one level up, all through pbqms.notify.

Every message carries a key naming the notice, the event and the deadline it is about, and
notify() sends a key to a person once: the sweep can run twice, or be killed half-way and run
again, and nobody hears anything twice (a new deadline after a return re-arms the reminders).
Overdue marking is a set of idempotent UPDATEs done in committed batches.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from pbqms import scope
from pbqms.core import clock
from pbqms.orgs import tally

from . import numbering, stats
from .models import OWED_FINDING, OWED_NOTICE, Finding, Notice, PreventiveAction, PreventiveStatus

BATCH = 5000


Message = tuple[str, dict[str, Any]]  # a msgid marked with gettext_noop, and its parameters


def _send(key: str, users: Iterable[Any], unit: Any, link: str, title: Message, body: Message) -> int:
    """notify() once per language, so each person reads the message in their own language."""
    from pbqms.notify import services as notify

    by_lang: dict[str, list[Any]] = {}
    for u in users:
        by_lang.setdefault(u.language or "zh-hans", []).append(u)
    sent = 0
    for lang, group in by_lang.items():
        with translation.override(lang):
            sent += notify.notify(key=key, recipients=group, title=_(title[0]) % title[1],
                                  body=_(body[0]) % body[1], link=link, unit=unit)
    return sent


def _responders(unit: Any) -> list[Any]:
    from pbqms.notify import selectors

    return list(selectors.role_holders(unit, scope.RECT_RESPOND_ROLES))


def _issuers(notice: Notice) -> list[Any]:
    from pbqms.notify import selectors

    users = {u.pk: u for u in selectors.role_holders(notice.issuing_unit, scope.RECT_ISSUE_ROLES)}
    if notice.created_by_id and notice.created_by and notice.created_by.is_active:
        users[notice.created_by_id] = notice.created_by
    return list(users.values())


def _link(notice: Notice) -> str:
    return reverse("rectification:notice", args=[notice.pk])


def on_issued(notice: Notice) -> None:
    _send(f"rect:notice:{notice.pk}:issued", _responders(notice.unit), notice.unit, _link(notice),
          (N_("Rectification notice %(number)s"), {"number": notice.number}),
          (N_("%(unit)s: %(title)s. Submit the feedback by %(deadline)s."), {
              "unit": notice.unit.name, "title": notice.title, "deadline": notice.deadline.isoformat()}))


def on_answered(notice: Notice) -> None:
    rounds = notice.rounds
    _send(f"rect:notice:{notice.pk}:answered:{rounds}", _issuers(notice), notice.unit, _link(notice),
          (N_("Feedback on %(number)s"), {"number": notice.number}),
          (N_("%(unit)s submitted its feedback: verify the fixes."), {"unit": notice.unit.name}))


def on_returned(notice: Notice, reason: str) -> None:
    _send(f"rect:notice:{notice.pk}:returned:{notice.rounds}", _responders(notice.unit), notice.unit,
          _link(notice),
          (N_("%(number)s returned"), {"number": notice.number}),
          (N_("Reason: %(reason)s. New deadline: %(deadline)s."), {
              "reason": reason, "deadline": notice.deadline.isoformat()}))


@dataclass
class SweepResult:
    findings_overdue: int = 0
    notices_overdue: int = 0
    reminders: int = 0
    escalations: int = 0
    preventive_overdue: int = 0
    messages: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _mark_overdue_findings(today: dt.date) -> int:
    """Flag owed findings past their deadline, in committed batches, keeping the totals current."""
    marked = 0
    while True:
        with transaction.atomic():
            rows = list(Finding.objects.select_for_update(skip_locked=True)
                        .filter(status__in=OWED_FINDING, deadline__lt=today, overdue=False)
                        .values_list("pk", "org_path", "found_on")[:BATCH])
            if not rows:
                return marked
            Finding.objects.filter(pk__in=[r[0] for r in rows]).update(overdue=True)
            deltas: tally.Deltas = Counter()
            for _pk, path, found_on in rows:
                for uid in tally.path_ids(path):
                    deltas[(uid, f"{stats.PREFIX}{found_on.year}:overdue")] += 1
            tally.apply(deltas)
            marked += len(rows)


def _settings_cache() -> Callable[[Notice], Any]:
    cache: dict[int, Any] = {}

    def get(notice: Notice) -> Any:
        if notice.issuing_unit_id not in cache:
            cache[notice.issuing_unit_id] = numbering.settings_for(notice.issuing_unit)
        return cache[notice.issuing_unit_id]
    return get


def _reminder_days(settings_row: Any) -> list[int]:
    return sorted({int(d) for d in str(settings_row.reminder_days or "").split(",") if d.strip().isdigit()})


def sweep_deadlines(today: dt.date | None = None) -> SweepResult:
    """The daily sweep (`pbqms sweep-deadlines`, and the `sweep_deadlines_task` task)."""
    today = today or clock.today()
    result = SweepResult()
    result.findings_overdue = _mark_overdue_findings(today)
    settings_for = _settings_cache()

    # Overdue notices: mark once, tell the unit and the issuer once per deadline.
    owed = Notice.objects.filter(status__in=OWED_NOTICE).select_related("unit", "issuing_unit", "created_by")
    for notice in owed.filter(deadline__lt=today, overdue_since__isnull=True).iterator(chunk_size=2000):
        # send, then mark: a sweep killed in between sends nothing twice (the key) and loses nothing
        result.notices_overdue += 1
        result.messages += _send(
            f"rect:notice:{notice.pk}:overdue:{notice.deadline}", _responders(notice.unit) + _issuers(notice),
            notice.unit, _link(notice),
            (N_("%(number)s is overdue"), {"number": notice.number}),
            (N_("%(unit)s has not submitted its feedback; the deadline was %(deadline)s."), {
                "unit": notice.unit.name, "deadline": notice.deadline.isoformat()}))
        Notice.objects.filter(pk=notice.pk, overdue_since__isnull=True).update(
            overdue_since=notice.deadline + dt.timedelta(days=1))

    # Reminders before the deadline: the most urgent reminder day not yet passed.
    horizon = max([3] + [d for s in [numbering.settings_for(u) for u in _issuing_units(owed, today)]
                         for d in _reminder_days(s)])
    upcoming = owed.filter(deadline__gte=today, deadline__lte=today + dt.timedelta(days=horizon))
    for notice in upcoming.iterator(chunk_size=2000):
        left = (notice.deadline - today).days
        due = [d for d in _reminder_days(settings_for(notice)) if left <= d]
        if not due:
            continue
        d = min(due)
        sent = _send(f"rect:notice:{notice.pk}:due:{notice.deadline}:{d}", _responders(notice.unit), notice.unit,
                     _link(notice),
                     (N_("%(number)s: deadline %(deadline)s"), {
                         "number": notice.number, "deadline": notice.deadline.isoformat()}),
                     (N_("%(days)d days left to submit the feedback on %(title)s."), {
                         "days": left, "title": notice.title}))
        result.reminders += 1 if sent else 0
        result.messages += sent

    # Escalation: N days overdue → the secretary one level up, once per deadline.
    from pbqms.notify import selectors

    for notice in owed.filter(deadline__lt=today, escalated_at__isnull=True).iterator(chunk_size=2000):
        after = settings_for(notice).escalate_after_days
        if (today - notice.deadline).days < after:
            continue
        above = list(selectors.secretaries_above(notice.unit, levels=1))
        result.messages += _send(
            f"rect:notice:{notice.pk}:escalate:{notice.deadline}", above, notice.unit, _link(notice),
            (N_("Escalated: %(number)s overdue"), {"number": notice.number}),
            (N_("%(unit)s is %(days)d days late with the feedback on %(title)s."), {
                "unit": notice.unit.name, "days": (today - notice.deadline).days, "title": notice.title}))
        Notice.objects.filter(pk=notice.pk, escalated_at__isnull=True).update(escalated_at=clock.now())
        result.escalations += 1

    # Preventive actions past their due date: remind the owner once per due date.
    late = PreventiveAction.objects.filter(status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN),
                                           due_on__lt=today, owner__isnull=False).select_related("owner", "unit")
    for action in late.iterator(chunk_size=2000):
        sent = _send(f"rect:preventive:{action.pk}:overdue:{action.due_on}", [action.owner], action.unit,
                     reverse("rectification:preventive", args=[action.pk]),
                     (N_("Preventive action overdue: %(title)s"), {"title": action.title}),
                     (N_("It was due on %(due)s."), {"due": action.due_on.isoformat()}))
        result.preventive_overdue += 1 if sent else 0
        result.messages += sent
    return result


def _issuing_units(owed: Any, today: dt.date) -> list[Any]:
    from pbqms.orgs.models import Unit

    ids = owed.filter(deadline__gte=today).values_list("issuing_unit_id", flat=True).distinct()
    return list(Unit.objects.filter(pk__in=ids))
