"""Benchmark of the document search — issue 6's target: median ≤ 100 ms over 100,000 document
versions in force, on PostgreSQL and on SQLite alike.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbqms_bench_docs .venv/bin/python bench/documents.py
    DATABASE_URL=sqlite:////tmp/bench_docs.sqlite3 .venv/bin/python bench/documents.py [--rebuild] [--versions N]

1. Builds (unless the database holds it already, or with --rebuild) a tree of one committee with
   40 branches and N documents (default 100,000), each with one version in force, whose text is
   drawn from the sentences of the seed articles (realistic Chinese, 300-900 characters a version).
   The index is written in bulk, but term for term as documents.search.index_version writes it:
   each sentence is segmented once by the same function, and a version's terms are the sum of its
   sentences' (the build checks a sample against index_version).
2. Times 24 queries (words, phrases, two-word queries, partial words) through
   documents.selectors.search, as the committee secretary (the whole tree) and as a branch
   secretary (their branch plus what applies to it), each after a warm-up, 3 runs each: median
   and p95, and the ratio to the target.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
os.environ.setdefault("DEBUG", "0")

TARGET_MS = 100.0
SEEDS = Path("/work/shared/seeds")
QUERIES = [
    "发展党员", "党员大会", "三会一课", "组织生活会", "民主评议 党员", "质量管理体系", "整改通知书", "党支部书记 培训",
    "谈心谈话", "预备党员", "党风廉政", "群团组织", "考核 评价", "党建 质量", "目标 责任书", "内审", "PDCA",
    "安全 生产", "党支", "发展对象 政治审查", "主题党日", "学习型 党组织", "持续改进", "五不放过",
]
TITLES = ["党员大会制度", "支委会议事规则", "党小组活动制度", "党课制度", "发展党员工作细则", "组织生活会制度",
          "民主评议党员办法", "党费收缴管理办法", "谈心谈话制度", "党务公开制度", "党风廉政建设责任制",
          "职工思想动态调研制度", "党委会议事规程", "厂务公开实施办法", "群团工作制度", "共青团工作指导书",
          "工会民主管理制度", "党员先锋岗创建办法", "责任区管理办法", "质量记录控制程序", "内部审核程序",
          "纠正和预防措施程序", "管理评审程序", "文件控制程序", "党建目标考核办法"]


def setup() -> None:
    import django

    django.setup()


def sentences() -> list[str]:
    """Sentences of the simplified-Chinese seed articles and of the demo's own document texts."""
    texts = []
    for p in sorted(SEEDS.glob("*.txt")) if SEEDS.exists() else []:
        if "001_" in p.name:
            continue  # traditional characters
        texts.append(p.read_text(encoding="utf-8", errors="ignore"))
    try:
        from pbqms.documents import seed_texts

        texts.append(seed_texts.all_text())
    except ImportError:
        pass
    out = []
    for t in texts:
        for s in re.split(r"(?<=[。！？；])", re.sub(r"\s+", "", t)):
            if 12 <= len(s) <= 160 and len(re.findall(r"[\u4e00-\u9fff]", s)) > len(s) * 0.6:
                out.append(s)
    return sorted(set(out))


