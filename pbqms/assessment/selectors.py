"""Assessment reads for the web pages — 考核评价: schemes, plans, periods and score sheets.

Every read starts from a pbqms.scope function (schemes_readable, assessment_runs,
assessment_readable, units, members); the pages never filter by organisation themselves. Lists of
units or members are paged and their sheets read in one query per page, so a period page costs the
same number of queries for 5 branches or 50,000.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from pbqms import scope
from pbqms.assessment import services
from pbqms.assessment.models import (
    SCORED_KINDS,
    ItemKind,
    PanelMember,
    Period,
    PeriodKind,
    PeriodStatus,
    PeriodStep,
    Plan,
    Scheme,
    SchemeCategory,
    SchemeItem,
    SchemeStatus,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
    TargetKind,
)
from pbqms.core import clock
from pbqms.members.models import PARTY_MEMBER_STATUSES, Member, MemberState
from pbqms.orgs.models import Unit, UnitKind

# The units a branch scheme assesses (基层党组织): branches and general branches.
ASSESSED_KINDS = (UnitKind.BRANCH, UnitKind.GENERAL_BRANCH)
# The period page's status filter: which sheet, in which state.
STATUS_FILTERS = ("self_none", "self_draft", "self_submitted", "assessor_none", "assessor_draft",
                  "assessor_submitted")
HOME_LIMIT = 12
HALF_FILING_DAYS = 45  # a branch files its half-year analysis within this many days of the half's end


# ---- schemes -----------------------------------------------------------------------------------

def scheme_list(user: Any, *, year: int | None = None, status: str = "", target_kind: str = "") -> QuerySet[Scheme]:
    qs = scope.schemes_readable(user).select_related("owner", "plan").annotate(n_items=Count("items"))
    if year:
        qs = qs.filter(year=year)
    if status in SchemeStatus.values:
        qs = qs.filter(status=status)
    if target_kind in TargetKind.values:
        qs = qs.filter(target_kind=target_kind)
    return qs.order_by("-year", "owner__path", "target_kind", "-version")


def scheme_years(user: Any) -> list[int]:
    return sorted(set(scope.schemes_readable(user).values_list("year", flat=True)), reverse=True)


@dataclass
class CategoryBlock:
    category: SchemeCategory
    items: list[SchemeItem] = field(default_factory=list)
    scored: Decimal = Decimal(0)  # the work and interactive items' maximum points
    bonus: Decimal = Decimal(0)
    penalty: Decimal = Decimal(0)
    vetoes: int = 0


def scheme_blocks(scheme: Scheme) -> tuple[list[CategoryBlock], Decimal]:
    """Categories with their items and totals (two queries), and the indicators' grand total."""
    blocks = {c.pk: CategoryBlock(c) for c in scheme.categories.all()}
    for item in scheme.items.order_by("category__order", "order", "id"):
        block = blocks[item.category_id]
        block.items.append(item)
        if item.kind in SCORED_KINDS:
            block.scored += item.max_points
        elif item.kind == ItemKind.BONUS:
            block.bonus += item.max_points
        elif item.kind == ItemKind.PENALTY:
            block.penalty += item.max_points
        else:
            block.vetoes += 1
    out = list(blocks.values())
    return out, sum((b.scored for b in out), Decimal(0))


def versions_to_compare(user: Any, scheme: Scheme) -> QuerySet[Scheme]:
    """Other versions of the same owner and target kind the user reads (any year)."""
    return (scope.schemes_readable(user).filter(owner_id=scheme.owner_id, target_kind=scheme.target_kind)
            .exclude(pk=scheme.pk).order_by("-year", "-version"))


def default_base(user: Any, scheme: Scheme) -> Scheme | None:
    """What a scheme is compared with by default: the one it was copied from, else the version before."""
    others = versions_to_compare(user, scheme)
    if scheme.copied_from_id:
        found = others.filter(pk=scheme.copied_from_id).first()
        if found:
            return found
    return others.filter(Q(year__lt=scheme.year) | Q(year=scheme.year, version__lt=scheme.version)).first()


