"""Scheme items and the responsibility letters' targets — 考核评价对照责任目标 (issue 22.4).

Seed 001's 五不放过 begins "考核评价没有对照责任目标不放过": an item names the objectives (目标)
of the issuing committee it measures; each branch's letter holds its own targets decomposing those
objectives, so a deduction on the item shows the branch's target it falls short of, and the
scorecard shows the branch's letter targets beside its scores. Reads of the objectives go through
pbqms.objectives.selectors (objectives never imports assessment). Linking does not change how an
item is scored, so it is allowed on a published scheme too (letters are signed after the scheme is
published); every change is audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment.models import Scheme, SchemeItem
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.objectives import selectors as objectives
from pbqms.orgs.models import Unit


def objective_choices(user: Any, scheme: Scheme) -> list[Any]:
    """Objectives an item of `scheme` may measure: those of the issuing committee (and above) for the year."""
    return objectives.objectives_for_unit(user, scheme.owner, scheme.year)


@transaction.atomic
def set_item_objectives(actor: Any, item: SchemeItem, objective_ids: list[int]) -> list[int]:
    """Name the objectives (letter targets) the item measures; returns their ids."""
    scheme = item.scheme
    if not scope.can_manage_assessment(actor, scheme.owner):
        raise PermissionDenied
    allowed = {o.pk for o in objective_choices(actor, scheme)}
    ids = sorted({int(i) for i in objective_ids})
    wrong = [i for i in ids if i not in allowed]
    if wrong:
        raise ValidationError({"objectives": _("An item measures only objectives of %(unit)s for %(year)s.")
                               % {"unit": scheme.owner.name, "year": scheme.year}})
    before = sorted(item.objectives.values_list("pk", flat=True))
    if before != ids:
        item.objectives.set(ids)
        record(actor, AuditAction.UPDATE, scheme, {"objectives": [before, ids]}, note=item.code)
    return ids


def item_objectives(item_ids: list[int]) -> dict[int, list[int]]:
    """Item id → the ids of the objectives it measures (one query on the link table)."""
    through = SchemeItem.objectives.through
    out: dict[int, list[int]] = defaultdict(list)
    for item_id, objective_id in through.objects.filter(schemeitem_id__in=item_ids).values_list(
            "schemeitem_id", "objective_id"):
        out[item_id].append(objective_id)
    return out


def targets_by_item(user: Any, unit: Unit, year: int, item_ids: list[int]) -> dict[int, list[Any]]:
    """Item id → the unit's own letter targets the item measures (two queries)."""
    links = item_objectives(item_ids)
    wanted = {o for ids in links.values() for o in ids}
    if not wanted:
        return {}
    by_objective: dict[int, list[Any]] = defaultdict(list)
    for t in objectives.letter_targets(user, unit, year, wanted):
        by_objective[t.objective_id].append(t)
    return {i: [t for o in ids for t in by_objective.get(o, [])] for i, ids in links.items()}


@dataclass
class LetterRow:
    target: Any
    items: list[tuple[Any, Decimal | None]] = field(default_factory=list)  # the items measuring it, points


@dataclass
class ItemRef:
    pk: int
    code: str
    title: str
    max_points: Decimal


@dataclass
class UnitLetter:
    """A unit's letter targets for the year and the scheme's items measuring them."""

    rows: list[LetterRow]
    by_item: dict[int, list[Any]]  # item id → the unit's targets it measures


def unit_letter(user: Any, unit: Unit, year: int, scheme_id: int,
                points: Any = None) -> UnitLetter:
    """Two queries (the scheme's links, the unit's letter targets) and, when items are linked,
    `points(item_ids)` → {item id: the unit's points} for the figures beside each target."""
    links: dict[int, list[int]] = defaultdict(list)
    refs: dict[int, ItemRef] = {}
    through = SchemeItem.objectives.through
    for item_id, objective_id, code, title, mx in through.objects.filter(schemeitem__scheme_id=scheme_id).values_list(
            "schemeitem_id", "objective_id", "schemeitem__code", "schemeitem__title", "schemeitem__max_points"):
        links[item_id].append(objective_id)
        refs[item_id] = ItemRef(item_id, code, title, mx)
    found = objectives.letter_targets(user, unit, year)
    by_objective: dict[int, list[Any]] = defaultdict(list)
    for t in found:
        by_objective[t.objective_id].append(t)
    got = points(list(refs)) if refs and points is not None else {}
    items_of: dict[int, list[ItemRef]] = defaultdict(list)
    for item_id, ids in links.items():
        for o in ids:
            items_of[o].append(refs[item_id])
    rows = [LetterRow(t, [(ref, got.get(ref.pk)) for ref in sorted(items_of.get(t.objective_id, []),
                                                                   key=lambda r: r.code)]) for t in found]
    by_item = {i: [t for o in ids for t in by_objective.get(o, [])] for i, ids in links.items()}
    return UnitLetter(rows, by_item)
