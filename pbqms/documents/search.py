"""Chinese full-text search — 全文检索 over the versions in force, the same on SQLite and PostgreSQL.

Index: at publication, jieba's search-mode segmentation (`cut_for_search`, which yields a long
word and the shorter words inside it: 发展党员 → 发展 / 党员 / 发展党员) of the title and every
section becomes rows of VersionTerm (term, weight = occurrences + 5 × occurrences in the title),
and each term's document frequency is kept in SearchTerm. Superseding or abolishing a version
removes its rows, so only versions in force are ever found.

Query: the query's words (jieba's precise mode) must all occur (AND). A word the index has never
seen is widened to the indexed words that contain it (党支 → 党支部, 党支部书记), so partial words
still match. Ranking is a tf-idf sum. Two SQL statements: the vocabulary lookup, then the postings
of every query word for the candidates, which are the best-weighted postings of the rarest word
(at most CANDIDATES of them) inside the caller's scope. Snippets are cut in Python for the page
shown only.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.utils.safestring import SafeString, mark_safe

from .models import SECTION_FIELDS, DocumentVersion, SearchTerm, VersionTerm

MAX_TERM = 32
TITLE_WEIGHT = 5
MAX_WEIGHT = 30000
CANDIDATES = 400  # postings of the rarest query word considered, best weight first
EXPANSIONS = 8  # indexed words a partial word may widen to (the commonest)
SNIPPET = 90  # characters of a snippet

# Words of the domain jieba's dictionary lacks; added once so the index and the queries agree.
DOMAIN_WORDS = [
    "三会一课", "发展党员", "主题党日", "组织生活会", "民主评议", "谈心谈话", "党小组会", "支委会", "党员大会",
    "党支部书记", "入党积极分子", "发展对象", "预备党员", "正式党员", "入党介绍人", "党费", "党建", "党务",
    "作业指导书", "程序文件", "管理手册", "管理制度", "质量记录", "整改通知书", "纠错通知单", "一岗双责",
    "党风廉政", "职代会", "厂务公开", "群团组织", "共青团", "工会", "党委会", "议事规则", "三重一大",
    "矿务公开", "区务公开",
    "五不放过", "星级党支部", "党员先锋岗", "责任区", "政治工作部", "党群工作部",
]
STOP_WORDS = {
    "的", "了", "和", "与", "及", "或", "在", "是", "对", "等", "并", "由", "按", "为", "将", "把", "于", "其", "之",
    "以", "各", "要", "有", "不", "也", "从", "向", "中", "上", "下", "个", "每", "应", "可", "则", "如", "所",
    "进行", "以及", "一个", "有关", "相关", "其他",
}
_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")

_lock = threading.Lock()
_ready = False


def jieba() -> Any:
    """jieba, with its dictionary loaded once per process and its chatter silenced."""
    global _ready
    import jieba as _jieba

    if not _ready:
        with _lock:
            if not _ready:
                _jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                _jieba.initialize()
                for word in DOMAIN_WORDS:
                    _jieba.add_word(word, freq=50000)
                _ready = True
    return _jieba


def _keep(token: str) -> bool:
    if not token or len(token) > MAX_TERM or token in STOP_WORDS or not _KEEP.search(token):
        return False
    if _CJK.search(token):
        return len(token) >= 2
    return not (token.isdigit() and len(token) < 2)


def tokens(text: str) -> list[str]:
    """Index terms of `text`: search-mode words of two characters or more, lower-cased ASCII."""
    if not text:
        return []
    return [t for t in (w.strip().lower() for w in jieba().cut_for_search(text)) if _keep(t)]


def query_words(q: str) -> list[str]:
    """The words a query is made of (precise mode, so 发展党员 stays one word), in order, unique."""
    seen: dict[str, None] = {}
    for w in jieba().cut(q.strip()[:200]):
        w = w.strip().lower()
        if w and w not in STOP_WORDS and _KEEP.search(w):
            seen[w] = None
    return list(seen)


def version_text(version: DocumentVersion) -> tuple[str, str]:
    """(title, body) of a version as the index sees it."""
    body = "\n".join(getattr(version, f) or "" for f in SECTION_FIELDS + ("what", "why", "who", "when", "how",
                                                                           "standard"))
    return version.title or "", body


def term_weights(title: str, body: str) -> Counter[str]:
    weights: Counter[str] = Counter(tokens(body))
    for t in tokens(title):
        weights[t] += TITLE_WEIGHT
    return weights


# ---- indexing -------------------------------------------------------------------------------

def _add_df(terms: Iterable[str], delta: int) -> None:
    terms = list(terms)
    for i in range(0, len(terms), 500):
        chunk = terms[i:i + 500]
        if delta > 0:
            SearchTerm.objects.bulk_create([SearchTerm(term=t, df=0) for t in chunk], ignore_conflicts=True)
        SearchTerm.objects.filter(term__in=chunk).update(df=F("df") + delta)


def index_version(version: DocumentVersion) -> int:
    """Put a version in force into the index (replacing what it had). Returns the number of terms."""
    unindex_version(version)
    weights = term_weights(*version_text(version))
    VersionTerm.objects.bulk_create(
        [VersionTerm(version_id=version.pk, document_id=version.document_id, term=t, weight=min(w, MAX_WEIGHT))
         for t, w in weights.items()], batch_size=1000)
    _add_df(weights, +1)
    return len(weights)


def unindex_version(version: DocumentVersion) -> None:
    terms = list(VersionTerm.objects.filter(version_id=version.pk).values_list("term", flat=True))
    if terms:
        VersionTerm.objects.filter(version_id=version.pk).delete()
        _add_df(terms, -1)


# ---- querying -------------------------------------------------------------------------------

@dataclass
class Hit:
    version: DocumentVersion
    score: float
    snippet: SafeString = field(default_factory=lambda: mark_safe(""))
    title: SafeString = field(default_factory=lambda: mark_safe(""))


@dataclass
class Result:
    words: list[str]
    total: int
    capped: bool  # candidates were cut at CANDIDATES: `total` is a lower bound
    hits: list[Hit]


def _groups(words: list[str]) -> tuple[list[list[str]], dict[str, int]]:
    """For each query word, the indexed terms that stand for it, and every term's df.

    A word the index holds stands for itself; a word it lacks, for the indexed words containing
    it; failing that, for its own search-mode parts (each then required on its own).
    """
    if not words:
        return [], {}
    known = dict(SearchTerm.objects.filter(term__in=words, df__gt=0).values_list("term", "df"))
    groups: list[list[str]] = []
    dfs: dict[str, int] = dict(known)
    for w in words:
        if w in known:
            groups.append([w])
            continue
        wider = list(SearchTerm.objects.filter(term__contains=w, df__gt=0).order_by("-df")
                     .values_list("term", "df")[:EXPANSIONS])
        if wider:
            dfs.update(wider)
            groups.append([t for t, _ in wider])
            continue
        parts = [p for p in tokens(w) if p != w]
        if not parts:
            groups.append([])  # nothing can match this word
            continue
        part_dfs = dict(SearchTerm.objects.filter(term__in=parts, df__gt=0).values_list("term", "df"))
        dfs.update(part_dfs)
        groups.extend([p] if p in part_dfs else [] for p in dict.fromkeys(parts))
    return groups, dfs


def _top_postings(terms: list[str], per_term: int) -> list[tuple[int, int, str, int]]:
    """(version_id, document_id, term, weight) of each term's `per_term` best-weighted postings: one
    statement, each part an index range scan of (term, -weight)."""
    table = VersionTerm._meta.db_table
    part = (f"SELECT * FROM (SELECT version_id, document_id, term, weight FROM {table} "
            f"WHERE term = %s ORDER BY weight DESC, version_id LIMIT {int(per_term)}) AS t{{i}}")
    sql = " UNION ALL ".join(part.format(i=i) for i in range(len(terms)))
    with connection.cursor() as cur:
        cur.execute(sql, terms)
        return list(cur.fetchall())


def search(readable: QuerySet[Any] | None, q: str, *, offset: int = 0, limit: int = 20,
           total_versions: int | None = None, allowed_ids: Callable[[set[int]], set[int]] | None = None) -> Result:
    """Versions in force matching every word of `q`, best first.

    `readable`: the documents the caller may read (a scope queryset), or None for all;
    `allowed_ids`: which of some document ids the caller reads (cheaper than `readable` on a
    handful of candidates). Candidates
    are the CANDIDATES best postings of the rarest word; when a word is commoner than that, the
    ranking covers those candidates only and `capped` says so.
    """
    words = query_words(q)
    groups, dfs = _groups(words)
    if not groups or any(not g for g in groups):
        return Result(words, 0, False, [])
    n = total_versions if total_versions is not None else max(1, max(dfs.values(), default=1) * 2)
    idf = {t: math.log(1 + n / max(1, df)) for t, df in dfs.items()}
    rarest = min(groups, key=lambda g: sum(dfs.get(t, 0) for t in g))
    capped = any(dfs.get(t, 0) > CANDIDATES for t in rarest)
    rows = _top_postings(rarest, CANDIDATES)
    if readable is not None and rows:
        candidates = {r[1] for r in rows}
        allowed = allowed_ids(candidates) if allowed_ids is not None else \
            set(readable.filter(pk__in=candidates).values_list("pk", flat=True))
        rows = [r for r in rows if r[1] in allowed]
        if capped and len({r[0] for r in rows}) < offset + limit:
            # the caller reads few of the best postings: take the best ones inside their scope
            scoped = VersionTerm.objects.filter(term__in=rarest, document_id__in=readable.values("pk")) \
                .order_by("-weight", "version_id").values_list("version_id", "document_id", "term", "weight")
            rows = list(scoped[:CANDIDATES * len(rarest)])
    term_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        for t in g:
            term_group[t].append(i)
    matched: dict[int, set[int]] = defaultdict(set)
    scores: dict[int, float] = defaultdict(float)

    def add(version_id: int, term: str, weight: int) -> None:
        for gi in term_group[term]:
            matched[version_id].add(gi)
        scores[version_id] += (1 + math.log(weight)) * idf.get(term, 1.0)

    for version_id, _doc, term, weight in rows:
        add(version_id, term, weight)
    if len(scores) > CANDIDATES:  # several terms stood for the rarest word: keep the best
        keep = set(sorted(scores, key=lambda v: -scores[v])[:CANDIDATES])
        scores = defaultdict(float, {v: s for v, s in scores.items() if v in keep})
    others = sorted({t for g in groups if g is not rarest for t in g} - set(rarest))
    if others and scores:
        ids = list(scores)
        for i in range(0, len(ids), 900):
            for version_id, term, weight in VersionTerm.objects.filter(
                    version_id__in=ids[i:i + 900], term__in=others).values_list("version_id", "term", "weight"):
                add(version_id, term, weight)
    wanted = len(groups)
    ranked = sorted(((s, v) for v, s in scores.items() if len(matched[v]) == wanted), key=lambda x: (-x[0], x[1]))
    page = ranked[offset:offset + limit]
    versions = DocumentVersion.objects.select_related("document", "document__unit").in_bulk([v for _, v in page])
    highlight = sorted({t for g in groups for t in g} | set(words), key=len, reverse=True)
    hits = []
    for score, vid in page:
        v = versions.get(vid)
        if v is None:
            continue
        hits.append(Hit(version=v, score=round(score, 3), snippet=snippet(version_text(v)[1], highlight),
                        title=mark(v.title, highlight)))
    return Result(words, len(ranked), capped, hits)


# ---- snippets -------------------------------------------------------------------------------

def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    terms = [t for t in terms if t]
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def mark(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, each term wrapped in <mark>."""
    pattern = _pattern(terms)
    if pattern is None:
        return mark_safe(html.escape(text))
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))


def snippet(text: str, terms: list[str], size: int = SNIPPET) -> SafeString:
    """The stretch of `text` around the densest cluster of matches, highlighted."""
    text = re.sub(r"\s+", " ", text or "").strip()
    pattern = _pattern(terms)
    if pattern is None or not text:
        return mark(text[:size], [])
    starts = [m.start() for m in pattern.finditer(text)]
    if not starts:
        return mark(text[:size] + ("…" if len(text) > size else ""), [])
    best = max(starts, key=lambda s: sum(1 for x in starts if s <= x < s + size))
    begin = max(0, best - size // 4)
    end = min(len(text), begin + size)
    prefix = "…" if begin > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + mark(text[begin:end], terms) + suffix)