# ---- plans and periods -------------------------------------------------------------------------

def plans(user: Any) -> QuerySet[Plan]:
    return scope.assessment_runs(user, Plan).select_related("scheme", "owner").order_by("-year", "org_path")


KIND_ORDER = [PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.HALF, PeriodKind.YEAR]


def plan_periods(plan: Plan) -> list[tuple[str, str, list[Period]]]:
    """The plan's periods grouped: monthly self-checks, quarters, halves, the year."""
    grouped: dict[str, list[Period]] = defaultdict(list)
    for p in plan.periods.order_by("starts_on", "key"):
        grouped[p.kind].append(p)
    labels = dict(PeriodKind.choices)
    return [(str(k), str(labels[k]), grouped[k]) for k in KIND_ORDER if grouped.get(k)]


def steps(period: Period) -> list[PeriodStep]:
    """The period's moves, each with the labels of its two states."""
    labels = dict(PeriodStatus.choices)
    out = list(period.steps.order_by("at", "id"))
    for s in out:
        s.from_label = labels.get(s.from_status, s.from_status)  # type: ignore[attr-defined]
        s.to_label = labels.get(s.to_status, s.to_status)  # type: ignore[attr-defined]
    return out


def panel(period: Period) -> list[PanelMember]:
    return list(PanelMember.objects.filter(period=period).select_related("user").order_by("-is_lead", "user__username"))


def current_periods(period_qs: QuerySet[Period], today: dt.date | None = None) -> QuerySet[Period]:
    """Periods running now: today falls inside them, or they are being scored or reviewed."""
    today = today or clock.today()
    return period_qs.filter(Q(starts_on__lte=today, ends_on__gte=today) | Q(status__in=[
        PeriodStatus.SCORING, PeriodStatus.REVIEW])).exclude(status=PeriodStatus.PUBLISHED)


# ---- a period's units or members and their sheets ----------------------------------------------

def is_member_period(period: Period) -> bool:
    return period.scheme.target_kind == TargetKind.MEMBER


def plan_branches(user: Any, plan: Plan) -> QuerySet[Unit]:
    """The branches a plan assesses that the user reads, in tree order."""
    return scope.units(user).filter(path__startswith=plan.org_path, kind__in=ASSESSED_KINDS,
                                    dissolved_on__isnull=True).order_by("path")


def period_units(user: Any, period: Period, status: str = "") -> QuerySet[Unit]:
    """The units the period assesses that the user reads, optionally by the state of their sheets."""
    qs = scope.units(user).filter(path__startswith=period.org_path, kind__in=ASSESSED_KINDS,
                                  dissolved_on__isnull=True).order_by("path")
    if status in STATUS_FILTERS:
        qs = qs.filter(_status_q(period, status, "unit"))
    return qs


def period_members(user: Any, period: Period, status: str = "") -> QuerySet[Member]:
    qs = (scope.members(user).filter(org_path__startswith=period.org_path, status__in=PARTY_MEMBER_STATUSES,
                                     state=MemberState.ACTIVE)
          .select_related("unit").order_by("org_path", "name_pinyin", "pk"))
    if status in STATUS_FILTERS:
        qs = qs.filter(_status_q(period, status, "member"))
    return qs


def _status_q(period: Period, status: str, by: str) -> Q:
    kind, state = status.split("_", 1)
    sheets = Sheet.objects.filter(period=period, kind=kind)
    if by == "unit":
        sheets = sheets.filter(unit=OuterRef("pk"), member__isnull=True)
    else:
        sheets = sheets.filter(member=OuterRef("pk"))
    if state == "none":
        return ~Q(Exists(sheets))
    if state == "draft":
        return Q(Exists(sheets.filter(status=SheetStatus.DRAFT)))
    return Q(Exists(sheets)) & ~Q(Exists(sheets.filter(status=SheetStatus.DRAFT)))


@dataclass
class SheetState:
    pk: int
    kind: str
    status: str
    assessor_id: int | None
    assessor_name: str


