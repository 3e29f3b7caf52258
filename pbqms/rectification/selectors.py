"""Scoped reads of the rectification loop: to-do lists, the ledger (整改台账), the dashboard.

Every read starts from pbqms.scope. Counts on the ledger and the dashboard come from the
stored subtree totals (stats.py), so those pages cost the same for 100 findings or a million.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from pbqms import scope
from pbqms.core import clock
from pbqms.orgs import tally
from pbqms.orgs.models import Unit

from . import stats
from .models import (
    LIVE_FINDING,
    OWED_FINDING,
    OWED_NOTICE,
    Feedback,
    Finding,
    FindingStatus,
    Notice,
    NoticeStatus,
    PreventiveAction,
    PreventiveStatus,
    Verification,
)


def findings(user: Any) -> QuerySet[Finding]:
    return scope.rect_readable(user, Finding)


def notices(user: Any) -> QuerySet[Notice]:
    """Notices of the user's subtrees; drafts only for those who may issue them."""
    qs: QuerySet[Notice] = scope.rect_readable(user, Notice)
    issue_paths = scope.paths_for(user, scope.RECT_ISSUE_ROLES)
    if "" in issue_paths:
        return qs
    return qs.filter(~Q(status=NoticeStatus.DRAFT) | scope._prefix_q("org_path", issue_paths))


def preventive_actions(user: Any) -> QuerySet[PreventiveAction]:
    s = scope.get_scope(user)
    qs: QuerySet[PreventiveAction] = scope.rect_readable(user, PreventiveAction)
    if not s.is_superuser and s.user_id:
        # an owner always sees the action they own
        qs = PreventiveAction.objects.filter(Q(pk__in=qs.values("pk")) | Q(owner_id=s.user_id))
    return qs


def notice_or_404(user: Any, pk: int | str) -> Notice:
    return scope.rect_record_or_404(user, Notice, pk)  # type: ignore[no-any-return]


def finding_or_404(user: Any, pk: int | str) -> Finding:
    return scope.rect_record_or_404(user, Finding, pk)  # type: ignore[no-any-return]


def preventive_or_404(user: Any, pk: int | str) -> PreventiveAction:
    from django.http import Http404

    try:
        return preventive_actions(user).select_related("unit", "owner").get(pk=int(pk))
    except (PreventiveAction.DoesNotExist, ValueError, TypeError):
        raise Http404


def notice_detail(notice: Notice) -> dict[str, Any]:
    """Everything the notice page and the two-part form show, in a fixed number of queries."""
    fbs = Feedback.objects.select_related("cause_category", "submitted_by").prefetch_related("evidence")
    found = list(notice.findings.select_related("found_by").prefetch_related(
        "evidence", Prefetch("feedback", queryset=fbs.order_by("round")),
        Prefetch("verifications", queryset=Verification.objects.select_related("verified_by"))).order_by("pk"))
    for f in found:
        f.rounds = list(f.feedback.all())
        f.latest = f.rounds[-1] if f.rounds else None
        f.checks = list(f.verifications.all())
        f.last_check = f.checks[-1] if f.checks else None
    return {"findings": found, "steps": list(notice.steps.select_related("actor").all())}


def notice_list(user: Any, *, status: str = "", unit: Unit | None = None, year: int | None = None,
                q: str = "", overdue: bool = False) -> QuerySet[Notice]:
    qs = notices(user).select_related("unit", "issuing_unit")
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(Q(year=year) | Q(year__isnull=True, created_at__year=year))
    if overdue:
        qs = qs.filter(status__in=OWED_NOTICE, deadline__lt=clock.today())
    if q := q.strip():
        qs = qs.filter(Q(number__contains=q) | Q(title__contains=q))
    return qs.order_by("-created_at", "-id")


