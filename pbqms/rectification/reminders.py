"""Deadlines — 整改时限: messages on each step, reminders before the deadline, overdue marking and
escalation to the secretary one level up, all through pbqms.notify.

Every message carries a key naming the notice, the event and the deadline it is about, and
pbqms.notify files a key to a person once (a new deadline after a return re-arms the reminders).

The daily sweep works in batches, in a number of queries that does not grow with the number of
notices: findings past their deadline are flagged BATCH at a time (one UPDATE … RETURNING each,
the totals adjusted in the same transaction); notices NOTICE_BATCH at a time, each batch read as
light rows, its recipients read for the whole batch, its messages filed with notify_many() and
its marks (overdue_since, escalated_at) written in the same transaction as its messages. So the
sweep can run twice, or be killed half-way and run again, and nobody hears anything twice and
nothing is lost: a batch is filed and marked entirely or not at all, so a rerun takes up exactly
the notices still unmarked; the reminders, which mark nothing, rest on the keys alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DateField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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

BATCH = 10000  # findings marked overdue per transaction
NOTICE_BATCH = 2000  # notices (or preventive actions) per batch of messages


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
    return _with_author(list(recipients.role_holders(notice.issuing_unit, scope.RECT_ISSUE_ROLES)), notice)


def _link(notice: Notice) -> str:
    return reverse("rectification:notice", args=[notice.pk])


def on_issued(notice: Notice) -> None:
    _tell(f"rect:notice:{notice.pk}:issued", _responders(notice.unit), notice.unit, _link(notice),
          (gettext_noop("Rectification notice %(number)s"), {"number": notice.number}),
          (gettext_noop("%(unit)s: %(title)s. Submit the feedback by %(deadline)s."), {
              "unit": notice.unit.name, "title": notice.title, "deadline": notice.deadline.isoformat()}))


def on_answered(notice: Notice) -> None:
    rounds = notice.rounds
    _tell(f"rect:notice:{notice.pk}:answered:{rounds}", _issuers(notice), notice.unit, _link(notice),
          (gettext_noop("Feedback on %(number)s"), {"number": notice.number}),
          (gettext_noop("%(unit)s submitted its feedback: verify the fixes."), {"unit": notice.unit.name}))


def on_returned(notice: Notice, reason: str) -> None:
    _tell(f"rect:notice:{notice.pk}:returned:{notice.rounds}", _responders(notice.unit), notice.unit,
          _link(notice),
          (gettext_noop("%(number)s returned"), {"number": notice.number}),
          (gettext_noop("Reason: %(reason)s. New deadline: %(deadline)s."), {
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
    """Flag owed findings past their deadline, in committed batches, keeping the totals current.

    The candidates' keys are read once (one scan); each batch is one UPDATE … RETURNING over a
    range of keys that flags the rows still unflagged and reports exactly those, which go into the
    totals in the same transaction: a row is counted once however sweeps overlap or stop."""
    candidates = Finding.objects.filter(status__in=OWED_FINDING, deadline__lt=today, overdue=False)
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    col = {f.name: connection.ops.quote_name(f.column) for f in Finding._meta.concrete_fields}
    owed = ", ".join(["%s"] * len(OWED_FINDING))
    sql = (f"UPDATE {connection.ops.quote_name(Finding._meta.db_table)} SET {col['overdue']} = %s "
           f"WHERE {col['id']} BETWEEN %s AND %s AND {col['overdue']} = %s AND {col['deadline']} < %s "
           f"AND {col['status']} IN ({owed}) RETURNING {col['org_path']}, {col['found_on']}")
    marked = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [True, chunk[0], chunk[-1], False, today, *OWED_FINDING])
            rows = cursor.fetchall()
            # a date, or its ISO text on SQLite: the year is its first four characters
            per_path = Counter((path, str(found_on)[:4]) for path, found_on in rows)
            deltas: tally.Deltas = Counter()
            for (path, year), n in per_path.items():
                for uid in tally.path_ids(path):
                    deltas[(uid, f"{stats.PREFIX}{year}:overdue")] += n
            tally.apply(deltas)
            marked += len(rows)
    return marked


class _Settings:
    """Each issuing unit's settings (its own row, else its nearest ancestor's, else the defaults:
    as numbering.settings_for), read for a whole batch of units at once and kept."""

    def __init__(self) -> None:
        self.by_unit: dict[int, RectificationSettings] = {}

    def load(self, unit_ids: Iterable[int]) -> None:
        """Read the settings of the units not read yet (two queries, none if all are known)."""
        todo = {pk for pk in unit_ids if pk not in self.by_unit}
        if not todo:
            return
        paths = dict(Unit.objects.filter(pk__in=todo).values_list("pk", "path"))
        ids = {uid for path in paths.values() for uid in tally.path_ids(path)}
        found = {s.unit_id: s for s in RectificationSettings.objects.filter(unit_id__in=ids)}
        for pk in todo:
            mine = [found[uid] for uid in reversed(tally.path_ids(paths.get(pk, ""))) if uid in found]
            self.by_unit[pk] = mine[0] if mine else RectificationSettings(unit_id=pk)

    def __call__(self, unit_id: int) -> RectificationSettings:
        self.load([unit_id])
        return self.by_unit[unit_id]


def _reminder_days(settings_row: Any) -> list[int]:
    return sorted({int(d) for d in str(settings_row.reminder_days or "").split(",") if d.strip().isdigit()})


# A batch is first read as light rows (what deciding who hears what takes); the notices that do
# get a message are then read with what the message shows.
ROW = ("pk", "deadline", "unit_id", "org_path", "issuing_unit_id", "created_by_id")  # org_path: the unit's path
SHOWN = ("number", "title", "unit__name", "unit__path", "created_by__is_active", "created_by__language",
         "created_by__email")


def _batches(qs: QuerySet[Any], fields: Sequence[str] = ROW) -> Iterator[list[Any]]:
    """The rows of `qs` (named tuples of `fields`) in batches of about NOTICE_BATCH, in primary-key
    order. The keys are read first; each batch is then read again through `qs` as a range of keys,
    so a row that no longer matches is left out."""
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), NOTICE_BATCH):
        chunk = ids[start:start + NOTICE_BATCH]
        rows = list(qs.filter(pk__range=(chunk[0], chunk[-1])).order_by("pk").values_list(*fields, named=True))
        if rows:
            yield rows


def _shown(pks: Iterable[int]) -> dict[int, Notice]:
    """The notices that get a message, with their unit and author (one query)."""
    wanted = list(pks)
    if not wanted:
        return {}
    return {n.pk: n for n in Notice.objects.filter(pk__in=wanted).select_related("unit", "created_by").only(*SHOWN)}


def _with_author(holders: list[Any], notice: Notice) -> list[Any]:
    """The issuing unit's issuer-role holders and the notice's author, once each."""
    users = {u.pk: u for u in holders}
    if notice.created_by_id and notice.created_by and notice.created_by.is_active:
        users[notice.created_by_id] = notice.created_by
    return list(users.values())


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
    owed = Notice.objects.filter(status__in=OWED_NOTICE)
    _late_notices(owed, today, settings_for, result)
    _reminders(owed, today, settings_for, result)
    _preventive_actions(today, result)
    return result


def _late_notices(owed: QuerySet[Notice], today: dt.date, settings_for: _Settings, result: SweepResult) -> None:
    """Notices past their deadline: mark each overdue once, telling the unit and the issuer; N days
    overdue, escalate once to the secretary one level up. Both once per deadline (the keys)."""
    late = owed.filter(Q(overdue_since__isnull=True) | Q(escalated_at__isnull=True), deadline__lt=today)
    for rows in _batches(late, (*ROW, "overdue_since", "escalated_at")):
        settings_for.load(r.issuing_unit_id for r in rows)
        overdue = [r for r in rows if r.overdue_since is None]
        escalate = [r for r in rows if r.escalated_at is None
                    and (today - r.deadline).days >= settings_for(r.issuing_unit_id).escalate_after_days]
        responders = recipients.holders_by_unit({r.unit_id for r in overdue}, scope.RECT_RESPOND_ROLES)
        issuers = recipients.holders_by_unit({r.issuing_unit_id for r in overdue}, scope.RECT_ISSUE_ROLES)
        above = recipients.secretaries_above_each({r.unit_id: r.org_path for r in escalate}, levels=1)
        shown = _shown({r.pk for r in overdue if responders[r.unit_id] or issuers[r.issuing_unit_id] or r.created_by_id}
                       | {r.pk for r in escalate if above[r.unit_id]})
        told: list[notify.Message] = []
        for r in overdue:
            if (n := shown.get(r.pk)) is not None:
                told += _compose(
                    f"rect:notice:{r.pk}:overdue:{r.deadline}",
                    responders[r.unit_id] + _with_author(issuers[r.issuing_unit_id], n), n.unit, _link(n),
                    (gettext_noop("%(number)s is overdue"), {"number": n.number}),
                    (gettext_noop("%(unit)s has not submitted its feedback; the deadline was %(deadline)s."), {
                        "unit": n.unit.name, "deadline": r.deadline.isoformat()}))
        escalated: list[notify.Message] = []
        for r in escalate:
            if above[r.unit_id] and (n := shown.get(r.pk)) is not None:
                escalated += _compose(
                    f"rect:notice:{r.pk}:escalate:{r.deadline}", above[r.unit_id], n.unit, _link(n),
                    (gettext_noop("Escalated: %(number)s overdue"), {"number": n.number}),
                    (gettext_noop("%(unit)s is %(days)d days late with the feedback on %(title)s."), {
                        "unit": n.unit.name, "days": (today - r.deadline).days, "title": n.title}))
        with transaction.atomic():  # the batch's messages and its marks commit together
            for messages in (told, escalated):
                if messages:
                    result.messages += sum(_send(messages))
            _mark_late(overdue, escalate)
        result.notices_overdue += len(overdue)
        result.escalations += len(escalate)


def _mark_late(overdue: list[Any], escalate: list[Any]) -> None:
    """overdue_since (the day after the deadline) and escalated_at, each row written once: both
    columns of the notices that are in both lists in one UPDATE, then each list's others."""
    now = clock.now()
    since = Case(*[When(deadline=d, then=Value(d + dt.timedelta(days=1)))
                   for d in sorted({r.deadline for r in overdue})], output_field=DateField())
    both = {r.pk for r in overdue} & {r.pk for r in escalate}
    if both:
        Notice.objects.filter(pk__in=sorted(both), overdue_since__isnull=True, escalated_at__isnull=True).update(
            overdue_since=since, escalated_at=now)
    if only := [r.pk for r in overdue if r.pk not in both]:
        Notice.objects.filter(pk__in=only, overdue_since__isnull=True).update(overdue_since=since)
    if only := [r.pk for r in escalate if r.pk not in both]:
        Notice.objects.filter(pk__in=only, escalated_at__isnull=True).update(escalated_at=now)