@dataclass
class Row:
    """One unit (or member) on a period page: its self sheet and its assessor sheets."""

    unit: Unit
    member: Member | None = None
    own: SheetState | None = None
    assessor: list[SheetState] = field(default_factory=list)
    may_self: bool = False
    may_assess: bool = False
    mine: SheetState | None = None  # the assessor sheet the user scores on, if any


def period_rows(user: Any, period: Period, subjects: list[Any], panel_ids: list[int]) -> list[Row]:
    """Rows for one page of units or members: one query for all their sheets (two for units: the
    user's rights on them)."""
    member_mode = is_member_period(period)
    sheets = Sheet.objects.filter(period=period).select_related("assessor").only(
        "pk", "kind", "status", "unit_id", "member_id", "assessor_id", "assessor__username",
        "assessor__display_name")
    if member_mode:
        sheets = sheets.filter(member_id__in=[m.pk for m in subjects])
    else:
        sheets = sheets.filter(unit_id__in=[u.pk for u in subjects], member__isnull=True)
    by_subject: dict[int, list[Sheet]] = defaultdict(list)
    for s in sheets:
        by_subject[int(s.member_id if member_mode else s.unit_id)].append(s)  # type: ignore[arg-type]
    if member_mode:
        rights = {m.pk: (scope.get_scope(user).self_member_id == m.pk, scope.can_assess_member(user, m))
                  for m in subjects}
    else:
        rights = scope.assessment_unit_rights(user, subjects)
    uid = getattr(user, "pk", None)
    rows = []
    for subject in subjects:
        row = Row(unit=subject.unit if member_mode else subject, member=subject if member_mode else None)
        row.may_self, row.may_assess = rights.get(subject.pk, (False, False))
        for s in by_subject.get(subject.pk, []):
            state = SheetState(s.pk, s.kind, s.status, s.assessor_id,
                               str(s.assessor) if s.assessor_id else "")
            if s.kind == SheetKind.SELF:
                row.own = state
            else:
                row.assessor.append(state)
                if (s.assessor_id is None and not panel_ids) or (s.assessor_id == uid and uid in panel_ids):
                    row.mine = state
        row.assessor.sort(key=lambda st: (st.assessor_id not in panel_ids, st.assessor_name))
        rows.append(row)
    return rows


@dataclass
class Progress:
    total: int = 0
    self_submitted: int = 0
    assessor_started: int = 0
    assessor_submitted: int = 0

    def pct(self, n: int) -> int:
        return round(100 * n / self.total) if self.total else 0

    @property
    def self_pct(self) -> int:
        return self.pct(self.self_submitted)

    @property
    def assessor_pct(self) -> int:
        return self.pct(self.assessor_submitted)


def progress(periods: list[Period], user: Any) -> dict[int, Progress]:
    """How many units (members) of each period the user reads have self-checked, are being
    assessed and were assessed: one grouped query over the sheets, one count per plan owner."""
    if not periods:
        return {}
    out = {p.pk: Progress() for p in periods}
    rows = (Sheet.objects.filter(period__in=periods).values("period_id", "kind", "status")
            .annotate(n=Count("unit_id", distinct=True), m=Count("member_id", distinct=True)).order_by())
    member_periods = {p.pk for p in periods if p.scheme.target_kind == TargetKind.MEMBER}
    for r in rows:
        n = r["m"] if r["period_id"] in member_periods else r["n"]
        prog = out[r["period_id"]]
        if r["kind"] == SheetKind.SELF and r["status"] == SheetStatus.SUBMITTED:
            prog.self_submitted += n
        elif r["kind"] == SheetKind.ASSESSOR:
            if r["status"] == SheetStatus.SUBMITTED:
                prog.assessor_submitted += n
            else:
                prog.assessor_started += n
    totals: dict[tuple[str, bool], int] = {}
    for p in periods:
        member_mode = p.pk in member_periods
        key = (p.org_path, member_mode)
        if key not in totals:
            if member_mode:
                totals[key] = scope.members(user).filter(org_path__startswith=p.org_path, state=MemberState.ACTIVE,
                                                         status__in=PARTY_MEMBER_STATUSES).count()
            else:
                totals[key] = scope.units(user).filter(path__startswith=p.org_path, kind__in=ASSESSED_KINDS,
                                                       dissolved_on__isnull=True).count()
        out[p.pk].total = totals[key]
    for prog in out.values():  # a panel's several sheets per unit never count a unit twice
        prog.assessor_submitted = min(prog.assessor_submitted, prog.total)
        prog.assessor_started = min(prog.assessor_started, max(0, prog.total - prog.assessor_submitted))
    return out


