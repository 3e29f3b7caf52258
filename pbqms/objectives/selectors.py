"""Scoped reads for objectives — 目标查询: every read starts from a pbqms.scope function and costs
a fixed number of queries whatever the tree's size (lists are paged, trees capped)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from pbqms import scope
from pbqms.members.models import PartyStatus
from pbqms.orgs import tally
from pbqms.orgs.models import Unit, UnitKind

from . import rollup
from .models import (
    MemberTarget,
    Objective,
    ReviewState,
    Target,
    TargetPart,
    TargetStatus,
    ValueKind,
)

CASCADE_CAP = 600  # targets drawn in one objective's cascade tree
GAP_CAP = 60  # gaps listed by name (all are counted)
CHILD_CAP = 300  # child rows on a dashboard


def current_year() -> int:
    return dt.date.today().year


def parse_year(raw: Any) -> int:
    try:
        y = int(raw)
    except (TypeError, ValueError):
        return current_year()
    return y if 2000 <= y <= 2100 else current_year()


# ---- objectives ----------------------------------------------------------------------------------

def objective_list(user: Any, *, year: int | None = None, unit: Unit | None = None, q: str = "") -> QuerySet[Objective]:
    qs = scope.objectives(user).select_related("unit")
    if year:
        qs = qs.filter(year=year)
    if unit is not None:
        qs = qs.filter(Q(org_path__startswith=unit.path) | Q(org_path__in=_prefixes(unit.path)))
    if q := q.strip():
        qs = qs.filter(Q(title__icontains=q) | Q(indicator__icontains=q))
    return qs.order_by("-year", "org_path", "number", "id")


def _prefixes(path: str) -> list[str]:
    step = len(path.split("/")[0]) + 1 if path else 11
    return [path[:i] for i in range(step, len(path) + 1, step)]


@dataclass
class Node:
    """One target in an objective's cascade, with how its children cover it."""

    target: Target | None  # None for the objective itself
    unit: Unit
    children: list[Node] = field(default_factory=list)
    child_units: int = 0  # units directly below that should carry a share
    covered_units: int = 0
    children_sum: Decimal | None = None  # Σ of the children's values (number kinds)

    @property
    def gaps(self) -> int:
        return max(0, self.child_units - self.covered_units)

    @property
    def coverage(self) -> int:
        return round(100 * self.covered_units / self.child_units) if self.child_units else 100


@dataclass
class Cascade:
    root: Node
    total: int
    capped: bool
    gaps: list[Unit]
    gap_count: int
    by_status: dict[str, int]


def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def cascade(user: Any, objective: Objective) -> Cascade:
    """The objective's targets as a tree (inside the user's scope), each node with the share of its
    child units covered by a child target, and the branches with no target at all (gaps). 5 queries."""
    targets = list(scope.objective_targets(user).filter(objective=objective).select_related("unit", "member")
                   .order_by("org_path", "id")[:CASCADE_CAP + 1])
    capped = len(targets) > CASCADE_CAP
    targets = targets[:CASCADE_CAP]
    root = Node(target=None, unit=objective.unit)
    nodes = {t.pk: Node(target=t, unit=t.unit) for t in targets}
    for t in targets:
        parent = nodes.get(t.parent_id) if t.parent_id else root
        (parent or root).children.append(nodes[t.pk])
    parent_units = {objective.unit_id} | {t.unit_id for t in targets if t.member_id is None}
    below: dict[int, list[Unit]] = {}
    for u in (scope.units(user).filter(parent_id__in=parent_units, dissolved_on__isnull=True)
              .exclude(kind=UnitKind.GROUP).order_by("order", "code")):
        below.setdefault(u.parent_id or 0, []).append(u)
    numeric = objective.value_kind in (ValueKind.NUMBER, ValueKind.PERCENT)
    for node in [root, *nodes.values()]:
        if node.target is not None and node.target.member_id is not None:
            continue
        units = below.get(node.unit.pk, [])
        node.child_units = len(units)
        node.covered_units = sum(1 for u in units if any(c.unit.path.startswith(u.path) for c in node.children))
        if numeric and node.children and objective.value_kind == ValueKind.NUMBER:
            values = [_number(c.target.target_value) for c in node.children if c.target is not None
                      and c.target.value_kind == ValueKind.NUMBER]
            node.children_sum = sum((v for v in values if v is not None), Decimal(0)) if values else None
    have_target = Target.objects.filter(objective=objective, unit=OuterRef("pk"))
    gap_qs = (scope.units(user).filter(path__startswith=objective.org_path, kind=UnitKind.BRANCH,
                                       dissolved_on__isnull=True).filter(~Exists(have_target)))
    gaps = list(gap_qs.order_by("path")[:GAP_CAP])
    gap_count = len(gaps) if len(gaps) < GAP_CAP else gap_qs.count()
    by_status = {s: 0 for s in TargetStatus.values}
    for t in targets:
        by_status[t.status] += 1
    return Cascade(root=root, total=len(targets), capped=capped, gaps=gaps, gap_count=gap_count,
                   by_status=by_status)