def _reminders(owed: QuerySet[Notice], today: dt.date, settings_for: _Settings, result: SweepResult) -> None:
    """Reminders before the deadline: the most urgent reminder day not yet passed."""
    issuing = _issuing_units(owed, today)
    settings_for.load(issuing)
    horizon = max([3] + [d for pk in issuing for d in _reminder_days(settings_for(pk))])
    upcoming = owed.filter(deadline__gte=today, deadline__lte=today + dt.timedelta(days=horizon))
    for rows in _batches(upcoming):
        settings_for.load(r.issuing_unit_id for r in rows)
        responders = recipients.holders_by_unit({r.unit_id for r in rows}, scope.RECT_RESPOND_ROLES)
        due: dict[int, int] = {}
        for r in rows:
            days = [d for d in _reminder_days(settings_for(r.issuing_unit_id)) if (r.deadline - today).days <= d]
            if days and responders[r.unit_id]:
                due[r.pk] = min(days)
        shown = _shown(due)
        messages: list[notify.Message] = []
        owners: list[int] = []
        for r in rows:
            n = shown.get(r.pk)
            if n is None:
                continue
            left = (r.deadline - today).days
            composed = _compose(
                f"rect:notice:{r.pk}:due:{r.deadline}:{due[r.pk]}", responders[r.unit_id], n.unit, _link(n),
                (gettext_noop("%(number)s: deadline %(deadline)s"),
                 {"number": n.number, "deadline": r.deadline.isoformat()}),
                (gettext_noop("%(days)d days left to submit the feedback on %(title)s."),
                 {"days": left, "title": n.title}))
            messages += composed
            owners += [r.pk] * len(composed)
        if messages:
            sent = _per_item(owners, _send(messages))
            result.reminders += sum(1 for n in sent.values() if n)
            result.messages += sum(sent.values())