# ---- home ----------------------------------------------------------------------------------------

def is_manager(user: Any) -> bool:
    return bool(scope.paths_for(user, scope.ASSESS_MANAGE_ROLES))


def manager_home(user: Any) -> dict[str, Any]:
    schemes = list(scheme_list(user).filter(
        scope._prefix_q("org_path", scope.paths_for(user, scope.ASSESS_MANAGE_ROLES)))[:HOME_LIMIT])
    current = list(current_periods(scope.assessment_runs(user, Period).filter(
        scope._prefix_q("org_path", scope.paths_for(user, scope.ASSESS_MANAGE_ROLES))))
        .exclude(kind=PeriodKind.HALF).select_related("scheme", "plan__owner")
        .order_by("-starts_on", "kind")[:HOME_LIMIT])
    return {"schemes": schemes, "current": current, "progress": progress(current, user)}


def branch_home(user: Any) -> dict[str, Any]:
    """The branches the user self-checks, their open sheets and the latest published period."""
    units = list(scope.assessment_self_units(user).order_by("path")[:HOME_LIMIT])
    if not units:
        return {"self_units": []}
    today = clock.today()
    # the half-year analysis is filed by each branch in the weeks after the half ends (22.7)
    half_due = Q(kind=PeriodKind.HALF, ends_on__lt=today, ends_on__gte=today - dt.timedelta(days=HALF_FILING_DAYS))
    runs = scope.assessment_runs(user, Period)
    periods = list(runs.filter(Q(pk__in=current_periods(runs).values("pk")) | half_due)
                   .filter(scheme__target_kind=TargetKind.BRANCH, status__in=[PeriodStatus.OPEN, PeriodStatus.SCORING])
                   .select_related("scheme", "plan__owner")
                   .order_by("ends_on", "kind")[:HOME_LIMIT])
    periods = [p for p in periods if any(u.path.startswith(p.org_path) for u in units)]
    sheets = {(s.period_id, s.unit_id): s for s in Sheet.objects.filter(
        period__in=periods, unit__in=units, kind=SheetKind.SELF, member__isnull=True)}
    due = [(p, u, sheets.get((p.pk, u.pk))) for p in periods for u in units if u.path.startswith(p.org_path)]
    latest = (scope.assessment_runs(user, Period).filter(status=PeriodStatus.PUBLISHED,
                                                         scheme__target_kind=TargetKind.BRANCH)
              .exclude(kind=PeriodKind.MONTH).select_related("scheme").order_by("-ends_on", "-kind").first())
    return {"self_units": units, "due": due, "latest": latest}


def results_links(user: Any, plans_cap: int = 4) -> list[tuple[Period, bool]]:
    """The newest period with results of each plan the user reads (at most `plans_cap` plans), and
    whether they read it whole (the bulletin is theirs): the home's way to the ranking, the board,
    the bulletin and the stars (issue 20.6). One query."""
    periods = (scope.assessment_runs(user, Period).filter(computed_at__isnull=False).exclude(kind=PeriodKind.MONTH)
               .select_related("scheme", "plan").order_by("-ends_on", "-kind", "-pk")[:HOME_LIMIT * 4])
    out: list[tuple[Period, bool]] = []
    seen: set[int] = set()
    for p in periods:
        if p.plan_id in seen or not (p.status == PeriodStatus.PUBLISHED or scope.can_see_unpublished_results(user, p)):
            continue
        seen.add(p.plan_id)
        out.append((p, scope.assessment_reads_whole(user, p.org_path)))
        if len(out) >= plans_cap:
            break
    return out