def ledger(user: Any, unit: Unit, *, status: str = "", year: int | None = None, overdue: bool = False,
           item: str = "", source: str = "") -> QuerySet[Finding]:
    """整改台账: the findings of `unit`'s subtree, newest first."""
    qs = findings(user).filter(org_path__startswith=unit.path).select_related("unit", "notice")
    if status == "live":
        qs = qs.filter(status__in=LIVE_FINDING)
    elif status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(found_on__gte=dt.date(year, 1, 1), found_on__lt=dt.date(year + 1, 1, 1))
    if overdue:
        qs = qs.filter(status__in=OWED_FINDING, overdue=True)
    if item:
        qs = qs.filter(item_code=item)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-found_on", "-id")


@dataclass
class DashboardRow:
    unit: Unit
    live: int
    overdue: int
    closed: int
    ontime_rate: float | None
    mean_days: float | None
    total: int


def dashboard(user: Any, unit: Unit, year: int, *, limit: int | None = 50) -> dict[str, Any]:
    """The committee dashboard for `unit`'s subtree in `year`: its totals, a row per child unit
    (those with the most overdue, then open findings first; at most `limit`, None for all), and
    the most recurring items. At most six queries whatever the number of findings or children."""
    qs = scope.units(user).filter(parent=unit, dissolved_on__isnull=True)
    children = list(qs.order_by("order", "code") if limit is None else qs.order_by("order", "code")[:limit + 1])
    children_total = len(children)
    if limit is not None and children_total > limit:
        # a subsidiary of 2,000 branches: let the database rank the children on their stored totals
        children_total = qs.count()
        children = stats.top_units(qs, year, limit)
    own = stats.read([unit.pk], year)[unit.pk]
    totals = stats.read([c.pk for c in children], year, items=False)
    rows = [DashboardRow(c, totals[c.pk]["live"], totals[c.pk]["overdue"], totals[c.pk]["closed"],
                         totals[c.pk]["ontime_rate"], totals[c.pk]["mean_days"], totals[c.pk]["total"])
            for c in children]
    items = sorted(own["items"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {"totals": own, "rows": rows, "items": items, "children_total": children_total}


def todo(user: Any) -> dict[str, Any]:
    """What waits for this user: issuers see drafts, feedback to verify and overdue notices of
    their subtree; responders see notices to receive and to answer; owners their preventive actions."""
    today = clock.today()
    out: dict[str, Any] = {"today": today}
    s = scope.get_scope(user)
    issue_paths = scope.paths_for(user, scope.RECT_ISSUE_ROLES)
    respond_paths = scope.paths_for(user, scope.RECT_RESPOND_ROLES)
    base = notices(user).select_related("unit")  # the issuer's lists show the addressed unit only
    if issue_paths:
        mine = base.filter(scope._prefix_q("org_path", issue_paths)).exclude(unit_id__in=s.role_unit_ids)
        out["drafts"] = list(mine.filter(status=NoticeStatus.DRAFT).order_by("deadline")[:50])
        out["to_verify"] = list(mine.filter(status=NoticeStatus.ANSWERED).order_by("deadline")[:50])
        out["overdue"] = _earliest_deadlines(mine.filter(deadline__lt=today), OWED_NOTICE, 50)
        # from the stored totals: counting the open findings of a whole group live costs ~0.5 s
        out["open_findings"] = stats.open_count(_top_unit_ids(issue_paths))
    if respond_paths:
        owed = base.select_related("issuing_unit").filter(scope._prefix_q("org_path", respond_paths),
                                                           status__in=OWED_NOTICE)
        out["to_answer"] = list(owed.order_by("deadline")[:50])
    out["preventive"] = list(PreventiveAction.objects.filter(
        owner_id=s.user_id, status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN))
        .select_related("unit").order_by("due_on")[:50]) if s.user_id else []
    return out


def _earliest_deadlines(qs: QuerySet[Notice], statuses: tuple[str, ...], limit: int) -> list[Notice]:
    """The `limit` notices of `qs` in any of `statuses` with the earliest deadlines: per status a
    light query walking the (status, deadline) index in order and stopping early (a status IN list
    fetches every match, some 40,000 overdue notices in a large group, to sort them), then the
    rows themselves."""
    keys = sorted(row for status in statuses
                  for row in qs.filter(status=status).order_by("deadline", "pk").values_list("deadline", "pk")[:limit])
    pks = [pk for _deadline, pk in keys[:limit]]
    found = qs.in_bulk(pks)
    return [found[pk] for pk in pks]


def _top_unit_ids(paths: tuple[str, ...]) -> list[int]:
    """The units at the top of these (disjoint) subtrees; "" is the whole forest."""
    if "" in paths:
        return list(Unit.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    return [tally.unit_id_of(p) for p in paths]


def open_findings_of(user: Any, unit: Unit) -> QuerySet[Finding]:
    """Findings of exactly `unit` not yet on a notice: what a new notice may group."""
    return findings(user).filter(unit=unit, status=FindingStatus.OPEN, notice__isnull=True).order_by("pk")


# ---- reads of the web pages (views.py, exports.py) ---------------------------------------------

def finding_list(user: Any, *, unit: Unit | None = None, status: str = "", source: str = "", overdue: bool = False,
                 year: int | None = None, item: str = "", q: str = "") -> QuerySet[Finding]:
    """The findings page: the user's findings (or `unit`'s subtree), filtered, newest first.
    status "" leaves out withdrawn findings, "all" keeps them, "live" is every finding not closed."""
    qs = findings(user).select_related("unit", "notice")
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if status == "live":
        qs = qs.filter(status__in=LIVE_FINDING)
    elif status == "":
        qs = qs.exclude(status=FindingStatus.WITHDRAWN)
    elif status != "all":
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source=source)
    if overdue:
        qs = qs.filter(status__in=OWED_FINDING, overdue=True)
    if year:
        qs = qs.filter(found_on__gte=dt.date(year, 1, 1), found_on__lt=dt.date(year + 1, 1, 1))
    if item := item.strip():
        qs = qs.filter(item_code=item)
    if q := q.strip():
        qs = qs.filter(Q(description__contains=q) | Q(item_code__contains=q))
    return qs.order_by("-found_on", "-id")


def ledger_rows(user: Any, unit: Unit, *, status: str = "", year: int | None = None, overdue: bool = False,
                item: str = "", source: str = "") -> QuerySet[Finding]:
    """The ledger page's rows: selectors.ledger, with status "" leaving out withdrawn findings
    (so the stored totals give the row count) and "all" keeping them."""
    if status == "all":
        status = ""
    elif status == "":
        return ledger(user, unit, year=year, overdue=overdue, item=item, source=source).exclude(
            status=FindingStatus.WITHDRAWN)
    return ledger(user, unit, status=status, year=year, overdue=overdue, item=item, source=source)


def ledger_total(user: Any, unit: Unit, *, status: str = "", year: int | None = None, overdue: bool = False,
                 item: str = "", source: str = "") -> int | None:
    """How many rows ledger_rows returns, from the stored totals when they answer the filters
    (one year, the whole subtree readable, no overdue/source filter); None: count the rows."""
    if not year or overdue or source or not scope.covers_path(user, unit.path):
        return None
    if status not in ("", "live", "closed") or (item and (status or len(item) > stats.ITEM_KEY_LEN)):
        return None
    row = stats.read([unit.pk], year)[unit.pk]
    if item:
        return int(row["items"].get(item, 0))
    return int(row["total"] if status == "" else row[status])


def home_unit(user: Any) -> Unit | None:
    """The top of the user's first readable subtree: where the ledger and the dashboard open."""
    paths = scope.subtree_read_paths(user) or scope.get_scope(user).read_paths
    if not paths:
        return None
    if "" in paths:
        return Unit.objects.filter(parent__isnull=True, dissolved_on__isnull=True).order_by("order", "code").first()
    return Unit.objects.filter(path__in=paths).order_by("path").first()


def open_finding_units(user: Any, limit: int = 300) -> list[tuple[Unit, int]]:
    """Units the user may issue notices to that have findings not yet on a notice, with how many."""
    paths = scope.paths_for(user, scope.RECT_ISSUE_ROLES)
    if not paths:
        return []
    own = scope.get_scope(user).role_unit_ids
    counts = dict(findings(user).filter(scope._prefix_q("org_path", paths), status=FindingStatus.OPEN,
                                        notice__isnull=True).exclude(unit_id__in=own)
                  .values_list("unit_id").annotate(n=Count("id")).order_by()[:limit])
    units = Unit.objects.filter(pk__in=counts).order_by("path")
    return [(u, counts[u.pk]) for u in units]


def preventive_list(user: Any, *, status: str = "", unit: Unit | None = None) -> QuerySet[PreventiveAction]:
    qs = preventive_actions(user).select_related("unit", "owner")
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if status == "live":
        qs = qs.filter(status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN, PreventiveStatus.DONE))
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "-id")


