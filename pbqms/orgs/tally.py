"""Subtree totals — 组织统计: keeping UnitTally current and reading it.

Every service that changes who is active where, in which status, or which units exist, reports
the change here inside its own transaction; `recount()` rebuilds everything from the records
(bulk loads call it, and it repairs any drift: `pbqms recount`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Q

from .models import SEGMENT, Unit, UnitTally

PERSON = "person:"
UNIT = "unit:"
Deltas = Counter[tuple[int, str]]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def unit_id_of(path: str) -> int:
    return int(path[-SEGMENT - 1:-1])


@dataclass(frozen=True)
class PersonFacts:
    """What the totals depend on for one person."""

    org_path: str
    group_id: int | None
    status: str
    active: bool

    @classmethod
    def of(cls, member: object) -> PersonFacts:
        return cls(member.org_path, member.group_id, member.status, member.state == "active")  # type: ignore[attr-defined]


def stored_facts(member_pk: int) -> PersonFacts | None:
    """The facts as the database holds them (a caller's object may predate a move of its unit)."""
    from pbqms.members.models import Member

    row = Member.objects.filter(pk=member_pk).values_list("org_path", "group_id", "status", "state").first()
    return PersonFacts(row[0], row[1], row[2], row[3] == "active") if row else None


def person_deltas(facts: PersonFacts | None, sign: int, into: Deltas | None = None) -> Deltas:
    deltas = into if into is not None else Counter()
    if facts is None or not facts.active:
        return deltas
    key = PERSON + facts.status
    for uid in path_ids(facts.org_path):
        deltas[(uid, key)] += sign
    if facts.group_id:
        deltas[(facts.group_id, key)] += sign
    return deltas


def apply(deltas: Deltas) -> None:
    """Add the deltas to the stored totals (creating rows as needed); rows are locked while updated."""
    deltas = Counter({k: v for k, v in deltas.items() if v})
    if not deltas:
        return
    items = list(deltas.items())
    for start in range(0, len(items), 2000):
        chunk = dict(items[start:start + 2000])
        unit_ids = {u for u, _k in chunk}
        keys = {k for _u, k in chunk}
        existing = {(t.unit_id, t.key): t for t in UnitTally.objects.select_for_update()
                    .filter(unit_id__in=unit_ids, key__in=keys)}
        rows = []
        for (uid, key), d in chunk.items():
            current = existing.get((uid, key))
            rows.append(UnitTally(unit_id=uid, key=key, n=(current.n if current else 0) + d))
        UnitTally.objects.bulk_create(rows, update_conflicts=True, unique_fields=["unit", "key"],
                                      update_fields=["n"], batch_size=1000)


def person_changed(before: PersonFacts | None, after: PersonFacts | None) -> None:
    deltas: Deltas = Counter()
    person_deltas(before, -1, deltas)
    person_deltas(after, +1, deltas)
    apply(deltas)


def unit_counted(unit: Unit, sign: int) -> None:
    """A unit was created (+1) or dissolved (-1): its kind counts in its own and its ancestors' totals."""
    apply(Counter({(uid, UNIT + unit.kind): sign for uid in path_ids(unit.path)}))


def unit_moved(unit: Unit, old_path: str) -> None:
    """Take the moved subtree's totals off the old ancestors and add them to the new ones."""
    own = list(UnitTally.objects.filter(unit=unit).values_list("key", "n"))
    deltas: Deltas = Counter()
    for key, n in own:
        for uid in path_ids(old_path)[:-1]:
            deltas[(uid, key)] -= n
        for uid in path_ids(unit.path)[:-1]:
            deltas[(uid, key)] += n
    apply(deltas)


@transaction.atomic
def recount() -> int:
    """Rebuild every total from the records; returns the number of rows written."""
    from pbqms.members.models import Member, MemberState

    totals: Deltas = Counter()
    people = (Member.objects.filter(state=MemberState.ACTIVE).values("org_path", "status")
              .annotate(n=Count("id")).order_by())
    for row in people.iterator(chunk_size=20000):
        for uid in path_ids(row["org_path"]):
            totals[(uid, PERSON + row["status"])] += row["n"]
    grouped = (Member.objects.filter(state=MemberState.ACTIVE, group__isnull=False).values("group_id", "status")
               .annotate(n=Count("id")).order_by())
    for row in grouped.iterator(chunk_size=20000):
        totals[(row["group_id"], PERSON + row["status"])] += row["n"]
    for path, kind in Unit.objects.filter(dissolved_on__isnull=True).values_list("path", "kind").iterator(20000):
        for uid in path_ids(path):
            totals[(uid, UNIT + kind)] += 1
    # Other capabilities keep their own keys in this table (rectification: "rect:…"); leave them.
    UnitTally.objects.filter(Q(key__startswith=PERSON) | Q(key__startswith=UNIT)).delete()
    UnitTally.objects.bulk_create((UnitTally(unit_id=u, key=k, n=n) for (u, k), n in totals.items() if n),
                                  batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orgs_unittally")
    return len(totals)


def read(unit_ids: Iterable[int], prefix: str) -> dict[int, dict[str, int]]:
    """Totals of each unit whose key starts with `prefix` ("person:" or "unit:"), key without prefix."""
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for uid, key, n in UnitTally.objects.filter(unit_id__in=list(unit_ids), key__startswith=prefix).values_list(
            "unit_id", "key", "n"):
        result[uid][key[len(prefix):]] = n
    return result