def member_home(user: Any) -> dict[str, Any]:
    """A member's own points sheets (党员量化积分) of the running member schemes."""
    member_id = scope.get_scope(user).self_member_id
    if not member_id:
        return {"member_periods": []}
    periods = list(current_periods(scope.assessment_runs(user, Period))
                   .filter(scheme__target_kind=TargetKind.MEMBER).exclude(kind=PeriodKind.HALF)
                   .select_related("scheme").order_by("ends_on", "kind")[:HOME_LIMIT])
    sheets = {s.period_id: s for s in Sheet.objects.filter(period__in=periods, member_id=member_id,
                                                          kind=SheetKind.SELF)}
    return {"member_periods": [(p, sheets.get(p.pk)) for p in periods], "member_id": member_id}


# ---- a sheet ------------------------------------------------------------------------------------

def sheet_or_404(user: Any, pk: int | str) -> Sheet:
    sheet: Sheet = scope.assessment_record_or_404(user, Sheet, pk)
    return (Sheet.objects.select_related("period__scheme", "period__plan__owner", "unit", "member", "assessor")
            .get(pk=sheet.pk))


@dataclass
class SheetRow:
    item: SchemeItem
    score: Score | None
    other: Score | None = None  # the self-score beside an assessor's (or the assessors' beside a self-check)
    differs: bool = False

    @property
    def points(self) -> Decimal | None:
        return self.score.points if self.score else None


@dataclass
class SheetBlock:
    category: SchemeCategory
    rows: list[SheetRow] = field(default_factory=list)

    @property
    def maximum(self) -> Decimal:
        return sum((r.item.max_points for r in self.rows if r.item.kind in SCORED_KINDS), Decimal(0))

    @property
    def subtotal(self) -> Decimal:
        return sum((r.score.points for r in self.rows if r.score), Decimal(0))

    @property
    def scored(self) -> int:
        return sum(1 for r in self.rows if r.score)


def self_sheet_for(sheet: Sheet) -> Sheet | None:
    """The self-check beside an assessor's sheet: the same unit (member) in the same period."""
    if sheet.kind == SheetKind.SELF:
        return None
    lookup: dict[str, Any] = {"period_id": sheet.period_id, "kind": SheetKind.SELF}
    lookup.update({"member_id": sheet.member_id} if sheet.member_id else {"unit_id": sheet.unit_id,
                                                                            "member__isnull": True})
    return Sheet.objects.filter(**lookup).first()


def sheet_blocks(sheet: Sheet, beside: Sheet | None = None,
                 items: list[SchemeItem] | None = None) -> list[SheetBlock]:
    """The sheet's items grouped by category with their scores (and the self-scores beside)."""
    items = items if items is not None else services.sheet_items(sheet.period)
    scores = {s.item_id: s for s in Score.objects.filter(sheet=sheet).select_related("updated_by")}
    others = {s.item_id: s for s in Score.objects.filter(sheet=beside)} if beside else {}
    blocks: dict[int, SheetBlock] = {}
    for item in items:
        block = blocks.get(item.category_id)
        if block is None:
            block = blocks[item.category_id] = SheetBlock(item.category)
        score, other = scores.get(item.pk), others.get(item.pk)
        differs = bool(score and other and (score.points != other.points or score.vetoed != other.vetoed))
        block.rows.append(SheetRow(item, score, other, differs))
    return list(blocks.values())


def row_for(sheet: Sheet, item: SchemeItem, beside: Sheet | None = None) -> SheetRow:
    score = Score.objects.filter(sheet=sheet, item=item).select_related("updated_by").first()
    other = Score.objects.filter(sheet=beside, item=item).first() if beside else None
    differs = bool(score and other and (score.points != other.points or score.vetoed != other.vetoed))
    return SheetRow(item, score, other, differs)