def build(n: int, log=print) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection, transaction
    from django.utils import timezone

    from pbqms.accounts import services as accounts
    from pbqms.accounts.models import Role, User
    from pbqms.documents import search
    from pbqms.documents.models import (
        Applicability,
        Document,
        DocumentVersion,
        PeriodicReview,
        SearchTerm,
        Tier,
        VersionStatus,
        VersionTerm,
    )
    from pbqms.orgs import services as orgs
    from pbqms.orgs.models import Unit, UnitKind

    started = time.perf_counter()
    with transaction.atomic():
        for model in (VersionTerm, SearchTerm, PeriodicReview, Applicability):
            model.objects.all().delete()
        Document.objects.update(current=None)
        DocumentVersion.objects.all().delete()
        Document.objects.all().delete()
        User.objects.filter(username__in=["bench_committee", "bench_branch"]).delete()
        Unit.objects.filter(code__startswith="BD").order_by("-depth").delete()
        root = orgs.create_unit(None, code="BD", name="基准党委", kind=UnitKind.COMMITTEE, parent=None)
        branches = [orgs.create_unit(None, code=f"BD{i:02d}", name=f"基准第{i}党支部", kind=UnitKind.BRANCH,
                                     parent=root, order=i) for i in range(1, 41)]
        committee = accounts.create_user(None, username="bench_committee", password="x", validate=False)
        accounts.grant_role(None, committee, Role.COMMITTEE_SECRETARY, root)
        branch = accounts.create_user(None, username="bench_branch", password="x", validate=False)
        accounts.grant_role(None, branch, Role.BRANCH_SECRETARY, branches[0])
    pool = sentences()
    log(f"  {len(pool)} seed sentences; segmenting them once")
    counted = [(s, Counter(search.tokens(s))) for s in pool]
    title_terms = {t: Counter(search.tokens(t)) for t in TITLES}
    rng = random.Random(6)
    units = [root] * 40 + branches  # half the documents are the committee's
    tiers = [Tier.REGULATION] * 5 + [Tier.PROCEDURE, Tier.WORK_INSTRUCTION, Tier.RECORD_FORM, Tier.MANUAL]
    today = timezone.localdate()
    df: Counter[str] = Counter()
    batch = 5000
    is_pg = connection.vendor == "postgresql"
    for start in range(0, n, batch):
        size = min(batch, n - start)
        with transaction.atomic():
            docs, versions, term_rows = [], [], []
            for i in range(start, start + size):
                unit = units[i % len(units)]
                title = rng.choice(TITLES)
                docs.append(Document(tier=rng.choice(tiers), number=f"BD-{i:06d}", title=f"{title}（{i}）",
                                     unit=unit, org_path=unit.path))
            Document.objects.bulk_create(docs)
            Applicability.objects.bulk_create([Applicability(document=d, unit=d.unit, path=d.org_path) for d in docs])
            weights_list = []
            for d in docs:
                sections = []
                weights: Counter[str] = Counter()
                for _k in range(4):
                    chosen = rng.sample(counted, rng.randint(1, 3))
                    sections.append("".join(s for s, _ in chosen))
                    for _, c in chosen:
                        weights.update(c)
                stem = d.title.split("（")[0]
                for t, c in title_terms[stem].items():
                    weights[t] += c * search.TITLE_WEIGHT
                weights_list.append(weights)
                versions.append(DocumentVersion(
                    document=d, org_path=d.org_path, number=1, status=VersionStatus.PUBLISHED, title=d.title,
                    purpose=sections[0], scope_text=sections[1], duties=sections[2], procedure=sections[3],
                    effective_from=today))
            DocumentVersion.objects.bulk_create(versions)
            for v, weights in zip(versions, weights_list, strict=True):
                df.update(weights.keys())
                term_rows.extend((v.pk, v.document_id, t, min(w, search.MAX_WEIGHT)) for t, w in weights.items())
            with connection.cursor() as cur:
                if is_pg:
                    with cur.cursor.copy("COPY documents_versionterm (version_id, document_id, term, weight) "
                                         "FROM STDIN") as copy:
                        for row in term_rows:
                            copy.write_row(row)
                else:
                    cur.executemany("INSERT INTO documents_versionterm (version_id, document_id, term, weight) "
                                    "VALUES (%s, %s, %s, %s)", term_rows)
        log(f"  {start + size:,} versions, {time.perf_counter() - started:.0f} s")
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("UPDATE documents_document SET current_id = (SELECT v.id FROM documents_documentversion v "
                        "WHERE v.document_id = documents_document.id AND v.number = 1) WHERE current_id IS NULL")
        SearchTerm.objects.bulk_create([SearchTerm(term=t, df=c) for t, c in df.items()], batch_size=5000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    # The bulk index equals what index_version writes, version for version (sentence boundaries aside).
    sample = DocumentVersion.objects.order_by("?")[:3] if n < 1000 else DocumentVersion.objects.filter(
        pk__in=list(DocumentVersion.objects.values_list("pk", flat=True)[:200:67]))
    for v in sample:
        expected = search.term_weights(*search.version_text(v))
        stored = dict(VersionTerm.objects.filter(version=v).values_list("term", "weight"))
        overlap = len(set(expected) & set(stored)) / max(1, len(set(expected) | set(stored)))
        log(f"  sample version {v.pk}: {len(stored)} terms stored, {overlap:.0%} equal to index_version's")
    log(f"Built {n:,} versions, {VersionTerm.objects.count():,} index rows, {len(df):,} distinct terms in "
        f"{time.perf_counter() - started:.0f} s")


def measure(runs: int = 3) -> dict[str, dict[str, float]]:
    from django.db import connection, reset_queries

    from pbqms.accounts.models import User
    from pbqms.documents import selectors

    results: dict[str, dict[str, float]] = {}
    for username in ("bench_committee", "bench_branch"):
        user = User.objects.get(username=username)
        times = []
        rows = []
        for q in QUERIES:
            selectors.search(user, q)  # warm-up
            samples = []
            for _ in range(runs):
                user = User.objects.get(username=username)  # a fresh request: scope computed again
                reset_queries()
                t0 = time.perf_counter()
                result = selectors.search(user, q)
                [str(h.snippet) for h in result.hits]
                samples.append((time.perf_counter() - t0) * 1000)
            ms = statistics.median(samples)
            times.append(ms)
            rows.append((q, ms, result.total, len(connection.queries)))
        times_sorted = sorted(times)
        p95 = times_sorted[max(0, int(round(0.95 * len(times_sorted))) - 1)]
        results[username] = {"median": statistics.median(times), "p95": p95, "max": max(times)}
        print(f"\n{username}: {'query':<16} {'ms':>8} {'hits':>8}")
        for q, ms, total, _nq in rows:
            print(f"  {q:<16} {ms:8.1f} {total:8d}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to a database of its own (e.g. sqlite:////tmp/bench_docs.sqlite3).")
    setup()
    from django.conf import settings
    from django.core.management import call_command

    from pbqms.documents.models import DocumentVersion

    settings.DEBUG = True  # count queries
    call_command("migrate", verbosity=0)
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    have = DocumentVersion.objects.filter(document__number__startswith="BD-").count()
    if args.rebuild or have < args.versions:
        print(f"Building {args.versions:,} document versions on {vendor} …")
        build(args.versions)
    else:
        print(f"{have:,} document versions on {vendor} already built (--rebuild to build again)")
    results = measure(args.runs)
    print(f"\nSearch over {args.versions:,} versions on {vendor} — target: median ≤ {TARGET_MS:.0f} ms")
    for who, r in results.items():
        print(f"  {who:<16} median {r['median']:6.1f} ms ({r['median'] / TARGET_MS:.2f}× target)   "
              f"p95 {r['p95']:6.1f} ms   max {r['max']:6.1f} ms")


if __name__ == "__main__":
    main()