def preventive_owner_choices(action: PreventiveAction, limit: int = 200) -> list[Any]:
    """People who may own a preventive action: those holding a role on its unit or below it."""
    from pbqms.accounts.models import User

    return list(User.objects.filter(
        is_active=True, role_assignments__unit__path__startswith=action.org_path,
        role_assignments__unit__dissolved_on__isnull=True).distinct().order_by("username")[:limit])


def preventive_findings(action: PreventiveAction) -> list[Finding]:
    return list(action.findings.select_related("unit", "notice").order_by("-found_on", "-id")[:100])


def finding_history(finding: Finding) -> dict[str, Any]:
    """A finding's page: its feedback rounds with their verifications, newest round last."""
    rounds = list(finding.feedback.select_related("cause_category", "submitted_by", "notice")
                  .prefetch_related("evidence", Prefetch("verifications",
                                                         queryset=Verification.objects.select_related("verified_by")))
                  .order_by("round"))
    return {"rounds": rounds, "evidence": list(finding.evidence.all()),
            "actions": list(finding.preventive_actions.all()[:20])}


def unit_totals(user: Any, unit: Unit, year: int) -> dict[str, Any] | None:
    """The stored totals of `unit`'s subtree in `year` (None unless the user reads all of it)."""
    if not scope.covers_path(user, unit.path):
        return None
    return stats.read([unit.pk], year)[unit.pk]


