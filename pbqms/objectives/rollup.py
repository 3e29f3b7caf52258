"""Roll-up of target status up the tree — 目标统计汇总.

ObjectiveTally holds, per unit and year, counts for the unit's whole subtree (itself included) for
every unit above branch level: committees and general branches. A branch's own counts are read
live from its few records (a handful of targets, a few dozen member targets: two indexed
GROUP BY queries for all the branches of a page), so the stored table has one row set per
committee, not per branch, and a dashboard reads a unit and its children in a fixed number of
queries however large the tree. The services report each change here inside their own transaction
(`target_changed`, `member_target_changed`); `recount()` rebuilds the table from the records in one
aggregate statement on PostgreSQL: the records grouped by tree path, folded onto their parent
unit, and spread to every ancestor with SUBSTR(path, …) (bench/objectives.py times it at 50,000
branches and 1.5 million member targets).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat, Substr

from pbqms.orgs.models import SEGMENT, Unit, UnitKind
from pbqms.orgs.tally import path_ids

from .models import MemberTarget, ObjectiveTally, ReviewState, Target, TargetPart

TARGET = "target:"
MEMBER_TARGET = "mt:"
MEMBERS_OK = "members_ok"
Deltas = Counter[tuple[int, int, str]]


def add(deltas: Deltas, org_path: str, year: int, key: str, sign: int, *, on_branch: bool = True) -> Deltas:
    """Count a record of the unit at `org_path` in every stored ancestor total (a branch's own
    counts are read live, so its own row is skipped when `on_branch`)."""
    ids = path_ids(org_path)
    for uid in ids[:-1] if on_branch else ids:
        deltas[(uid, year, key)] += sign
    return deltas


def _is_branch(unit_id: int) -> bool:
    return Unit.objects.filter(pk=unit_id, kind=UnitKind.BRANCH).exists()


def apply(deltas: Deltas) -> None:
    """Add the deltas to the stored counts (rows locked while updated, created as needed)."""
    deltas = Counter({k: v for k, v in deltas.items() if v})
    if not deltas:
        return
    unit_ids = {u for u, _y, _k in deltas}
    years = {y for _u, y, _k in deltas}
    keys = {k for _u, _y, k in deltas}
    existing = {(t.unit_id, t.year, t.key): t.n for t in ObjectiveTally.objects.select_for_update()
                .filter(unit_id__in=unit_ids, year__in=years, key__in=keys)}
    rows = [ObjectiveTally(unit_id=u, year=y, key=k, n=existing.get((u, y, k), 0) + d)
            for (u, y, k), d in deltas.items()]
    ObjectiveTally.objects.bulk_create(rows, update_conflicts=True, unique_fields=["unit", "year", "key"],
                                       update_fields=["n"], batch_size=1000)


def target_changed(target: Target, before: str | None, after: str | None) -> None:
    """A unit target was created (before None), changed status, or removed (after None)."""
    if before == after:
        return
    deltas: Deltas = Counter()
    on_branch = target.unit.kind == UnitKind.BRANCH
    if before:
        add(deltas, target.org_path, target.year, TARGET + before, -1, on_branch=on_branch)
    if after:
        add(deltas, target.org_path, target.year, TARGET + after, +1, on_branch=on_branch)
    apply(deltas)


def member_target_changed(mt: MemberTarget, before: str | None, after: str | None) -> None:
    """An individual member target was proposed (before None) or moved between review states.
    The first approval of a member's individual target in a year also counts the member as covered."""
    if mt.part != TargetPart.INDIVIDUAL or before == after:
        return
    deltas: Deltas = Counter()
    on_branch = _is_branch(mt.unit_id)
    if before:
        add(deltas, mt.org_path, mt.year, MEMBER_TARGET + before, -1, on_branch=on_branch)
    if after:
        add(deltas, mt.org_path, mt.year, MEMBER_TARGET + after, +1, on_branch=on_branch)
    if after == ReviewState.APPROVED:
        others = MemberTarget.objects.filter(member_id=mt.member_id, year=mt.year, part=TargetPart.INDIVIDUAL,
                                             state=ReviewState.APPROVED).exclude(pk=mt.pk)
        if not others.exists():
            add(deltas, mt.org_path, mt.year, MEMBERS_OK, +1, on_branch=on_branch)
    apply(deltas)


