"""Rectification benchmarks (issue 4's Targets), on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbqms_bench python bench/rectification.py

1. Reuses (or builds) the synthetic group of `--scale 50000` branches (bench/run.py), then adds
   1,000,000 findings (20 per branch) grouped on about 333,000 notices, in every state, with
   deadlines spread around today, by COPY; then rebuilds the stored totals (stats.recount).
2. Ledger and dashboard pages (and the notice list and to-do) through Django's test client as
   the demo accounts: median of --runs, SQL queries; target ≤ 100 ms and ≤ 15 queries.
3. The deadline sweep over the 1,000,000 findings (about 300,000 open): target ≤ 30 s. A second
   sweep right after shows that nothing is done twice. With pages measured too, the pages that
   show overdue findings are measured again while the sweep's flags are set. The sweep's effects
   are then undone (flags reset, its messages deleted) so the benchmark can run again on the same data.
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

import run  # noqa: E402  (bench/run.py: settings, scale build, page timing helpers)

FINDINGS = 1_000_000
PER_BRANCH = 20
PAGE_MS, PAGE_QUERIES, SWEEP_S = 100.0, 15, 30.0
ITEMS = [f"{c}-{i}.{j}" for c in ("DJ", "XC", "LZ", "GH", "GQ", "ZA") for i in range(1, 4) for j in range(1, 5)]


def ensure_findings(today: dt.date) -> dict[str, Any]:
    from django.db import connection, transaction

    from pbqms.demo import bulk
    from pbqms.orgs.models import Unit, UnitKind
    from pbqms.rectification import stats
    from pbqms.rectification.models import Finding, Notice

    have = Finding.objects.count()
    if have >= FINDINGS:
        return {"findings": have, "notices": Notice.objects.count(), "reused": True}
    started = time.perf_counter()
    rng = random.Random(4)
    branches = list(Unit.objects.filter(kind=UnitKind.BRANCH, code__startswith="S")
                    .values_list("pk", "path", "parent_id"))
    per = max(1, FINDINGS // len(branches))
    now = run_now()
    with transaction.atomic():
        Finding.objects.all().delete()
        Notice.objects.all().delete()
        notice_rows, finding_rows = [], []
        n_notices = sum((per + 2) // 3 for _ in branches)
        notice_ids = iter(bulk.reserve_ids(Notice, n_notices))
        finding_ids = iter(bulk.reserve_ids(Finding, per * len(branches)))
        seq = 0
        for bid, path, parent in branches:
            for start in range(0, per, 3):
                nid = next(notice_ids)
                seq += 1
                found = today - dt.timedelta(days=rng.randint(1, 360))
                r = rng.random()
                # closed 55 %, owed 25 % (deadline around today), answered 10 %, draft 10 %
                if r < 0.55:
                    n_status, f_status, deadline = "closed", "closed", found + dt.timedelta(days=15)
                elif r < 0.80:
                    n_status, f_status = "issued", "notified"
                    deadline = today + dt.timedelta(days=rng.randint(-20, 20))
                elif r < 0.90:
                    n_status, f_status, deadline = "answered", "answered", found + dt.timedelta(days=15)
                else:
                    n_status, f_status, deadline = "draft", "open", found + dt.timedelta(days=15)
                number = None if n_status == "draft" else f"党纠〔{found.year}〕{seq:07d}号"
                notice_rows.append((nid, parent, bid, path, number, found.year, seq, "党建督查问题整改",
                                    "逐条整改并反馈", deadline, n_status, 0, now, now if number else None,
                                    now if n_status == "closed" else None))
                for _k in range(start, min(per, start + 3)):
                    closed_on = found + dt.timedelta(days=rng.randint(5, 25)) if f_status == "closed" else None
                    # feedback arrives 3-18 days after the finding (deadline: day 15); the re-check later
                    answered_on = min(found + dt.timedelta(days=rng.randint(3, 18)), closed_on or today) \
                        if f_status in ("closed", "answered") else None
                    finding_rows.append((next(finding_ids), bid, path, "inspection", "", "", None,
                                         rng.choice(ITEMS), "按考核细则", "general", "记录不全，台账缺失",
                                         f"{found.year}Q{(found.month - 1) // 3 + 1}", found, f_status,
                                         nid if f_status != "open" else None,
                                         deadline if f_status != "open" else None, False, closed_on, answered_on, now))
        bulk.insert_rows(Notice, ["id", "issuing_unit", "unit", "org_path", "number", "year", "seq", "title",
                                  "requirement", "deadline", "status", "rounds", "created_at", "issued_at",
                                  "closed_at"], notice_rows)
        bulk.insert_rows(Finding, ["id", "unit", "org_path", "source", "source_ref", "source_link", "source_key",
                                   "item_code", "standard", "severity", "description", "period", "found_on",
                                   "status", "notice", "deadline", "overdue", "closed_on", "answered_on", "created_at"],
                         finding_rows)
        stats.recount()
    with connection.cursor() as cur:
        for table in ("rectification_finding", "rectification_notice", "orgs_unittally"):
            cur.execute(f"VACUUM ANALYZE {table}")
    return {"findings": len(finding_rows), "notices": len(notice_rows), "reused": False,
            "build_s": time.perf_counter() - started}


def run_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def page_cases(after_sweep: bool = False) -> list[tuple[str, str, str]]:
    """(label, user, url). Before the sweep no finding is flagged overdue; `after_sweep`: the pages
    that show overdue findings, measured again once the sweep has flagged some 122,000."""
    t = run._targets()
    year = dt.date.today().year
    if after_sweep:
        return [
            ("dashboard, 2,000-branch subsidiary", "committee",
             f"/rectification/units/{t['sub']}/dashboard/?year={year}"),
            ("ledger, whole group, overdue", "committee", f"/rectification/units/{run_root()}/ledger/?overdue=1"),
            ("ledger, subsidiary, overdue", "committee", f"/rectification/units/{t['sub']}/ledger/?overdue=1"),
            ("ledger, one branch, overdue", "committee", f"/rectification/units/{t['branch']}/ledger/?overdue=1"),
            ("to-do, department", "assessor", "/rectification/"),
        ]
    return [
        ("dashboard, whole group", "committee", f"/rectification/units/{run_root()}/dashboard/?year={year}"),
        ("dashboard, 2,000-branch subsidiary", "committee", f"/rectification/units/{t['sub']}/dashboard/?year={year}"),
        ("ledger, whole group", "committee", f"/rectification/units/{run_root()}/ledger/"),
        ("ledger, subsidiary", "committee", f"/rectification/units/{t['sub']}/ledger/"),
        ("ledger, subsidiary, overdue", "committee", f"/rectification/units/{t['sub']}/ledger/?overdue=1"),
        ("ledger, one branch", "committee", f"/rectification/units/{t['branch']}/ledger/"),
        ("notice list, whole group", "committee", "/rectification/notices/"),
        ("to-do, department", "assessor", "/rectification/"),
    ]


def measure_pages(runs: int, cases: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pbqms.accounts.models import User

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
                raise RuntimeError(f"{url}: HTTP {r.status_code}")
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            c.get(url)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            c.get(url)
        queries = list(ctx.captured_queries)
        slowest = max(queries, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
        row = {"label": label, "url": url, "median_ms": statistics.median(times), "queries": len(queries),
               "slowest_ms": float(slowest["time"]) * 1000, "slowest_sql": slowest["sql"][:300]}
        out.append(row)
        print(f"  {label:<40} {row['median_ms']:8.1f} ms (×{row['median_ms'] / PAGE_MS:.2f} of {PAGE_MS:.0f}) "
              f"{row['queries']:3d} queries (slowest {row['slowest_ms']:.1f} ms)", flush=True)
    return out


def run_root() -> str:
    from pbqms.demo import scale

    return scale.ROOT_CODE


def measure_sweep(today: dt.date) -> dict[str, Any]:
    """Two sweeps, timed; the caller undoes them (undo_sweep)."""
    from pbqms.rectification.models import OWED_FINDING, Finding
    from pbqms.rectification.reminders import sweep_deadlines

    open_findings = Finding.objects.filter(status__in=OWED_FINDING).count()
    started = time.perf_counter()
    first = sweep_deadlines(today)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = sweep_deadlines(today)
    second_s = time.perf_counter() - started
    print(f"  sweep over {open_findings:,} open findings: {first_s:.1f} s (×{first_s / SWEEP_S:.2f} of "
          f"{SWEEP_S:.0f} s): {first}", flush=True)
    print(f"  second sweep: {second_s:.1f} s, messages {second.messages}, newly overdue {second.findings_overdue}")
    return {"open_findings": open_findings, "first_s": first_s, "second_s": second_s,
            "first": vars(first), "second_messages": second.messages}


def undo_sweep() -> None:
    """Take the sweep's effects back, so the next run sweeps the same state."""
    from django.db.models import Q

    from pbqms.notify.models import Delivery, Notification
    from pbqms.rectification import stats
    from pbqms.rectification.models import Finding, Notice

    Notification.objects.filter(key__startswith="rect:").delete()
    Delivery.objects.filter(key__startswith="rect:").delete()
    Finding.objects.filter(overdue=True).update(overdue=False)
    Notice.objects.filter(Q(overdue_since__isnull=False) | Q(escalated_at__isnull=False)).update(
        overdue_since=None, escalated_at=None)
    stats.recount()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--skip", default="", help="comma-separated: pages,sweep")
    args = parser.parse_args()
    run._setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("These targets are for PostgreSQL: set DATABASE_URL.")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    scale_info = run.ensure_scale(50_000, rebuild=False)
    print(f"scale group: {scale_info.get('counts', 'reused')}")
    today = dt.date.today()
    info = ensure_findings(today)
    print(f"findings: {info}")
    skip = set(args.skip.split(","))
    if "pages" not in skip:
        measure_pages(args.runs, page_cases())
    if "sweep" not in skip:
        try:
            measure_sweep(today)
            if "pages" not in skip:
                print("  after the sweep (findings flagged overdue, stored totals kept by the sweep):", flush=True)
                measure_pages(args.runs, page_cases(after_sweep=True))
        finally:
            undo_sweep()


if __name__ == "__main__":
    main()