# ---- unit targets --------------------------------------------------------------------------------

def unit_targets(user: Any, unit: Unit, year: int) -> QuerySet[Target]:
    return (scope.objective_targets(user).filter(unit=unit, year=year).select_related("objective", "member", "parent")
            .order_by("objective__number", "objective_id", "id"))


def objectives_for_unit(user: Any, unit: Unit, year: int) -> list[Objective]:
    """Objectives a target on `unit` may decompose: those of committees at or above it."""
    return list(scope.objectives(user).filter(year=year, org_path__in=_prefixes(unit.path))
                .select_related("unit").order_by("org_path", "number"))


def parent_choices(user: Any, unit: Unit, year: int) -> list[Target]:
    """Targets above `unit` (on its ancestors) that a target on it may decompose."""
    return list(scope.objective_targets(user).filter(year=year, org_path__in=_prefixes(unit.path)[:-1],
                                                     member__isnull=True)
                .select_related("objective", "unit").order_by("objective__number", "org_path"))


# ---- member targets ------------------------------------------------------------------------------

def member_targets_of(user: Any, member_id: int, year: int) -> list[MemberTarget]:
    return list(scope.member_targets(user).filter(member_id=member_id, year=year).select_related("reviewed_by")
                .order_by("part", "category", "id"))


def review_queue(user: Any, unit: Unit, year: int) -> QuerySet[MemberTarget]:
    """Proposed individual targets of the unit's members, oldest first."""
    return (scope.member_targets(user).filter(org_path__startswith=unit.path, year=year, part=TargetPart.INDIVIDUAL,
                                              state=ReviewState.PROPOSED)
            .select_related("member").order_by("created_at", "id"))


def branch_member_targets(user: Any, unit: Unit, year: int, *, state: str = "",
                          part: str = "") -> QuerySet[MemberTarget]:
    qs = scope.member_targets(user).filter(org_path__startswith=unit.path, year=year).select_related("member")
    if state in ReviewState.values:
        qs = qs.filter(state=state)
    if part in TargetPart.values:
        qs = qs.filter(part=part)
    return qs.order_by("member__name_pinyin", "member_id", "part", "category", "id")


# ---- letters -------------------------------------------------------------------------------------

def letter_list(user: Any, *, year: int | None = None, unit: Unit | None = None, state: str = "") -> QuerySet[Any]:
    qs = scope.responsibility_letters(user).select_related("unit")
    if year:
        qs = qs.filter(year=year)
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-year", "org_path", "-version")


# ---- the dashboard -------------------------------------------------------------------------------

@dataclass
class Row:
    unit: Unit
    counts: dict[str, int]
    party_members: int

    def _n(self, key: str) -> int:
        return self.counts.get(key, 0)

    @cached_property
    def targets(self) -> int:
        return sum(self._n(rollup.TARGET + s) for s in TargetStatus.values)

    @cached_property
    def statuses(self) -> list[tuple[str, str, int]]:
        return [(s, str(TargetStatus(s).label), self._n(rollup.TARGET + s)) for s in TargetStatus.values]

    @cached_property
    def segments(self) -> list[dict[str, Any]]:
        """The stacked bar: each status's share of the targets, as SVG x/width strings."""
        total = self.targets
        out, x = [], 0.0
        for s, label, n in self.statuses:
            w = 100.0 * n / total if total else 0.0
            out.append({"status": s, "label": label, "n": n, "x": f"{x:.2f}", "w": f"{w:.2f}"})
            x += w
        return out

    @cached_property
    def proposed(self) -> int:
        return self._n(rollup.MEMBER_TARGET + ReviewState.PROPOSED)

    @cached_property
    def approved(self) -> int:
        return self._n(rollup.MEMBER_TARGET + ReviewState.APPROVED)

    @cached_property
    def returned(self) -> int:
        return self._n(rollup.MEMBER_TARGET + ReviewState.RETURNED)

    @cached_property
    def members_ok(self) -> int:
        return self._n(rollup.MEMBERS_OK)

    @cached_property
    def members_missing(self) -> int:
        return max(0, self.party_members - self.members_ok)

    @cached_property
    def achieved_share(self) -> int:
        return round(100 * self._n(rollup.TARGET + TargetStatus.ACHIEVED) / self.targets) if self.targets else 0


