"""PBQMS benchmarks — `make bench`: the issue's Targets measured on PostgreSQL at --scale 50000.

    DATABASE_URL=postgres://…/pbqms_bench python bench/run.py [--rebuild] [--scale N] [--runs 7]

1. Builds the synthetic group (`pbqms demo --scale N --no-serve`) unless the database already
   holds it (--rebuild forces a fresh build), and times the default demo build on a scratch
   SQLite database, as `make demo` runs it.
2. Measures pages through Django's test client, logged in as the demo accounts: server time
   (median of --runs after a warm-up), SQL queries per request, the slowest query, and the peak
   Python memory of one request (tracemalloc).
3. Imports 100,000 people (a generated workbook in the template's columns; rolled back after
   each run so the database stays as built) and exports 100,000 people, each in a child process
   whose peak resident memory is read with wait4().

Prints a table with the ratio of each figure to its target and writes bench/out/results.md
and results.json. --explain prints EXPLAIN ANALYZE of each page's slowest query.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Benchmarks run as production would: no debug, the test client's host allowed.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
os.environ.setdefault("DEBUG", "0")
os.environ["ALLOWED_HOSTS"] = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost") + ",testserver"

PAGE_MS = 50.0
PAGE_QUERIES = 15
IMPORT_S, IMPORT_MB, EXPORT_MB = 60.0, 500.0, 300.0
DEMO_S, SCALE_S = 30.0, 600.0
IO_MEMBERS = 100_000


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database a benchmark runs on, if it is not there yet."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup() -> None:
    import django

    ensure_database(os.environ.get("DATABASE_URL", ""))
    django.setup()


def _python() -> str:
    return sys.executable


def _run_child(args: list[str], env: dict[str, str] | None = None, echo: bool = False) -> dict[str, Any]:
    """Run a child process; return its wall time, its peak RSS and the JSON it printed last."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, cwd=ROOT)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if echo:
            print("    " + line.rstrip(), flush=True)
    # wait4 gives this child's own peak memory (RUSAGE_CHILDREN would give the largest child's).
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    out = "".join(lines)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{out[-5000:]}")
    data: dict[str, Any] = {}
    for line in reversed(lines):
        if line.startswith("{"):
            data = json.loads(line)
            break
    data.update(wall_s=wall, peak_mb=usage.ru_maxrss / 1024, stdout=out)
    return data


# ---- builds -----------------------------------------------------------------------------

def ensure_scale(n: int, rebuild: bool) -> dict[str, Any]:
    from pbqms.demo import scale

    OUT.mkdir(parents=True, exist_ok=True)
    record = OUT / f"build-scale-{n}.json"
    if not rebuild and scale.scale_exists(n):
        previous = json.loads(record.read_text()) if record.exists() else {}
        return {**previous, "reused": True}
    print(f"Building --scale {n} (this takes several minutes)…", flush=True)
    res = _run_child([_python(), "-m", "pbqms.cli", "demo", "--scale", str(n), "--no-serve", "--reset"],
                     echo=True)
    match = re.search(r"Built the synthetic group in ([\d.]+) s: (.*)", res["stdout"])
    data = {"build_s": float(match.group(1)) if match else res["wall_s"], "wall_s": res["wall_s"],
            "peak_mb": res["peak_mb"], "counts": match.group(2) if match else "", "reused": False}
    record.write_text(json.dumps(data))
    return data


def demo_build() -> dict[str, Any]:
    """The default demo on a scratch SQLite database, as `make demo` builds it."""
    db = OUT / "demo-build.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    res = _run_child([_python(), "-m", "pbqms.cli", "demo", "--no-serve"],
                     env={"DATABASE_URL": f"sqlite:///{db}"})
    match = re.search(r"Built the demo organisation in ([\d.]+) s", res["stdout"])
    return {"build_s": float(match.group(1)) if match else res["wall_s"], "wall_s": res["wall_s"],
            "peak_mb": res["peak_mb"]}


# ---- pages ------------------------------------------------------------------------------

