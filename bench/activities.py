"""Organisational-life benchmarks (issue 5's Targets), on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbqms_bench python bench/activities.py

1. Reuses (or builds) the synthetic group of `--scale 50000` branches (bench/run.py) and adds a
   year of activity records by COPY: per branch 12 committee meetings, 12 theme days, 4 assemblies,
   4 lectures, the yearly meetings, and 12 meetings of its first party group, about 5 % left out
   at random (about 2.4 million records).
2. Times the full compliance evaluation of the year (engine.evaluate_year: every rule, every unit,
   every period, plus the heat-map totals), first run and re-run, against ONE hand-written SQL
   statement that computes the same states for all rules and periods into a scratch table; prints
   both and the ratio (target: ≤ 20 s and ≤ 2× the hand-written statement).
3. Calendar and heat-map pages through the test client (target ≤ 100 ms median, ≤ 15 queries).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402

EVAL_S, RATIO, PAGE_MS = 20.0, 2.0, 100.0


def ensure_records(year: int, today: dt.date) -> dict[str, Any]:
    from django.db import connection, transaction

    from pbqms.activities.models import ActivityRecord, ComplianceState, ComplianceTally
    from pbqms.demo import bulk
    from pbqms.orgs.models import Unit, UnitKind

    have = ActivityRecord.objects.filter(held_on__year=year).count()
    if have >= 2_000_000:
        return {"records": have, "reused": True}
    started = time.perf_counter()
    rng = random.Random(5)
    branches = list(Unit.objects.filter(kind=UnitKind.BRANCH, code__startswith="S").values_list("pk", "path"))
    first_group = dict(Unit.objects.filter(kind=UnitKind.GROUP, code__endswith="G1", code__startswith="S")
                       .values_list("parent_id", "pk"))
    group_paths = dict(Unit.objects.filter(pk__in=list(first_group.values())).values_list("pk", "path"))
    now = run_now()
    months = [m for m in range(1, 13) if dt.date(year, m, 1) <= today]

    def rows():
        for bid, path in branches:
            plan = []
            for m in months:
                plan += [("committee", dt.date(year, m, 5)), ("theme_day", dt.date(year, m, 15))]
                if m % 3 == 2:
                    plan += [("assembly", dt.date(year, m, 22)), ("lecture", dt.date(year, m, 10))]
            plan += [("life_meeting", dt.date(year, 2, 26)), ("review", dt.date(year, 2, 27)),
                     ("talk", dt.date(year, 3, 18))]
            for kind, day in plan:
                if day <= today and rng.random() > 0.05:
                    yield (bid, path, kind, day, "", "例会", kind == "lecture" and day.month == 5, "", "", 30, 28,
                           93.3, now)
            gid = first_group.get(bid)
            if gid:
                for m in months:
                    day = dt.date(year, m, 12)
                    if day <= today and rng.random() > 0.05:
                        yield (gid, group_paths[gid], "group", day, "", "党小组会", False, "", "", 10, 9, 90.0, now)

    with transaction.atomic():
        ComplianceTally.objects.all().delete()
        ComplianceState.objects.all().delete()
        ActivityRecord.objects.all().delete()
        n = bulk.insert_rows(ActivityRecord, ["unit", "org_path", "kind", "held_on", "place", "topic",
                                              "host_is_secretary", "minutes", "resolutions", "expected", "present",
                                              "attendance_rate", "created_at"], rows())
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE activities_activityrecord")
    return {"records": n, "reused": False, "build_s": time.perf_counter() - started}


def run_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def hand_written(year: int, today: dt.date) -> float:
    """One statement computing every state of the year into a scratch table: the floor."""
    from django.db import connection

    from pbqms.activities import engine
    from pbqms.activities.models import RuleTarget

    values, params = [], []
    for rule in engine.rules():
        for p in engine.periods(rule.frequency, dt.date(year, 1, 1), dt.date(year, 12, 31)):
            if p.start > today:
                continue
            values.append("(%s, %s, %s, %s::date, %s::date, %s::date, %s, %s)")
            params += [rule.pk, rule.kind, "group" if rule.target == RuleTarget.GROUP else "branch", p.start, p.end,
                       p.end - dt.timedelta(days=rule.remind_days), rule.min_count, rule.host == "secretary"]
    sql = f"""
        CREATE TEMP TABLE hand_states AS
        WITH rp (rule_id, kind, target, p_start, p_end, p_risk, need, by_secretary) AS (VALUES {', '.join(values)}),
        c AS (SELECT r.unit_id, rp.rule_id, rp.p_start, COUNT(*) AS n
              FROM activities_activityrecord r JOIN rp ON r.kind = rp.kind AND r.held_on BETWEEN rp.p_start AND rp.p_end
                   AND (NOT rp.by_secretary OR r.host_is_secretary)
              GROUP BY r.unit_id, rp.rule_id, rp.p_start)
        SELECT u.id AS unit_id, rp.rule_id, rp.p_start,
               CASE WHEN COALESCE(c.n, 0) >= rp.need THEN 'met' WHEN rp.p_end < %s THEN 'missed'
                    WHEN rp.p_risk <= %s THEN 'at_risk' ELSE 'open' END AS status
        FROM orgs_unit u JOIN rp ON u.kind = rp.target
        LEFT JOIN c ON c.unit_id = u.id AND c.rule_id = rp.rule_id AND c.p_start = rp.p_start
        WHERE u.dissolved_on IS NULL
    """
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS hand_states")
        started = time.perf_counter()
        cur.execute(sql, params + [today, today])
        took = time.perf_counter() - started
        cur.execute("SELECT COUNT(*) FROM hand_states")
        print(f"  hand-written statement: {took:.1f} s, {cur.fetchone()[0]:,} states")
        cur.execute("DROP TABLE hand_states")
    return took


def measure_eval(year: int, today: dt.date) -> dict[str, Any]:
    """Three runs of the full evaluation: from an empty state table (the first evaluation ever),
    again on the same day (nothing changed: nothing is written), and the next night (the periods
    that moved to at-risk or missed are rewritten)."""
    from django.db import connection

    from pbqms.activities import engine
    from pbqms.activities.models import ComplianceState, ComplianceTally
    from pbqms.core import clock

    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {ComplianceState._meta.db_table}, {ComplianceTally._meta.db_table}")
    out = {}
    for label, day in (("first", today), ("again", today), ("next day", today + dt.timedelta(days=1))):
        started = time.perf_counter()
        with clock.as_of(day):
            written = engine.evaluate_year(year)
        out[label] = time.perf_counter() - started
        print(f"  engine, {label} run: {out[label]:.1f} s (×{out[label] / EVAL_S:.2f} of {EVAL_S:.0f} s), "
              f"{written:,} states written", flush=True)
        if label == "first":
            with connection.cursor() as cur:
                cur.execute(f"VACUUM ANALYZE {ComplianceState._meta.db_table}")
    out["states"] = ComplianceState.objects.count()
    out["hand"] = hand_written(year, today)
    for label in ("first", "again", "next day"):
        print(f"  ratio engine/hand-written ({label}): {out[label] / out['hand']:.2f} (target ≤ {RATIO})")
    with clock.as_of(today):  # leave the states as of today for the pages
        engine.evaluate_year(year)
    return out


def measure_pages(runs: int, year: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pbqms.accounts.models import User
    from pbqms.demo import scale

    t = run._targets()
    cases = [
        ("heat map, whole group", "committee", f"/activities/units/{scale.ROOT_CODE}/heatmap/?year={year}"),
        ("heat map, 2,000-branch subsidiary", "committee", f"/activities/units/{t['sub']}/heatmap/?year={year}"),
        ("calendar, one branch", "committee", f"/activities/units/{t['branch']}/calendar/?month={year}-05"),
        # the demo branch secretary's own branch (branch01 sits on S01B0001)
        ("calendar, branch secretary", "branch01", f"/activities/units/S01B0001/calendar/?month={year}-11"),
    ]
    out = []
    clients: dict[str, Client] = {}
    for label, username, url in cases:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        c = clients[username]
        for _ in range(2):
            r = c.get(url)
            if r.status_code != 200:
                print(f"  {label}: HTTP {r.status_code} for {url}")
                break
        else:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                c.get(url)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as ctx:
                c.get(url)
            row = {"label": label, "median_ms": statistics.median(times), "queries": len(ctx.captured_queries)}
            out.append(row)
            print(f"  {label:<40} {row['median_ms']:8.1f} ms (×{row['median_ms'] / PAGE_MS:.2f} of {PAGE_MS:.0f}) "
                  f"{row['queries']:3d} queries", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--skip", default="", help="comma-separated: eval,pages")
    args = parser.parse_args()
    run._setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run.ensure_scale(50_000, rebuild=False)
    today = dt.date.today()
    year = today.year
    print(f"records: {ensure_records(year, today)}", flush=True)
    skip = set(args.skip.split(","))
    if "eval" not in skip:
        measure_eval(year, today)
    if "pages" not in skip:
        measure_pages(args.runs, year)


if __name__ == "__main__":
    main()
