"""Rectification totals per subtree — 整改统计, stored in orgs' UnitTally so the ledger and the
dashboard read a few rows whatever the number of findings (docs/decisions/0003).

Keys: "rect:<year>:<what>" counting findings found in <year> in the unit's subtree:
live (not closed or withdrawn), overdue (still owed by the unit and past the deadline), closed,
ontime (按期整改: closed, and its accepted feedback arrived by the deadline in force; see
`is_on_time`), days (sum of days from found to closed), and "rect:<year>:i:<item>" (findings
per item code, for the most recurring items); and "rect:open" (any year: findings still open,
not yet issued on a notice — the to-do page's count). Services report each change inside their
transaction; `recount()` rebuilds them from the findings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from pbqms.orgs import tally
from pbqms.orgs.models import Unit, UnitTally

from .models import LIVE_FINDING, OWED_FINDING, Finding, FindingStatus

PREFIX = "rect:"
ITEM_KEY_LEN = 24
OPEN_KEY = PREFIX + "open"


@dataclass(frozen=True)
class Facts:
    org_path: str
    year: int
    item: str
    live: bool
    overdue: bool
    closed: bool
    ontime: bool
    days: int
    open: bool = False

    @classmethod
    def of(cls, f: Finding) -> Facts:
        closed = f.status == FindingStatus.CLOSED
        return cls(
            f.org_path, f.found_on.year, (f.item_code or "")[:ITEM_KEY_LEN], f.status in LIVE_FINDING,
            f.status in OWED_FINDING and f.overdue, closed, is_on_time(f),
            (f.closed_on - f.found_on).days if closed and f.closed_on else 0,
            f.status == FindingStatus.OPEN,
        )


def is_on_time(f: Finding) -> bool:
    """按期整改: the finding is closed (its fix verified effective) and the feedback that was accepted
    arrived by the deadline in force (a returned notice's new deadline for a new answer). When the
    re-check and the closing happen after the deadline does not matter."""
    return (f.status == FindingStatus.CLOSED and f.answered_on is not None
            and (f.deadline is None or f.answered_on <= f.deadline))


ON_TIME = Q(status=FindingStatus.CLOSED, answered_on__isnull=False) & (
    Q(deadline__isnull=True) | Q(answered_on__lte=F("deadline")))


def _deltas(facts: Facts | None, sign: int, into: tally.Deltas) -> None:
    if facts is None:
        return
    base = f"{PREFIX}{facts.year}:"
    counts = {"live": facts.live, "overdue": facts.overdue, "closed": facts.closed, "ontime": facts.ontime}
    for uid in tally.path_ids(facts.org_path):
        for key, on in counts.items():
            if on:
                into[(uid, base + key)] += sign
        if facts.days:
            into[(uid, base + "days")] += sign * facts.days
        if facts.item and (facts.live or facts.closed):
            into[(uid, base + "i:" + facts.item)] += sign
        if facts.open:
            into[(uid, OPEN_KEY)] += sign


def changed(before: Facts | None, after: Facts | None) -> None:
    if before == after:
        return
    deltas: tally.Deltas = Counter()
    _deltas(before, -1, deltas)
    _deltas(after, +1, deltas)
    tally.apply(deltas)


def recount() -> int:
    """Rebuild every rectification total from the findings."""
    totals: tally.Deltas = Counter()
    rows = (Finding.objects.exclude(status=FindingStatus.WITHDRAWN)
            .values("org_path", "found_on__year", "item_code")
            .annotate(live=Count("id", filter=Q(status__in=LIVE_FINDING)),
                      overdue=Count("id", filter=Q(status__in=OWED_FINDING, overdue=True)),
                      closed=Count("id", filter=Q(status=FindingStatus.CLOSED)),
                      ontime=Count("id", filter=ON_TIME),
                      open=Count("id", filter=Q(status=FindingStatus.OPEN)),
                      n=Count("id"))
            .order_by())
    for row in rows.iterator(chunk_size=20000):
        base = f"{PREFIX}{row['found_on__year']}:"
        for uid in tally.path_ids(row["org_path"]):
            for key in ("live", "overdue", "closed", "ontime"):
                totals[(uid, base + key)] += row[key]
            totals[(uid, OPEN_KEY)] += row["open"]
            if row["item_code"]:
                totals[(uid, base + "i:" + row["item_code"][:ITEM_KEY_LEN])] += row["n"]
    closed = Finding.objects.filter(status=FindingStatus.CLOSED, closed_on__isnull=False).values_list(
        "org_path", "found_on", "closed_on")
    for path, found_on, closed_on in closed.iterator(chunk_size=20000):
        assert closed_on is not None
        for uid in tally.path_ids(path):
            totals[(uid, f"{PREFIX}{found_on.year}:days")] += (closed_on - found_on).days
    UnitTally.objects.filter(key__startswith=PREFIX).delete()
    UnitTally.objects.bulk_create((UnitTally(unit_id=u, key=k, n=n) for (u, k), n in totals.items() if n),
                                  batch_size=5000)
    return len(totals)


COUNTS = ("live", "overdue", "closed", "ontime", "days")


def read(unit_ids: list[int], year: int, *, items: bool = True) -> dict[int, dict[str, Any]]:
    """Each unit's totals for `year`: live, overdue, closed, ontime, days, and (with `items`) the
    findings per item code {code: n}."""
    prefix = f"{PREFIX}{year}:"
    out: dict[int, dict[str, Any]] = {uid: {"live": 0, "overdue": 0, "closed": 0, "ontime": 0, "days": 0,
                                            "items": {}} for uid in unit_ids}
    rows = UnitTally.objects.filter(unit_id__in=unit_ids)
    rows = rows.filter(key__startswith=prefix) if items else rows.filter(key__in=[prefix + k for k in COUNTS])
    for uid, key, n in rows.values_list("unit_id", "key", "n"):
        what = key[len(prefix):]
        if what.startswith("i:"):
            out[uid]["items"][what[2:]] = n
        else:
            out[uid][what] = n
    for row in out.values():
        row["total"] = row["live"] + row["closed"]
        row["ontime_rate"] = round(100 * row["ontime"] / row["closed"], 1) if row["closed"] else None
        row["mean_days"] = round(row["days"] / row["closed"], 1) if row["closed"] else None
    return out


def open_count(unit_ids: list[int]) -> int:
    """How many findings are still open (not yet issued on a notice) in these units' subtrees,
    any year; the subtrees must not overlap."""
    total = UnitTally.objects.filter(unit_id__in=unit_ids, key=OPEN_KEY).aggregate(n=Sum("n"))["n"]
    return int(total or 0)


def top_units(units: QuerySet[Unit], year: int, limit: int) -> list[Unit]:
    """The `limit` units of `units` with the most overdue, then not closed, then all findings in
    `year`, ties in tree order: ranked by the database from the stored totals, one query (three
    lookups per unit on the (unit, key) index)."""
    def total(what: str) -> Coalesce:
        rows = UnitTally.objects.filter(unit=OuterRef("pk"), key=f"{PREFIX}{year}:{what}").values("n")[:1]
        return Coalesce(Subquery(rows), 0)

    # most not closed first, then most in all (not closed + closed): among equal not closed, most closed
    ranked = (units.annotate(rect_o=total("overdue"), rect_l=total("live"), rect_c=total("closed"))
              .order_by("-rect_o", "-rect_l", "-rect_c", "order", "code"))
    return list(ranked[:limit])