def _targets() -> dict[str, Any]:
    """Which branch, subsidiary and person the pages are measured on: in the middle of the tree."""
    from pbqms.demo import scale
    from pbqms.members.models import Member
    from pbqms.orgs.models import Unit, UnitKind

    subs = list(Unit.objects.filter(parent__code=scale.ROOT_CODE, kind=UnitKind.COMMITTEE)
                .order_by("code").values_list("code", flat=True))
    sub = subs[len(subs) // 2]
    branch = f"{sub}B{min(scale.PER_SUBSIDIARY, Unit.objects.get(code=sub).children.count()) // 2:04d}"
    person = Member.objects.filter(unit__code=branch).order_by("pk").values_list("pk", flat=True)[3]
    return {"sub": sub, "branch": branch, "person": person}


def page_cases(t: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(label, user, url, counts towards the 50 ms / 15 queries target)."""
    return [
        ("member list, one branch", "committee", f"/members/?unit={t['branch']}", True),
        ("member list, 2,000-branch subsidiary", "committee", f"/members/?unit={t['sub']}", True),
        ("member list, whole group (1.5 M)", "committee", "/members/", True),
        ("member list, subsidiary, search 'zw'", "committee", f"/members/?unit={t['sub']}&q=zw", True),
        ("member list, subsidiary, by birth date", "committee", f"/members/?unit={t['sub']}&sort=birth",
         True),
        ("unit page, branch", "committee", f"/units/{t['branch']}/", True),
        ("unit page, subsidiary (2,000 branches)", "committee", f"/units/{t['sub']}/", True),
        ("unit page, group committee", "committee", "/units/JT/", True),
        ("unit members tab, subsidiary", "committee", f"/units/{t['sub']}/members/", True),
        ("unit tree", "committee", "/units/", True),
        ("home (subtree counts), group", "committee", "/", True),
        ("home (subtree counts), subsidiary", "subsidiary01", "/", True),
        ("home, branch secretary", "branch01", "/", True),
        ("home, department staff", "assessor", "/", True),
        ("member page", "assessor", f"/members/{t['person']}/", True),
        ("member history tab", "assessor", f"/members/{t['person']}/history/", True),
    ]


def measure_pages(runs: int, explain: bool) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pbqms.accounts.models import User

    targets = _targets()
    clients: dict[str, Client] = {}
    results = []
    for label, username, url, target in page_cases(targets):
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        for _ in range(2):  # warm-up: connection, caches, PostgreSQL's buffers
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} as {username}: HTTP {response.status_code}")
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = list(ctx.captured_queries)  # read now: the next request empties the log
        tracemalloc.start()
        client.get(url)
        _size, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        slowest = max(queries, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
        row: dict[str, Any] = {"label": label, "user": username, "url": url, "target": target,
               "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
               "queries": len(queries), "peak_mb": peak / 2**20,
               "slowest_ms": float(slowest["time"]) * 1000, "slowest_sql": slowest["sql"]}
        results.append(row)
        print(f"  {label:<44} {row['median_ms']:8.1f} ms {row['queries']:3d} queries "
              f"(slowest {row['slowest_ms']:.1f} ms)", flush=True)
        if explain and (row["median_ms"] > PAGE_MS or row["queries"] > PAGE_QUERIES):
            row["plan"] = _explain(slowest["sql"])
            print(row["plan"])
    return results


def _explain(sql: str) -> str:
    from django.db import connection

    if not sql or connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(r[0] for r in cur.fetchall())


# ---- roster import and export (child processes) ----------------------------------------

def import_file() -> Path:
    path = OUT / f"import-{IO_MEMBERS}.xlsx"
    if not path.exists():
        from pbqms.roster.synthetic import write_roster

        print(f"Writing {path.name}…", flush=True)
        write_roster(str(path), IO_MEMBERS, parent="JT", prefix="IMP", seed=2026)
    return path


def measure_import(runs: int) -> list[dict[str, Any]]:
    path = import_file()
    out = []
    for i in range(runs):
        res = _run_child([_python(), str(Path(__file__)), "--child", "import", str(path)])
        out.append(res)
        print(f"  import run {i + 1}: {res['import_s']:.1f} s, peak {res['peak_mb']:.0f} MB, "
              f"re-import {res['reimport_s']:.1f} s; {res['summary']}, then {res['reimport_summary']}",
              flush=True)
    return out


def measure_export(runs: int) -> list[dict[str, Any]]:
    out = []
    for i in range(runs):
        res = _run_child([_python(), str(Path(__file__)), "--child", "export", str(OUT / "export.xlsx")])
        out.append(res)
        print(f"  export run {i + 1}: {res['export_s']:.1f} s, peak {res['peak_mb']:.0f} MB, "
              f"{res['count']} people, {res['bytes'] / 2**20:.1f} MB file", flush=True)
    return out


class _Rollback(Exception):
    pass


def child_import(path: str) -> None:
    """Import the file, re-import it (must change nothing), then roll everything back."""
    _setup()
    from django.db import transaction

    from pbqms.accounts.models import User
    from pbqms.roster.services import import_roster

    actor = User.objects.get(username="committee")
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            first = import_roster(path, actor)
            result["import_s"] = time.perf_counter() - started
            if not first.ok:
                raise RuntimeError(f"import refused: {first.errors[:5]}")
            result["summary"] = first.summary
            started = time.perf_counter()
            second = import_roster(path, actor)
            result["reimport_s"] = time.perf_counter() - started
            result["reimport_summary"] = second.summary
            raise _Rollback
    except _Rollback:
        pass
    print(json.dumps(result, default=str))


def child_export(path: str) -> None:
    _setup()
    from pbqms.accounts.models import User
    from pbqms.members.models import Member
    from pbqms.roster.services import export_members

    actor = User.objects.get(username="committee")
    # The people of the first subsidiaries, up to IO_MEMBERS of them (a member list's queryset).
    subs = Member.objects.filter(unit__parent__code__in=["S01", "S02"])
    last = subs.order_by("pk").values_list("pk", flat=True)[IO_MEMBERS - 1]
    started = time.perf_counter()
    count = export_members(subs.filter(pk__lte=last), actor, path)
    elapsed = time.perf_counter() - started
    print(json.dumps({"export_s": elapsed, "count": count, "bytes": os.path.getsize(path)}))


# ---- report ----------------------------------------------------------------------------

def _ratio(value: float, target: float) -> str:
    return f"{value / target:.2f}" if target else ""


def _verdict(ok: bool) -> str:
    return "ok" if ok else "**MISSED**"


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def report(meta: dict[str, Any], pages: list[dict[str, Any]], imports: list[dict[str, Any]],
           exports: list[dict[str, Any]]) -> str:
    lines = [
        "# PBQMS benchmark results",
        "",
        f"- Database: {meta['db']} ({meta['people']:,} people, {meta['units']:,} units)",
        f"- Machine: {meta['machine']}",
        f"- Date: {meta['date']}",
        f"- Page times: server time around the test client's request, median of {meta['runs']} runs after "
        "2 warm-up requests; peak = Python heap peak of one request (tracemalloc).",
        "- Import and export: wall time in a child process; peak = the child's peak resident memory.",
        "",
        _row("measurement", "median", "min", "max", "SQL queries", "peak memory", "target", "ratio",
             "verdict"),
        _row("---", "---:", "---:", "---:", "---:", "---:", "---", "---:", "---"),
    ]
    page_target = f"≤ {PAGE_MS:.0f} ms, ≤ {PAGE_QUERIES} queries"
    for p in pages:
        ok = p["median_ms"] <= PAGE_MS and p["queries"] <= PAGE_QUERIES
        lines.append(_row(f"{p['label']} (`{p['url']}` as {p['user']})", f"{p['median_ms']:.1f} ms",
                          f"{p['min_ms']:.1f} ms", f"{p['max_ms']:.1f} ms", p["queries"],
                          f"{p['peak_mb']:.1f} MB", page_target, _ratio(p["median_ms"], PAGE_MS),
                          _verdict(ok)))
    if imports:
        t = [r["import_s"] for r in imports]
        m = max(r["peak_mb"] for r in imports)
        med = statistics.median(t)
        lines.append(_row(f"import of {IO_MEMBERS:,} people ({len(imports)} runs)", f"{med:.1f} s",
                          f"{min(t):.1f} s", f"{max(t):.1f} s", "–", f"{m:.0f} MB",
                          f"≤ {IMPORT_S:.0f} s, ≤ {IMPORT_MB:.0f} MB",
                          f"{_ratio(med, IMPORT_S)} / {_ratio(m, IMPORT_MB)}",
                          _verdict(med <= IMPORT_S and m <= IMPORT_MB)))
        r = [x["reimport_s"] for x in imports]
        lines.append(_row("the same file imported again (changes nothing)", f"{statistics.median(r):.1f} s",
                          f"{min(r):.1f} s", f"{max(r):.1f} s", "–", "–", "–", "–", "–"))
    if exports:
        t = [r["export_s"] for r in exports]
        m = max(r["peak_mb"] for r in exports)
        lines.append(_row(f"export of {exports[0]['count']:,} people ({len(exports)} runs)",
                          f"{statistics.median(t):.1f} s", f"{min(t):.1f} s", f"{max(t):.1f} s", "–",
                          f"{m:.0f} MB", f"≤ {EXPORT_MB:.0f} MB", _ratio(m, EXPORT_MB),
                          _verdict(m <= EXPORT_MB)))
    demo = meta.get("demo_build")
    if demo:
        lines.append(_row("`pbqms demo` default build (SQLite)", f"{demo['build_s']:.1f} s", "–", "–", "–",
                          f"{demo['peak_mb']:.0f} MB", f"≤ {DEMO_S:.0f} s", _ratio(demo["build_s"], DEMO_S),
                          _verdict(demo["build_s"] <= DEMO_S)))
    build = meta.get("scale_build") or {}
    if build.get("build_s"):
        note = " (measured when built; reused)" if build.get("reused") else ""
        lines.append(_row(f"`pbqms demo --scale {meta['scale']}` build{note}", f"{build['build_s']:.0f} s",
                          "–", "–", "–", f"{build.get('peak_mb', 0):.0f} MB", f"≤ {SCALE_S:.0f} s",
                          _ratio(build["build_s"], SCALE_S), _verdict(build["build_s"] <= SCALE_S)))
    slow = [p for p in pages if p["median_ms"] > PAGE_MS or p["queries"] > PAGE_QUERIES]
    if slow:
        lines += ["", "## Slowest query of each page over target", ""]
        for p in slow:
            lines += [f"### {p['label']} — slowest query {p['slowest_ms']:.1f} ms", "", "```sql",
                      p["slowest_sql"][:2000], "```", ""]
            if p.get("plan"):
                lines += ["```", p["plan"], "```", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the synthetic group even if present")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page")
    parser.add_argument("--io-runs", type=int, default=3, help="runs of the import and of the export")
    parser.add_argument("--skip", default="", help="comma-separated: demo,pages,import,export")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow pages' slowest query")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"import": child_import, "export": child_export}[args.child[0]](args.child[1])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    _setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("!!! The benchmarks' targets are for PostgreSQL; DATABASE_URL points elsewhere.")
    skip = set(filter(None, args.skip.split(",")))
    call_command("migrate", interactive=False, verbosity=0)
    meta: dict[str, Any] = {"scale": args.scale, "runs": args.runs,
                            "date": time.strftime("%Y-%m-%d %H:%M"), "db": connection.vendor,
                            "machine": f"{os.cpu_count()} CPUs, {_mem_gb():.0f} GB RAM, "
                                       f"load average {os.getloadavg()[0]:.1f} at the start"}
    meta["scale_build"] = ensure_scale(args.scale, args.rebuild)
    print(f"Synthetic group: {meta['scale_build']}", flush=True)
    from pbqms.members.models import Member
    from pbqms.orgs.models import Unit

    meta["people"], meta["units"] = Member.objects.count(), Unit.objects.count()
    if "demo" not in skip:
        print("Default demo build (SQLite)…", flush=True)
        meta["demo_build"] = demo_build()
    pages = []
    if "pages" not in skip:
        print("Pages:", flush=True)
        pages = measure_pages(args.runs, args.explain)
    imports = [] if "import" in skip else measure_import(args.io_runs)
    exports = [] if "export" in skip else measure_export(args.io_runs)
    text = report(meta, pages, imports, exports)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps({"meta": meta, "pages": pages, "imports": imports,
                                                  "exports": exports}, default=str, indent=1))
    print()
    print(text)


def _mem_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


if __name__ == "__main__":
    main()
