"""Deadlines — 整改时限: messages on each step, reminders before the deadline, overdue marking and
escalation to the secretary one level up, all through pbqms.notify.

Every message carries a key naming the notice, the event and the deadline it is about, and
pbqms.notify files a key to a person once (a new deadline after a return re-arms the reminders).
The sweep goes through the notices in batches of NOTICE_BATCH: the recipients of a whole batch
are read in a few queries, its messages filed with one notify_many() call, and the batch's marks
(overdue_since, escalated_at) written with one UPDATE in the same transaction as its messages.
So the sweep can run twice, or be killed half-way and run again, and nobody hears anything twice
and nothing is lost: a batch is filed and marked entirely or not at all; the reminders, which mark
nothing, rest on the keys alone. Overdue marking of findings is a set of idempotent UPDATEs done in
committed batches.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, DateField, QuerySet, Value, When
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from pbqms import scope
from pbqms.core import clock
from pbqms.notify import selectors as recipients
from pbqms.notify import services as notify
from pbqms.orgs import tally
from pbqms.orgs.models import Unit

from . import stats
from .models import (
    OWED_FINDING,
    OWED_NOTICE,
    Finding,
    Notice,
    PreventiveAction,
    PreventiveStatus,
    RectificationSettings,
)

BATCH = 5000  # findings marked overdue per transaction
NOTICE_BATCH = 1000  # notices (or preventive actions) per batch of messages


Text = tuple[str, dict[str, Any]]  # a msgid marked with gettext_noop, and its parameters


def _compose(key: str, users: Iterable[Any], unit: Any, link: str, title: Text, body: Text) -> list[notify.Message]:
    """The message for `users`, once per language, so each person reads it in their own language
    (none when nobody is to hear it)."""
    by_lang: dict[str, list[Any]] = {}
    for u in users:
        by_lang.setdefault(u.language or "zh-hans", []).append(u)
    out = []
    for lang, group in by_lang.items():
        with translation.override(lang):
            out.append(notify.Message(key=key, recipients=tuple(group), title=_(title[0]) % title[1],
                                      body=_(body[0]) % body[1], link=link, unit=unit))
    return out


def _send(messages: Sequence[notify.Message]) -> list[int]:
    """File a batch of messages (one notify_many() call); how many were new, per message."""
    return notify.notify_many(messages)


def _tell(key: str, users: Iterable[Any], unit: Any, link: str, title: Text, body: Text) -> int:
    return sum(_send(_compose(key, users, unit, link, title, body)))


def _responders(unit: Any) -> list[Any]:
    return list(recipients.role_holders(unit, scope.RECT_RESPOND_ROLES))


def _issuers(notice: Notice) -> list[Any]:
    return _issuers_each([notice])[notice.pk]


def _issuers_each(notices: Sequence[Notice]) -> dict[int, list[Any]]:
    """Per notice: the issuing unit's issuer-role holders and the notice's author (one query)."""
    holders = recipients.holders_by_unit({n.issuing_unit_id for n in notices}, scope.RECT_ISSUE_ROLES)
    out = {}
    for notice in notices:
        users = {u.pk: u for u in holders[notice.issuing_unit_id]}
        if notice.created_by_id and notice.created_by and notice.created_by.is_active:
            users[notice.created_by_id] = notice.created_by
        out[notice.pk] = list(users.values())
    return out


def _link(notice: Notice) -> str:
    return reverse("rectification:notice", args=[notice.pk])


def on_issued(notice: Notice) -> None:
    _tell(f"rect:notice:{notice.pk}:issued", _responders(notice.unit), notice.unit, _link(notice),
          (N_("Rectification notice %(number)s"), {"number": notice.number}),
          (N_("%(unit)s: %(title)s. Submit the feedback by %(deadline)s."), {
              "unit": notice.unit.name, "title": notice.title, "deadline": notice.deadline.isoformat()}))


def on_answered(notice: Notice) -> None:
    rounds = notice.rounds
    _tell(f"rect:notice:{notice.pk}:answered:{rounds}", _issuers(notice), notice.unit, _link(notice),
          (N_("Feedback on %(number)s"), {"number": notice.number}),
          (N_("%(unit)s submitted its feedback: verify the fixes."), {"unit": notice.unit.name}))


def on_returned(notice: Notice, reason: str) -> None:
    _tell(f"rect:notice:{notice.pk}:returned:{notice.rounds}", _responders(notice.unit), notice.unit,
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


class _Settings:
    """Each issuing unit's settings (its own row, else its nearest ancestor's, else the defaults:
    as numbering.settings_for), read for a whole batch of units in one query and kept."""

    def __init__(self) -> None:
        self.by_unit: dict[int, RectificationSettings] = {}

    def load(self, units: Iterable[Unit]) -> None:
        todo = {u.pk: u for u in units if u.pk not in self.by_unit}
        if not todo:
            return
        ids = {uid for u in todo.values() for uid in tally.path_ids(u.path)}
        found = {s.unit_id: s for s in RectificationSettings.objects.filter(unit_id__in=ids)}
        for pk, unit in todo.items():
            mine = [found[uid] for uid in reversed(tally.path_ids(unit.path)) if uid in found]
            self.by_unit[pk] = mine[0] if mine else RectificationSettings(unit=unit)

    def __call__(self, unit: Unit) -> RectificationSettings:
        self.load([unit])
        return self.by_unit[unit.pk]


def _reminder_days(settings_row: Any) -> list[int]:
    return sorted({int(d) for d in str(settings_row.reminder_days or "").split(",") if d.strip().isdigit()})


def _batches(qs: QuerySet[Any], size: int | None = None) -> Iterator[list[Any]]:
    """The rows of `qs` in batches of NOTICE_BATCH, in primary-key order. The keys are read first;
    each batch is read again through `qs`, so a row that no longer matches is left out."""
    size = size or NOTICE_BATCH
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        rows = list(qs.filter(pk__in=ids[start:start + size]).order_by("pk"))
        if rows:
            yield rows


def _per_item(owners: list[int], counts: list[int]) -> Counter[int]:
    sent: Counter[int] = Counter()
    for pk, n in zip(owners, counts, strict=True):
        sent[pk] += n
    return sent


def sweep_deadlines(today: dt.date | None = None) -> SweepResult:
    """The daily sweep (`pbqms sweep-deadlines`, and the `sweep_deadlines_task` task)."""
    today = today or clock.today()
    result = SweepResult()
    result.findings_overdue = _mark_overdue_findings(today)
    settings_for = _Settings()
    owed = Notice.objects.filter(status__in=OWED_NOTICE).select_related("unit", "issuing_unit", "created_by")
    _overdue_notices(owed, today, result)
    _reminders(owed, today, settings_for, result)
    _escalations(owed, today, settings_for, result)
    _preventive_actions(today, result)
    return result


def _overdue_notices(owed: QuerySet[Notice], today: dt.date, result: SweepResult) -> None:
    """Overdue notices: mark once, tell the unit and the issuer once per deadline."""
    for notices in _batches(owed.filter(deadline__lt=today, overdue_since__isnull=True)):
        responders = recipients.holders_by_unit({n.unit_id for n in notices}, scope.RECT_RESPOND_ROLES)
        issuers = _issuers_each(notices)
        messages: list[notify.Message] = []
        for n in notices:
            users = responders[n.unit_id] + issuers[n.pk]
            if users:
                messages += _compose(
                    f"rect:notice:{n.pk}:overdue:{n.deadline}", users, n.unit, _link(n),
                    (N_("%(number)s is overdue"), {"number": n.number}),
                    (N_("%(unit)s has not submitted its feedback; the deadline was %(deadline)s."), {
                        "unit": n.unit.name, "deadline": n.deadline.isoformat()}))
        since = Case(*[When(deadline=d, then=Value(d + dt.timedelta(days=1)))
                       for d in sorted({n.deadline for n in notices})], output_field=DateField())
        with transaction.atomic():  # the batch's messages and its marks commit together
            if messages:
                result.messages += sum(_send(messages))
            Notice.objects.filter(pk__in=[n.pk for n in notices], overdue_since__isnull=True).update(
                overdue_since=since)
        result.notices_overdue += len(notices)


def _reminders(owed: QuerySet[Notice], today: dt.date, settings_for: _Settings, result: SweepResult) -> None:
    """Reminders before the deadline: the most urgent reminder day not yet passed."""
    settings_for.load(_issuing_units(owed, today))
    horizon = max([3] + [d for s in settings_for.by_unit.values() for d in _reminder_days(s)])
    upcoming = owed.filter(deadline__gte=today, deadline__lte=today + dt.timedelta(days=horizon))
    for notices in _batches(upcoming):
        settings_for.load(n.issuing_unit for n in notices)
        responders = recipients.holders_by_unit({n.unit_id for n in notices}, scope.RECT_RESPOND_ROLES)
        messages: list[notify.Message] = []
        owners: list[int] = []
        for n in notices:
            left = (n.deadline - today).days
            due = [d for d in _reminder_days(settings_for(n.issuing_unit)) if left <= d]
            if not due or not responders[n.unit_id]:
                continue
            d = min(due)
            composed = _compose(
                f"rect:notice:{n.pk}:due:{n.deadline}:{d}", responders[n.unit_id], n.unit, _link(n),
                (N_("%(number)s: deadline %(deadline)s"), {"number": n.number, "deadline": n.deadline.isoformat()}),
                (N_("%(days)d days left to submit the feedback on %(title)s."), {"days": left, "title": n.title}))
            messages += composed
            owners += [n.pk] * len(composed)
        if messages:
            sent = _per_item(owners, _send(messages))
            result.reminders += sum(1 for n in sent.values() if n)
            result.messages += sum(sent.values())


def _escalations(owed: QuerySet[Notice], today: dt.date, settings_for: _Settings, result: SweepResult) -> None:
    """Escalation: N days overdue → the secretary one level up, once per deadline."""
    for notices in _batches(owed.filter(deadline__lt=today, escalated_at__isnull=True)):
        settings_for.load(n.issuing_unit for n in notices)
        due = [n for n in notices if (today - n.deadline).days >= settings_for(n.issuing_unit).escalate_after_days]
        if not due:
            continue
        above = recipients.secretaries_above_each([n.unit for n in due], levels=1)
        messages: list[notify.Message] = []
        for n in due:
            if above[n.unit_id]:
                messages += _compose(
                    f"rect:notice:{n.pk}:escalate:{n.deadline}", above[n.unit_id], n.unit, _link(n),
                    (N_("Escalated: %(number)s overdue"), {"number": n.number}),
                    (N_("%(unit)s is %(days)d days late with the feedback on %(title)s."), {
                        "unit": n.unit.name, "days": (today - n.deadline).days, "title": n.title}))
        with transaction.atomic():  # the batch's messages and its marks commit together
            if messages:
                result.messages += sum(_send(messages))
            Notice.objects.filter(pk__in=[n.pk for n in due], escalated_at__isnull=True).update(
                escalated_at=clock.now())
        result.escalations += len(due)


def _preventive_actions(today: dt.date, result: SweepResult) -> None:
    """Preventive actions past their due date: remind the owner once per due date."""
    late = PreventiveAction.objects.filter(status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN),
                                           due_on__lt=today, owner__isnull=False).select_related("owner", "unit")
    for actions in _batches(late):
        messages: list[notify.Message] = []
        owners: list[int] = []
        for a in actions:
            composed = _compose(
                f"rect:preventive:{a.pk}:overdue:{a.due_on}", [a.owner], a.unit,
                reverse("rectification:preventive", args=[a.pk]),
                (N_("Preventive action overdue: %(title)s"), {"title": a.title}),
                (N_("It was due on %(due)s."), {"due": a.due_on.isoformat()}))
            messages += composed
            owners += [a.pk] * len(composed)
        sent = _per_item(owners, _send(messages))
        result.preventive_overdue += sum(1 for n in sent.values() if n)
        result.messages += sum(sent.values())


def _issuing_units(owed: QuerySet[Notice], today: dt.date) -> list[Unit]:
    ids = owed.filter(deadline__gte=today).values_list("issuing_unit_id", flat=True).distinct()
    return list(Unit.objects.filter(pk__in=ids))
