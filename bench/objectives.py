"""Benchmark of the objectives roll-up and dashboards at 50,000 branches and 1.5 million members.

    .venv/bin/python bench/objectives.py [--rebuild] [--runs 7]

Builds its own PostgreSQL database (postgres://postgres@127.0.0.1:5432/pbqms_bench_obj unless
OBJ_BENCH_URL says otherwise) by COPY: a group committee, 25 subsidiaries, 1,700 committees,
50,000 branches, 1.5 million minimal members with their stored subtree totals, 5,100 objectives,
150,000 unit targets (three per branch) and 1.5 million individual member targets in every
review state. Then it times

- the roll-up: `objectives.rollup.recount()` rebuilding every stored count from the records
  (target: at most 5 s), and
- the dashboard and list pages through Django's test client (median ms of --runs after a warm-up,
  SQL queries per request; targets: at most 100 ms and 15 queries),

and prints each figure with its ratio to the target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("OBJ_BENCH_URL", "postgres://postgres@127.0.0.1:5432/pbqms_bench_obj")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
os.environ.setdefault("DEBUG", "0")
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"

SUBSIDIARIES, COMMITTEES, BRANCHES, PER_BRANCH = 25, 1_700, 50_000, 30
YEAR = 2026
ROLLUP_S, PAGE_MS, PAGE_QUERIES = 5.0, 100.0, 15
STATUSES = ["on_track"] * 6 + ["at_risk"] * 2 + ["missed", "achieved", "achieved"]
STATES = ["approved"] * 15 + ["proposed"] * 3 + ["returned"] * 2


def _create_database() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run

    run.ensure_database(URL)


def _log(msg: str, started: float) -> None:
    print(f"  {time.perf_counter() - started:7.1f} s  {msg}", flush=True)


def build() -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from pbqms.demo.bulk import insert_rows, reserve_ids
    from pbqms.members.models import Member
    from pbqms.objectives.models import MemberTarget, Objective, Target
    from pbqms.orgs.models import Unit, UnitTally, path_segment

    started = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)
    rng = random.Random(7)
    now = timezone.now()
    with transaction.atomic():
        n_units = 1 + SUBSIDIARIES + COMMITTEES + BRANCHES
        ids = iter(reserve_ids(Unit, n_units))
        units: list[tuple[Any, ...]] = []
        fields = ("id", "code", "name", "kind", "variant", "parent", "path", "depth", "order", "department",
                  "dissolution_reason", "created_at", "updated_at")

        def unit(code: str, name: str, kind: str, parent: tuple[int, str, int] | None, order: int
                 ) -> tuple[int, str, int]:
            pk = next(ids)
            path = (parent[1] if parent else "") + path_segment(pk)
            depth = parent[2] + 1 if parent else 0
            units.append((pk, code, name, kind, "regular", parent[0] if parent else None, path, depth, order, "",
                          "", now, now))
            return pk, path, depth

        root = unit("OBJ", "集团党委", "committee", None, 0)
        subs = [unit(f"OS{s:02d}", f"第{s}分公司党委", "committee", root, s) for s in range(1, SUBSIDIARIES + 1)]
        committees = [unit(f"OC{c:04d}", f"第{c}矿党委", "committee", subs[c % SUBSIDIARIES], c)
                      for c in range(1, COMMITTEES + 1)]
        branches = [(unit(f"OB{b:05d}", f"第{b}党支部", "branch", committees[b % COMMITTEES], b), committees[
            b % COMMITTEES]) for b in range(1, BRANCHES + 1)]
        insert_rows(Unit, fields, units)
        _log(f"{len(units):,} units", started)

        member_ids = reserve_ids(Member, BRANCHES * PER_BRANCH)
        day = dt.date(2010, 7, 1)

        def people() -> Any:
            k = 0
            for (pk, path, _d), _c in branches:
                for _i in range(PER_BRANCH):
                    yield (member_ids[k], f"党员{k}", f"dangyuan{k}", "dy", "M", "汉族", "", "", "", "", "", "",
                           "full", "active", pk, path, day, now, now)
                    k += 1
        insert_rows(Member, ("id", "name", "name_pinyin", "name_initials", "gender", "ethnicity", "education",
                             "id_number_encrypted", "id_number_masked", "phone_encrypted", "phone_masked", "post",
                             "status", "state", "unit", "org_path", "joined_on", "created_at", "updated_at"),
                    people())
        _log(f"{len(member_ids):,} members", started)
        tallies: dict[int, int] = {}
        for (_pk, path, _d), _c in branches:
            for uid in [int(p) for p in path.strip("/").split("/")]:
                tallies[uid] = tallies.get(uid, 0) + PER_BRANCH
        insert_rows(UnitTally, ("unit", "key", "n"), ((u, "person:full", n) for u, n in tallies.items()))
        insert_rows(UnitTally, ("unit", "key", "n"), ((b[0][0], "unit:branch", 1) for b in branches))

        objective_rows, by_committee = [], {}
        obj_ids = iter(reserve_ids(Objective, 5 + 3 * COMMITTEES))
        deadline = dt.date(YEAR, 12, 31)
        for c, (pk, path, _d) in enumerate([root] + committees):
            mine = []
            for n in range(1, 6 if c == 0 else 4):
                oid = next(obj_ids)
                mine.append(oid)
                objective_rows.append((oid, pk, path, YEAR, n, f"质量目标{n}", "达标率", "percent", "100", "",
                                       deadline, "党委副书记", "", now, now))
            by_committee[pk] = mine
        insert_rows(Objective, ("id", "unit", "org_path", "year", "number", "title", "indicator", "value_kind",
                                "target_value", "measure_unit", "deadline", "responsible", "check_method",
                                "created_at", "updated_at"), objective_rows)

        def targets() -> Any:
            for (pk, path, _d), committee in branches:
                for oid in by_committee[committee[0]]:
                    yield (oid, pk, path, YEAR, "组织落实", "支部书记", "达标率", "percent", "100", "", "",
                           dt.date(YEAR, 11, 30), rng.choice(STATUSES), "", 50, 1, now, now)
        insert_rows(Target, ("objective", "unit", "org_path", "year", "task", "person", "indicator", "value_kind",
                             "target_value", "measure_unit", "quality", "deadline", "status", "actual_value",
                             "progress", "version", "created_at", "updated_at"), targets())
        _log(f"{len(objective_rows):,} objectives, {BRANCHES * 3:,} targets", started)

        def member_targets() -> Any:
            k = 0
            for (pk, path, _d), _c in branches:
                for _i in range(PER_BRANCH):
                    yield (member_ids[k], pk, path, YEAR, "individual", "work_task", "月度任务完成率100%", "",
                           rng.choice(STATES), "", "on_track", 0, "", now, now)
                    k += 1
        insert_rows(MemberTarget, ("member", "unit", "org_path", "year", "part", "category", "title", "measure",
                                   "state", "review_comment", "status", "progress", "grade", "created_at",
                                   "updated_at"), member_targets())
        _log(f"{len(member_ids):,} member targets", started)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    _log("analyzed", started)


def _user() -> Any:
    from pbqms.accounts import services as accounts
    from pbqms.accounts.models import Role, User
    from pbqms.orgs.models import Unit

    user = User.objects.filter(username="bench_obj").first()
    if user is None:
        user = accounts.create_user(None, username="bench_obj", password="Bench#2026x", validate=False)
        accounts.grant_role(None, user, Role.COMMITTEE_SECRETARY, Unit.objects.get(code="OBJ"))
    return user


def measure(runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pbqms.objectives import rollup
    from pbqms.objectives.models import MemberTarget, Objective, Target
    from pbqms.orgs.models import Unit

    results: dict[str, Any] = {}
    times = []
    for _ in range(3):
        t = time.perf_counter()
        rows = rollup.recount()
        times.append(time.perf_counter() - t)
    results["rollup"] = {"seconds": statistics.median(times), "runs": times, "rows": rows}
    print(f"\nroll-up of {Target.objects.count():,} targets and {MemberTarget.objects.count():,} member "
          f"targets into {rows:,} stored counts: median {statistics.median(times):.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in times)}) "
          f"→ {statistics.median(times) / ROLLUP_S:.2f} of {ROLLUP_S:g} s",
          flush=True)

    client = Client()
    client.force_login(_user())
    committee = Unit.objects.get(code="OC0001")
    objective = Objective.objects.filter(unit=committee).first()
    target = Target.objects.filter(unit__code="OB00001").first()
    pages = {
        "dashboard: group (25 children, 50k branches)": "/objectives/dashboard/OBJ/",
        "dashboard: subsidiary (68 committees)": "/objectives/dashboard/OS01/",
        "dashboard: committee (29 branches)": "/objectives/dashboard/OC0001/",
        "dashboard: branch": "/objectives/dashboard/OB00001/",
        "API dashboard: group": "/api/v1/objectives/dashboard/OBJ",
        "objectives list": "/objectives/",
        "objective cascade (committee)": f"/objectives/{objective.pk if objective else 0}/",
        "unit targets (branch)": "/objectives/units/OB00001/",
        "target page": f"/objectives/targets/{target.pk if target else 0}/",
        "member targets (branch)": "/objectives/units/OB00001/members/",
        "letters list": "/objectives/letters/",
    }
    print(f"\n{'page':48} {'median ms':>10} {'queries':>8} {'ms ratio':>9} {'q ratio':>8}")
    for label, url in pages.items():
        url = url + ("&" if "?" in url else "?") + f"year={YEAR}"
        client.get(url)
        samples = []
        queries = 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                r = client.get(url)
                samples.append((time.perf_counter() - t) * 1000)
            queries = len(ctx.captured_queries)
            assert r.status_code == 200, (url, r.status_code)
        ms = statistics.median(samples)
        results[label] = {"url": url, "ms": ms, "queries": queries}
        print(f"{label:48} {ms:10.1f} {queries:8d} {ms / PAGE_MS:9.2f} {queries / PAGE_QUERIES:8.2f}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    _create_database()
    import django

    django.setup()
    from django.core.management import call_command

    from pbqms.orgs.models import Unit

    call_command("migrate", verbosity=0)
    if args.rebuild or Unit.objects.filter(kind="branch").count() != BRANCHES:
        print(f"building the bench data in {URL.rsplit('/', 1)[1]} …", flush=True)
        t = time.perf_counter()
        build()
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
    measure(args.runs)


if __name__ == "__main__":
    main()