def _preventive_actions(today: dt.date, result: SweepResult) -> None:
    """Preventive actions past their due date: remind the owner once per due date."""
    late = PreventiveAction.objects.filter(status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN),
                                           due_on__lt=today, owner__isnull=False)
    for rows in _batches(late, ("pk",)):
        actions = late.filter(pk__in=[r.pk for r in rows]).select_related("owner", "unit").order_by("pk")
        messages: list[notify.Message] = []
        owners: list[int] = []
        for a in actions:
            composed = _compose(
                f"rect:preventive:{a.pk}:overdue:{a.due_on}", [a.owner], a.unit,
                reverse("rectification:preventive", args=[a.pk]),
                (gettext_noop("Preventive action overdue: %(title)s"), {"title": a.title}),
                (gettext_noop("It was due on %(due)s."), {"due": a.due_on.isoformat()}))
            messages += composed
            owners += [a.pk] * len(composed)
        sent = _per_item(owners, _send(messages))
        result.preventive_overdue += sum(1 for n in sent.values() if n)
        result.messages += sum(sent.values())


def _issuing_units(owed: QuerySet[Notice], today: dt.date) -> list[int]:
    """The units that issued the notices still running."""
    return list(owed.filter(deadline__gte=today).order_by().values_list("issuing_unit_id", flat=True).distinct())