# ---- the home page's work list ----------------------------------------------------------------

SOON_DAYS = 14  # a deadline within this many days is "due soon"


def work_items(user: Any) -> list[Any]:
    """Home-page lines (core.work): a responding branch's overdue and due-soon notices and its
    preventive actions; an issuer's feedback to verify, drafts, and the overdue findings of its
    subtree by unit (from the stored totals); at most four queries."""
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from pbqms.core.work import FIGURE, OVERDUE, SOON, TODO, WorkItem, capped_counts

    today = clock.today()
    out: list[WorkItem] = []
    s = scope.get_scope(user)
    notices_url = reverse("rectification:notices")
    respond_paths = scope.paths_for(user, scope.RECT_RESPOND_ROLES)
    if respond_paths:
        owed = list(notices(user).filter(scope._prefix_q("org_path", respond_paths), status__in=OWED_NOTICE,
                                         deadline__lte=today + dt.timedelta(days=SOON_DAYS))
                    .only("pk", "deadline", "number", "title").order_by("deadline", "pk")[:100])
        late = [n for n in owed if n.deadline < today]
        soon = [n for n in owed if n.deadline >= today]
        if late:
            days = (today - late[0].deadline).days
            out.append(WorkItem(
                "rect.overdue", ngettext(
                    "%(n)d rectification notice is overdue (the oldest by %(days)d days): answer it",
                    "%(n)d rectification notices are overdue (the oldest by %(days)d days): answer them",
                    len(late)) % {"n": len(late), "days": days},
                reverse("rectification:notice", args=[late[0].pk]) if len(late) == 1
                else f"{notices_url}?{urlencode({'overdue': 'on'})}", OVERDUE, len(late)))
        if soon:
            days = (soon[0].deadline - today).days
            out.append(WorkItem(
                "rect.soon", ngettext(
                    "%(n)d rectification notice is due within %(within)d days (the next in %(days)d days)",
                    "%(n)d rectification notices are due within %(within)d days (the next in %(days)d days)",
                    len(soon)) % {"n": len(soon), "within": SOON_DAYS, "days": days},
                reverse("rectification:notice", args=[soon[0].pk]) if len(soon) == 1
                else reverse("rectification:todo"), SOON, len(soon)))
    issue_paths = scope.paths_for(user, scope.RECT_ISSUE_ROLES)
    asks: dict[str, QuerySet[Any]] = {}
    if issue_paths:
        mine = notices(user).filter(scope._prefix_q("org_path", issue_paths)).exclude(unit_id__in=s.role_unit_ids)
        asks["verify"] = mine.filter(status=NoticeStatus.ANSWERED)
        asks["drafts"] = mine.filter(status=NoticeStatus.DRAFT)
    if s.user_id:
        asks["preventive"] = PreventiveAction.objects.filter(
            owner_id=s.user_id, status__in=(PreventiveStatus.PROPOSED, PreventiveStatus.OPEN))
    counted = capped_counts(asks)
    if n := counted.get("verify", (0, False))[0]:
        out.append(WorkItem("rect.verify", ngettext(
            "%(n)d feedback form waits for your verification", "%(n)d feedback forms wait for your verification",
            n) % {"n": n}, f"{notices_url}?{urlencode({'status': NoticeStatus.ANSWERED})}", TODO, n,
            counted["verify"][1]))
    if n := counted.get("drafts", (0, False))[0]:
        out.append(WorkItem("rect.drafts", ngettext(
            "%(n)d draft notice not yet issued", "%(n)d draft notices not yet issued", n) % {"n": n},
            f"{notices_url}?{urlencode({'status': NoticeStatus.DRAFT})}", TODO, n, counted["drafts"][1]))
    if n := counted.get("preventive", (0, False))[0]:
        out.append(WorkItem("rect.preventive", ngettext(
            "%(n)d preventive action is yours to carry out", "%(n)d preventive actions are yours to carry out",
            n) % {"n": n}, f"{reverse('rectification:preventive_list')}?{urlencode({'status': 'live'})}",
            TODO, n, counted["preventive"][1]))
    if issue_paths:
        top = _top_unit_ids(issue_paths)[:1] if "" not in issue_paths else []
        if top:  # the first subtree's stored totals: what its dashboard opens with
            year = today.year
            kids = scope.units(user).filter(parent_id=top[0], dissolved_on__isnull=True)
            worst = stats.top_units(kids, year, 3)
            own = stats.read(top, year, items=False)[top[0]]
            board = reverse("rectification:dashboard_home")
            late_units = [(u, getattr(u, "rect_o", 0)) for u in worst if getattr(u, "rect_o", 0)]
            if own["overdue"]:
                out.append(WorkItem("rect.overdue_units", _(
                    "Overdue findings in %(year)d: %(n)d — most at %(units)s") % {
                    "year": year, "n": own["overdue"],
                    "units": _(", ").join(f"{u.name} {n}" for u, n in late_units) or "—"},
                    board, OVERDUE, own["overdue"]))
            out.append(WorkItem("rect.figures", _(
                "Rectification in %(year)d: %(live)d open, %(closed)d closed, on time %(rate)s") % {
                "year": year, "live": own["live"], "closed": own["closed"],
                "rate": "—" if own["ontime_rate"] is None else f"{own['ontime_rate']:.1f}%"},
                board, FIGURE))
    return out