def read(units: Iterable[Unit | int], year: int) -> dict[int, dict[str, int]]:
    """The subtree counts of each unit for `year`: {unit_id: {key: n}}. Stored rows for units above
    branch level (one query), live counts for branches (two queries); one more to look up the units
    when given ids."""
    given = list(units)
    ids = [u for u in given if isinstance(u, int)]
    objs = [u for u in given if isinstance(u, Unit)] + (list(Unit.objects.filter(pk__in=ids)) if ids else [])
    branches = {u.path: u.pk for u in objs if u.kind == UnitKind.BRANCH}
    others = [u.pk for u in objs if u.kind != UnitKind.BRANCH]
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if others:
        for uid, key, n in ObjectiveTally.objects.filter(unit_id__in=others, year=year).exclude(n=0).values_list(
                "unit_id", "key", "n"):
            out[uid][key] = n
    if branches:
        for path, status, n in (Target.objects.filter(org_path__in=list(branches), year=year)
                                .values_list("org_path", "status").annotate(n=Count("id")).order_by()):
            out[branches[path]][TARGET + status] = n
        rows = (MemberTarget.objects.filter(org_path__in=list(branches), year=year, part=TargetPart.INDIVIDUAL)
                .values("org_path").annotate(
                    proposed=Count("id", filter=Q(state=ReviewState.PROPOSED)),
                    approved=Count("id", filter=Q(state=ReviewState.APPROVED)),
                    returned=Count("id", filter=Q(state=ReviewState.RETURNED)),
                    ok=Count("member_id", filter=Q(state=ReviewState.APPROVED), distinct=True)).order_by())
        for r in rows:
            counts = out[branches[r["org_path"]]]
            for state in (ReviewState.PROPOSED, ReviewState.APPROVED, ReviewState.RETURNED):
                if r[state]:
                    counts[MEMBER_TARGET + state] = r[state]
            if r["ok"]:
                counts[MEMBERS_OK] = r["ok"]
    return out


# ---- rebuilding ------------------------------------------------------------------------------

# One scan of each table, grouped by tree path with the "C" collation (byte order: far cheaper to
# sort than the database's language collation), then spread to every ancestor by SUBSTR(path, …).
_PG_RECOUNT = f"""
WITH base AS (
    SELECT org_path COLLATE "C" AS p, year, 'target:' || status AS key, COUNT(*) AS n
      FROM objectives_target {{where}} GROUP BY 1, 2, 3
    UNION ALL
    SELECT m.p, m.year, v.key, v.n FROM (
        SELECT org_path COLLATE "C" AS p, year,
               COUNT(*) FILTER (WHERE state = 'proposed') AS proposed,
               COUNT(*) FILTER (WHERE state = 'approved') AS approved,
               COUNT(*) FILTER (WHERE state = 'returned') AS returned,
               COUNT(DISTINCT member_id) FILTER (WHERE state = 'approved') AS ok
          FROM objectives_membertarget WHERE part = 'individual' {{and_where}} GROUP BY 1, 2) m
    CROSS JOIN LATERAL (VALUES ('mt:proposed', m.proposed), ('mt:approved', m.approved),
                               ('mt:returned', m.returned), ('members_ok', m.ok)) AS v(key, n)
    WHERE v.n > 0
),
own AS (  -- a committee's or general branch's own records (a branch's are read live)
    SELECT u.id AS unit_id, b.year, b.key, b.n FROM base b
      JOIN orgs_unit u ON u.id = CAST(SUBSTR(b.p, LENGTH(b.p) - {SEGMENT}, {SEGMENT}) AS integer)
     WHERE u.kind <> 'branch'
),
folded AS (  -- every record counted once in its parent unit's path: thousands of rows, not millions
    SELECT SUBSTR(p, 1, LENGTH(p) - {SEGMENT + 1}) AS p, year, key, SUM(n) AS n FROM base
     WHERE LENGTH(p) > {SEGMENT + 1} GROUP BY 1, 2, 3
)
INSERT INTO objectives_objectivetally (unit_id, year, key, n)
SELECT unit_id, year, key, SUM(n) FROM (
    SELECT CAST(SUBSTR(f.p, (k.i - 1) * {SEGMENT + 1} + 1, {SEGMENT}) AS integer) AS unit_id, f.year, f.key, f.n
      FROM folded f CROSS JOIN generate_series(1, %s) AS k(i)
     WHERE LENGTH(f.p) >= k.i * {SEGMENT + 1}
    UNION ALL
    SELECT unit_id, year, key, n FROM own
) spread
GROUP BY 1, 2, 3
"""