def sheet_totals(sheet: Sheet, items: list[SchemeItem]) -> dict[str, Any]:
    """The sheet's running total (before vetoes and caps: the results apply those), how many
    items are scored, and the vetoes ticked."""
    ids = {i.pk for i in items}
    rows = list(Score.objects.filter(sheet=sheet).values_list("item_id", "points", "vetoed"))
    rows = [r for r in rows if r[0] in ids]
    needed = sum(1 for i in items if i.kind in SCORED_KINDS)
    scored_ids = {r[0] for r in rows}
    done = sum(1 for i in items if i.kind in SCORED_KINDS and i.pk in scored_ids)
    return {"total": sum((r[1] for r in rows), Decimal(0)), "done": done, "needed": needed,
            "vetoes": sum(1 for r in rows if r[2]),
            "pct": round(100 * done / needed) if needed else 100}


def item_lookup(codes: list[str]) -> dict[str, tuple[str, str]]:
    """code → (title, link) of the assessment items named by code, from the newest published branch
    scheme holding each: the seam the documents capability uses to show which items a document
    serves (documents.selectors.assessment_items). One query."""
    from django.urls import reverse

    from pbqms.assessment.models import SchemeStatus, TargetKind

    found: dict[str, tuple[str, str]] = {}
    rows = (SchemeItem.objects.filter(code__in=list(codes), scheme__status=SchemeStatus.PUBLISHED,
                                      scheme__target_kind=TargetKind.BRANCH)
            .order_by("-scheme__year", "-scheme__version").values_list("code", "title", "scheme_id"))
    for code, title, scheme_id in rows:
        found.setdefault(code, (title, reverse("assessment:scheme", args=[scheme_id])))
    return found


# ---- the home page's work list ------------------------------------------------------------------

WORK_SOON_DAYS = 31  # a self-check closing within a month is due soon


