"""The home page's work list — 待办: what each capability says is due for a user.

Every capability app offers `work_items(user) -> list[WorkItem]` in its selectors module, built from
its scoped selectors and stored totals in a query or two; `gather` asks each of them and sorts the
lines (overdue first). The home view only shows what comes back, so it stays a thin gatherer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# The apps asked, in the order their lines appear within one level.
SOURCES = (
    "pbqms.rectification.selectors",
    "pbqms.activities.selectors",
    "pbqms.assessment.selectors",
    "pbqms.objectives.selectors",
    "pbqms.documents.selectors",
)

# Counts on the home page stop here ("99+"): counting a whole group's rows costs more than the page.
CAP = 99

OVERDUE, SOON, TODO, FIGURE = "overdue", "soon", "todo", "figure"
LEVELS = (OVERDUE, SOON, TODO, FIGURE)


@dataclass(frozen=True)
class WorkItem:
    """One line of the work list: a sentence, where it is done, and how urgent it is."""

    key: str  # stable name, e.g. "rect.overdue" (tests and CSS use it)
    text: str  # translated sentence, figures included
    url: str  # the page where the work is done (one click)
    level: str = TODO  # overdue | soon | todo | figure
    count: int | None = None  # the figure shown beside the line (None: no figure)
    capped: bool = False  # the count stopped at CAP

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{self.count}+" if self.capped else str(self.count)


def capped_count(qs: QuerySet[Any], cap: int = CAP) -> tuple[int, bool]:
    """How many rows (at most cap), and whether there are more: one bounded query."""
    n = qs.order_by().values("pk")[:cap + 1].count()
    return min(n, cap), n > cap


def capped_counts(queries: dict[str, QuerySet[Any]], cap: int = CAP) -> dict[str, tuple[int, bool]]:
    """capped_count of several querysets in ONE query (a select of scalar subqueries): the home
    page asks a dozen such questions and has a budget of queries, not of subqueries."""
    if not queries:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for i, qs in enumerate(queries.values()):
        sql, p = qs.order_by().values("pk")[:cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) w{i})")
        params.extend(p)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: (min(int(n), cap), int(n) > cap) for name, n in zip(queries, row, strict=True)}


def gather(user: Any) -> list[WorkItem]:
    """Every app's lines for `user`: overdue first, then due soon, to do, and the figures."""
    items: list[WorkItem] = []
    for name in SOURCES:
        items.extend(importlib.import_module(name).work_items(user))
    return sorted(items, key=lambda i: LEVELS.index(i.level))