def dashboard(user: Any, unit: Unit, year: int) -> tuple[Row, list[Row], bool]:
    """The unit's rolled-up counts and its child units' (read from the stored totals: 3 queries)."""
    children = list(scope.units(user).filter(parent=unit, dissolved_on__isnull=True).exclude(kind=UnitKind.GROUP)
                    .order_by("order", "code")[:CHILD_CAP + 1])
    more = len(children) > CHILD_CAP
    children = children[:CHILD_CAP]
    ids = [unit.pk] + [c.pk for c in children]
    counts = rollup.read([unit, *children], year)
    people = tally.read(ids, tally.PERSON)
    party = {uid: people.get(uid, {}).get(PartyStatus.FULL, 0) + people.get(uid, {}).get(PartyStatus.PROBATIONARY, 0)
             for uid in ids}
    top = Row(unit, counts.get(unit.pk, {}), party[unit.pk])
    return top, [Row(c, counts.get(c.pk, {}), party[c.pk]) for c in children], more


# ---- the home page's work list -------------------------------------------------------------------

def work_items(user: Any) -> list[Any]:
    """Home-page lines (core.work): a branch's member targets awaiting approval (one query), the
    responsibility letters waiting for the user's signature and a member's own targets sent back
    for changes (one query together)."""
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from pbqms.accounts.models import Role
    from pbqms.core.work import SOON, TODO, WorkItem, capped_counts

    from .models import LetterState, ResponsibilityLetter

    year = current_year()
    s = scope.get_scope(user)
    out: list[WorkItem] = []
    branch_paths = [p for p in scope.paths_for(user, {Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE}) if p]
    if branch_paths:
        codes = list(scope.member_targets(user).filter(
            scope._prefix_q("org_path", tuple(branch_paths)), year=year, part=TargetPart.INDIVIDUAL,
            state=ReviewState.PROPOSED).exclude(member_id=s.self_member_id or 0)
            .order_by("org_path", "pk").values_list("unit__code", flat=True)[:100])
        if codes:
            out.append(WorkItem("obj.review", ngettext(
                "%(n)d member target awaits your approval", "%(n)d member targets await your approval",
                len(codes)) % {"n": len(codes)},
                reverse("objectives:member_targets", args=[codes[0]]) + "?" + urlencode(
                    {"state": ReviewState.PROPOSED}), SOON, len(codes)))
    asks: dict[str, QuerySet[Any]] = {}
    letters = ResponsibilityLetter.objects.filter(state=LetterState.DRAFT)
    if committee := [p for p in scope.paths_for(user, {Role.COMMITTEE_SECRETARY}) if p]:
        asks["committee"] = letters.filter(scope._prefix_q("org_path", tuple(committee)),
                                           committee_signed_at__isnull=True)
    if branch := [p for p in scope.paths_for(user, {Role.BRANCH_SECRETARY}) if p]:
        asks["branch"] = letters.filter(org_path__in=branch, branch_signed_at__isnull=True)
    if s.self_member_id:
        asks["returned"] = MemberTarget.objects.filter(member_id=s.self_member_id, year=year,
                                                       state=ReviewState.RETURNED)
        asks["mine"] = MemberTarget.objects.filter(member_id=s.self_member_id, year=year)
    counted = capped_counts(asks)
    to_sign = counted.get("committee", (0, False))[0] + counted.get("branch", (0, False))[0]
    if to_sign:
        out.append(WorkItem("obj.sign", ngettext(
            "%(n)d responsibility letter awaits your signature", "%(n)d responsibility letters await your signature",
            to_sign) % {"n": to_sign}, reverse("objectives:letters") + "?" + urlencode(
                {"year": str(year), "state": str(LetterState.DRAFT)}), TODO, to_sign))
    if n := counted.get("returned", (0, False))[0]:
        out.append(WorkItem("obj.returned", ngettext(
            "%(n)d of your targets was sent back for changes", "%(n)d of your targets were sent back for changes",
            n) % {"n": n}, reverse("objectives:mine"), SOON, n))
    if "mine" in counted:
        n = counted["mine"][0]
        out.append(WorkItem("obj.mine", ngettext(
            "Your targets for %(year)d: %(n)d", "Your targets for %(year)d: %(n)d", n) % {"year": year, "n": n}
            if n else _("You have no targets for %(year)d yet: propose yours") % {"year": year},
            reverse("objectives:mine"), TODO, n))
    return out


# ---- for other capabilities (assessment reads these; objectives never imports assessment) --------

LETTER_CAP = 200


def letter_targets(user: Any, unit: Unit, year: int, objective_ids: Any = None) -> list[Target]:
    """A branch's own targets of the year — the rows of its responsibility letter — that the user
    reads, optionally only those decomposing the given objectives (one query, capped)."""
    qs = unit_targets(user, unit, year).filter(member__isnull=True)
    if objective_ids is not None:
        qs = qs.filter(objective_id__in=list(objective_ids))
    return list(qs[:LETTER_CAP])