@transaction.atomic
def recount(year: int | None = None) -> int:
    """Rebuild the stored counts (of one year, or all) from the records; returns rows written."""
    if connection.vendor == "postgresql":
        where = "WHERE year = %s" if year is not None else ""
        and_where = "AND year = %s" if year is not None else ""
        sql = _PG_RECOUNT.format(where=where, and_where=and_where)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")  # the groups sort in memory
            if year is None:
                cursor.execute("TRUNCATE objectives_objectivetally")
            else:
                cursor.execute("DELETE FROM objectives_objectivetally WHERE year = %s", [year])
            cursor.execute("SELECT COALESCE(MAX(depth), 0) + 1 FROM orgs_unit")
            levels = cursor.fetchone()[0]
            cursor.execute(sql, ([year] * 2 if year is not None else []) + [levels])
            written = cursor.rowcount
            cursor.execute("ANALYZE objectives_objectivetally")
        return written
    old = ObjectiveTally.objects.all()
    if year is not None:
        old = old.filter(year=year)
    old.delete()
    return _recount_python(year)


def _recount_python(year: int | None) -> int:
    branch_ids = set(Unit.objects.filter(kind=UnitKind.BRANCH).values_list("pk", flat=True))
    totals: Deltas = Counter()

    def add(deltas: Deltas, org_path: str, year: int, key: str, n: int) -> None:
        ids = path_ids(org_path)
        for uid in ids[:-1] if ids[-1] in branch_ids else ids:
            deltas[(uid, year, key)] += n

    targets = Target.objects.all()
    mts = MemberTarget.objects.filter(part=TargetPart.INDIVIDUAL)
    if year is not None:
        targets, mts = targets.filter(year=year), mts.filter(year=year)
    for row in targets.values("org_path", "year", "status").annotate(n=Count("id")).order_by():
        add(totals, row["org_path"], row["year"], TARGET + row["status"], row["n"])
    for row in mts.values("org_path", "year", "state").annotate(n=Count("id")).order_by():
        add(totals, row["org_path"], row["year"], MEMBER_TARGET + row["state"], row["n"])
    approved = mts.filter(state=ReviewState.APPROVED).values("org_path", "year").annotate(
        n=Count("member_id", distinct=True)).order_by()
    for row in approved:
        add(totals, row["org_path"], row["year"], MEMBERS_OK, row["n"])
    ObjectiveTally.objects.bulk_create(
        (ObjectiveTally(unit_id=u, year=y, key=k, n=n) for (u, y, k), n in totals.items() if n), batch_size=5000)
    return sum(1 for n in totals.values() if n)


def unit_moved(old_path: str, new_path: str) -> None:
    """A unit moved (orgs.services.move_unit): re-copy the tree path onto this app's rows under
    it and rebuild the counts. Call inside the move's transaction."""
    from .models import CommonStandard, Objective, ProgressReport, QualityPolicy, ResponsibilityLetter

    cut = len(old_path) + 1
    for model in (QualityPolicy, Objective, Target, CommonStandard, MemberTarget, ProgressReport,
                  ResponsibilityLetter):
        model.objects.filter(org_path__startswith=old_path).update(  # type: ignore[attr-defined]
            org_path=Concat(Value(new_path), Substr(F("org_path"), cut)))
    recount()