def work_items(user: Any) -> list[Any]:
    """Home-page lines (core.work): a branch's self-checks not yet submitted in the running periods,
    a scorer's periods being scored (branches scored of those assessed, from the stored unit
    totals) or awaiting publication, a member's own points sheet; one query each."""
    from django.db.models import IntegerField, Subquery
    from django.db.models.functions import Coalesce
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from pbqms.core.work import OVERDUE, SOON, TODO, WorkItem
    from pbqms.orgs import tally
    from pbqms.orgs.models import UnitTally

    today = clock.today()
    out: list[WorkItem] = []

    def urgency(ends_on: dt.date) -> str:
        if ends_on < today:
            return OVERDUE
        return SOON if (ends_on - today).days <= WORK_SOON_DAYS else TODO

    s = scope.get_scope(user)
    self_paths = [p for p in scope.paths_for(user, scope.ASSESS_SELF_ROLES) if p][:1]  # a branch's secretary
    score_paths = scope.paths_for(user, scope.ASSESS_SCORE_ROLES)
    member_id = s.self_member_id
    if not (self_paths or score_paths or member_id):
        return out
    # one query: the running periods the user self-checks, scores or collects points in, each with
    # the user's own sheets and how many branches were scored of those assessed (stored unit totals)
    uid = tally.unit_id_of(self_paths[0]) if self_paths else 0
    own = Sheet.objects.filter(period=OuterRef("pk"), unit_id=uid, kind=SheetKind.SELF, member__isnull=True)
    mine = Sheet.objects.filter(period=OuterRef("pk"), member_id=member_id or 0, kind=SheetKind.SELF)
    scored = (Sheet.objects.filter(period=OuterRef("pk"), kind=SheetKind.ASSESSOR, status=SheetStatus.SUBMITTED,
                                   member__isnull=True).order_by().values("period")
              .annotate(n=Count("unit_id", distinct=True)).values("n")[:1])

    def units_of(kind: str) -> Coalesce:
        return Coalesce(Subquery(UnitTally.objects.filter(unit_id=OuterRef("plan__owner_id"), key=f"{tally.UNIT}{kind}")
                                 .values("n")[:1]), 0)

    running = Q(starts_on__lte=today, ends_on__gte=today) | Q(status__in=[PeriodStatus.SCORING, PeriodStatus.REVIEW])
    wanted = Q(pk__in=[])
    if self_paths:
        wanted |= Q(scheme__target_kind=TargetKind.BRANCH, org_path__in=scope._path_prefixes(self_paths[0]),
                    status__in=[PeriodStatus.OPEN, PeriodStatus.SCORING])
    if member_id:
        wanted |= Q(scheme__target_kind=TargetKind.MEMBER, status=PeriodStatus.OPEN)
    if score_paths:
        wanted |= scope._prefix_q("org_path", score_paths) & Q(scheme__target_kind=TargetKind.BRANCH, status__in=[
            PeriodStatus.SCORING, PeriodStatus.REVIEW])
    periods = list(scope.assessment_runs(user, Period).filter(running, wanted).exclude(kind=PeriodKind.HALF)
                   .exclude(status=PeriodStatus.PUBLISHED).select_related("scheme")
                   .annotate(own_pk=Subquery(own.values("pk")[:1]), own_status=Subquery(own.values("status")[:1]),
                             mine_pk=Subquery(mine.values("pk")[:1]), mine_status=Subquery(mine.values("status")[:1]),
                             unit_code=Subquery(Unit.objects.filter(pk=uid).values("code")[:1]),
                             scored=Coalesce(Subquery(scored, output_field=IntegerField()), 0),
                             assessed=units_of(UnitKind.BRANCH) + units_of(UnitKind.GENERAL_BRANCH))
                   .order_by("ends_on", "kind", "pk")[:3 * HOME_LIMIT])
    points: list[Any] = []
    for p in periods:
        branch_kind = p.scheme.target_kind == TargetKind.BRANCH
        if branch_kind and self_paths and p.org_path in scope._path_prefixes(self_paths[0]) and p.unit_code \
                and p.status in (PeriodStatus.OPEN, PeriodStatus.SCORING) and p.own_status != SheetStatus.SUBMITTED:
            what = _("%(period)s: self-check not started, closes on %(date)s") if p.own_pk is None else \
                _("%(period)s: self-check begun but not submitted, closes on %(date)s")
            url = reverse("assessment:sheet", args=[p.own_pk]) if p.own_pk else \
                reverse("assessment:open_self", args=[p.pk, p.unit_code])
            out.append(WorkItem("assess.self", what % {"period": str(p), "date": p.ends_on.isoformat()},
                                url, urgency(p.ends_on)))
        if branch_kind and score_paths and scope._covers(score_paths, p.org_path):
            if p.status == PeriodStatus.REVIEW:
                out.append(WorkItem("assess.review", _("%(period)s: results under review, waiting to be published")
                                    % {"period": str(p)}, reverse("assessment:ranking", args=[p.pk]), TODO))
            elif p.status == PeriodStatus.SCORING and (left := max(0, p.assessed - p.scored)):
                out.append(WorkItem("assess.score", _("%(period)s: %(left)d of %(total)d branches still to score")
                                    % {"period": str(p), "left": left, "total": p.assessed},
                                    reverse("assessment:period", args=[p.pk]), urgency(p.ends_on), left))
        if not branch_kind and member_id and p.status == PeriodStatus.OPEN and p.mine_status != SheetStatus.SUBMITTED:
            points.append(p)
    if points:
        p = points[0]
        url = reverse("assessment:sheet", args=[p.mine_pk]) if p.mine_pk else \
            reverse("assessment:open_member_self", args=[p.pk, member_id])
        out.append(WorkItem("assess.points", ngettext(
            "%(n)d points self-assessment open, the first closes on %(date)s",
            "%(n)d points self-assessments open, the first closes on %(date)s", len(points))
            % {"n": len(points), "date": p.ends_on.isoformat()}, url, urgency(p.ends_on), len(points)))
    return out
