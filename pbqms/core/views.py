"""Home page (the work list gathered by core.work) and the helpers every page uses (bounded pagination)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pbqms import scope
from pbqms.accounts.models import Role
from pbqms.audit import selectors as audit_selectors
from pbqms.audit.models import AuditEntry
from pbqms.core import work
from pbqms.members.models import Member

# Counting every row of a huge list costs more than the page itself; beyond this many rows
# the page says "more than N" and still pages forward.
COUNT_CAP = 10_000
RECENT_CHANGES = 10


@dataclass
class Page:
    """One page of a list: its rows, and just enough to draw the page links."""

    items: list[Any]
    number: int
    per_page: int
    total: int | None  # None when there are more than COUNT_CAP rows
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.per_page))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    @property
    def cap(self) -> int:
        return COUNT_CAP

    @property
    def page_links(self) -> list[int | None]:
        """Page numbers to link around the current one; None marks a gap."""
        last = self.num_pages
        if last is None:
            return []
        wanted = {1, last} | set(range(max(1, self.number - 2), min(last, self.number + 2) + 1))
        out: list[int | None] = []
        prev = 0
        for n in sorted(wanted):
            if n - prev > 1:
                out.append(None)
            out.append(n)
            prev = n
        return out


def paginate(request: HttpRequest, qs: QuerySet[Any], per_page: int = 50, total: int | None = None) -> Page:
    """Two queries: a count that stops at COUNT_CAP (skipped when the caller knows the total),
    and the page (one row more, to know if a next page exists)."""
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    if total is None:
        total = qs.order_by().values("pk")[:COUNT_CAP + 1].count()
    if total is not None and total > COUNT_CAP:
        total = None
    else:
        number = min(number, max(1, math.ceil((total or 0) / per_page)))
    offset = (number - 1) * per_page
    rows = list(qs[offset:offset + per_page + 1])
    return Page(items=rows[:per_page], number=number, per_page=per_page, total=total,
                has_next=len(rows) > per_page)


def add_service_error(form: Form, error: ValidationError, field: str | None = None) -> None:
    """Show a service's ValidationError on the form (on `field`, or above the fields)."""
    if field is not None and field in form.fields:
        form.add_error(field, error.messages)
    else:
        form.add_error(None, error.messages)


def recent_changes(user: Any) -> tuple[list[AuditEntry], str]:
    """The latest changes the user may see, and which kind of list it is ('scope', 'self' or '')."""
    if scope.can_read_audit_log(user):
        return audit_selectors.recent(user, RECENT_CHANGES), "scope"
    member_id = scope.get_scope(user).self_member_id
    if member_id:
        from pbqms.audit.selectors import history_of

        return list(history_of(Member(pk=member_id))[:RECENT_CHANGES]), "self"
    return [], ""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's work list: what each capability says is due for them (core.work), each line
    linking to where it is done; the unread messages come from the navigation's count."""
    user = request.user
    s = scope.get_scope(user)
    items = work.gather(user)
    return render(request, "core/home.html", {
        "items": [i for i in items if i.level != work.FIGURE],
        "figures": [i for i in items if i.level == work.FIGURE],
        "has_role": bool(s.is_superuser or s.roles or s.self_member_id or s.group_ids),
        "role_labels": sorted(str(Role(r).label) for r in s.roles if r in Role.values),
    })
