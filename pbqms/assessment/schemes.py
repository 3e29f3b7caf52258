"""Schemes — 考核细则: build, check, publish, copy to next year, compare, and the points arithmetic.

A scheme is written as plain data (the same shape the .xlsx import reads and the fixtures ship)
and stored by `load_scheme`. Publishing checks that the work and interactive items add up to the
full mark; a published scheme is locked and next year's starts as `copy_for_year`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment.models import (
    SCORED_KINDS,
    ItemKind,
    Method,
    QuarterMark,
    Scheme,
    SchemeCategory,
    SchemeItem,
    SchemeStatus,
    StarLevel,
    TargetKind,
    VetoEffect,
)
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock
from pbqms.core.metrics import METRICS
from pbqms.orgs.models import Unit

CENT = Decimal("0.01")
ITEM_FIELDS = ("code", "title", "standard", "max_points", "kind", "method", "deduct_per", "levels", "ratio_floor",
               "ratio_full", "evidence_required", "annual_only", "metric", "veto_effect", "veto_deduction",
               "veto_star_cap")


def dec(value: Any, field: str = "") -> Decimal | None:
    """A decimal from user data, or None for blank; a clear error for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        out = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": value}, code=field or "number")
    if not out.is_finite():
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": value}, code=field or "number")
    return out


# ---- points arithmetic --------------------------------------------------------------------------

def ratio_points(item: SchemeItem, measured: Decimal) -> Decimal:
    """A rate converted to points linearly between the item's floor (0) and full (max) rates."""
    floor, full = item.ratio_floor or Decimal(0), item.ratio_full or Decimal(100)
    if measured <= floor:
        share = Decimal(0)
    elif measured >= full:
        share = Decimal(1)
    else:
        share = (measured - floor) / (full - floor)
    return (item.max_points * share).quantize(CENT, ROUND_HALF_UP)


def level_points(item: SchemeItem, label: str) -> Decimal | None:
    for name, points in item.levels or ():
        if name == label:
            return Decimal(str(points))
    return None


def magnitude(item: SchemeItem, *, occurrences: int | None = None, level: str = "", measured: Decimal | None = None,
              yes: bool | None = None) -> Decimal | None:
    """How much the item's input is worth before its sign: awarded points for work/interactive items,
    points added for a bonus, points taken for a penalty. None when the input does not decide it."""
    if item.method == Method.DEDUCT and occurrences is not None:
        step = (item.deduct_per or Decimal(0)) * occurrences
        if item.kind in SCORED_KINDS:
            return max(Decimal(0), item.max_points - step)  # 扣完为止
        return min(item.max_points, step)
    if item.method == Method.GRADED and level:
        return level_points(item, level)
    if item.method == Method.RATIO and measured is not None:
        return ratio_points(item, measured)
    if item.method == Method.YESNO and yes is not None:
        return item.max_points if yes else Decimal(0)
    return None


def signed(item: SchemeItem, amount: Decimal) -> Decimal:
    """The contribution to the total: a penalty counts negative, a veto item nothing."""
    if item.kind == ItemKind.PENALTY:
        return -amount
    if item.kind == ItemKind.VETO:
        return Decimal(0)
    return amount


def is_deduction(item: SchemeItem, points: Decimal, vetoed: bool = False) -> bool:
    """Whether a score takes points away (so it must carry reason, standard and evidence: 五不放过)."""
    if item.kind in SCORED_KINDS:
        return points < item.max_points
    if item.kind == ItemKind.PENALTY:
        return points < 0
    if item.kind == ItemKind.VETO:
        return vetoed
    return False


def departs(item: SchemeItem, points: Decimal, vetoed: bool = False) -> bool:
    """Whether a score departs from the item's default (full points; no bonus, penalty or veto):
    only such rows are read when results are computed (decision 0006)."""
    return is_deduction(item, points, vetoed) or (item.kind == ItemKind.BONUS and points > 0)


# ---- building a scheme from data ----------------------------------------------------------------

@dataclass
class RowError:
    where: str  # "row 12" / "item DJ03"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _item_errors(item: Mapping[str, Any], where: str, codes: set[str],
                 target_kind: str = TargetKind.BRANCH) -> list[RowError]:
    errors: list[RowError] = []

    def err(message: str) -> None:
        errors.append(RowError(where, message))

    bad: set[str] = set()

    def num(key: str) -> Decimal | None:
        """A number field, reported (once, naming the field) when it is not a number."""
        try:
            return dec(item.get(key))
        except ValidationError:
            bad.add(key)
            err(_("%(field)s: “%(value)s” is not a number.")
                % {"field": getattr(SchemeItem._meta.get_field(key), "verbose_name", key), "value": item.get(key)})
            return None

    code = str(item.get("code") or "").strip()
    if not code:
        err(_("The item has no code."))
    elif code in codes:
        err(_("Item code %(code)s is used twice.") % {"code": code})
    codes.add(code)
    if not str(item.get("title") or "").strip():
        err(_("The item has no title."))
    if not str(item.get("standard") or "").strip():
        err(_("The item has no content and standard."))
    kind = item.get("kind") or ItemKind.WORK
    method = item.get("method") or Method.DEDUCT
    if kind not in ItemKind.values:
        err(_("Unknown kind “%(value)s”.") % {"value": kind})
    if method not in Method.values:
        err(_("Unknown scoring method “%(value)s”.") % {"value": method})
    try:
        max_points = dec(item.get("max_points"))
    except ValidationError:
        err(_("Maximum points must be a number."))
        return errors
    if max_points is None or max_points < 0:
        err(_("Maximum points must be 0 or more."))
        return errors
    if kind == ItemKind.VETO:
        if max_points != 0:
            err(_("A veto item carries no points: set its maximum to 0."))
        effect = item.get("veto_effect") or ""
        if effect == VetoEffect.DEDUCT:
            err(_("A veto removes eligibility for stars and awards, it does not deduct points: make a fixed "
                  "deduction a penalty item (奖惩办法)."))
        elif effect == VetoEffect.CAP_STARS:
            err(_("A triggered veto leaves no star at all: a unit with a veto cannot keep some stars."))
        elif effect not in VetoEffect.values:
            err(_("Choose the veto's effect."))
    elif max_points == 0:
        err(_("Maximum points must be more than 0."))
    if method == Method.DEDUCT and kind != ItemKind.VETO:
        per = num("deduct_per")
        if "deduct_per" in bad:
            pass
        elif per is None or per <= 0:
            err(_("Give the points per occurrence."))
        elif per > max_points:
            err(_("Points per occurrence exceed the item's maximum."))
    if method == Method.GRADED:
        levels = item.get("levels") or []
        try:
            values = [Decimal(str(p)) for _label, p in levels]
        except (InvalidOperation, ValueError, TypeError):
            values = []
        if len(values) < 2:
            err(_("A graded item needs at least two levels, each with a label and points."))
        elif any(v < 0 or v > max_points for v in values) or max(values) != max_points:
            err(_("Levels' points must lie between 0 and the maximum, the top level at the maximum."))
    if method == Method.RATIO:
        floor, full = num("ratio_floor"), num("ratio_full")
        if bad & {"ratio_floor", "ratio_full"}:
            pass
        elif floor is None or full is None or not (0 <= floor < full <= 100):
            err(_("A ratio item needs a 0-point rate below its full-point rate, both between 0 and 100."))
    metric = item.get("metric") or ""
    if metric and metric not in METRICS:
        err(_("Unknown computed figure “%(value)s”.") % {"value": metric})
    elif metric and METRICS[metric].subject != ("member" if target_kind == TargetKind.MEMBER else "unit"):
        err(_("“%(value)s” is not a figure of what this scheme assesses.") % {"value": METRICS[metric].label})
    elif metric and METRICS[metric].measure == "count" and item.get("method") != Method.DEDUCT:
        err(_("“%(value)s” counts occurrences: bind it to an item scored per occurrence.")
            % {"value": METRICS[metric].label})
    return errors


def check_data(data: Mapping[str, Any]) -> list[RowError]:
    """Every problem in a scheme written as data (before anything is stored)."""
    errors: list[RowError] = []
    categories = data.get("categories") or []
    if not str(data.get("name") or "").strip():
        errors.append(RowError(_("scheme"), _("The scheme has no name.")))
    if not categories:
        errors.append(RowError(_("scheme"), _("The scheme has no categories.")))
    codes: set[str] = set()
    cat_codes: set[str] = set()
    for category in categories:
        cwhere = category.get("_where") or _("category %(code)s") % {"code": category.get("code") or "?"}
        ccode = str(category.get("code") or "").strip()
        if not ccode or not str(category.get("name") or "").strip():
            errors.append(RowError(cwhere, _("A category needs a code and a name.")))
        elif ccode in cat_codes:
            errors.append(RowError(cwhere, _("Category code %(code)s is used twice.") % {"code": ccode}))
        cat_codes.add(ccode)
        for item in category.get("items") or []:
            where = item.get("_where") or _("item %(code)s") % {"code": item.get("code") or "?"}
            errors.extend(_item_errors(item, where, codes, data.get("target_kind") or TargetKind.BRANCH))
    for key in ("full_mark", "bonus_cap", "penalty_cap"):
        try:
            value = dec(data.get(key))
        except ValidationError:
            value = Decimal(-1)
        if value is not None and value < 0:
            errors.append(RowError(_("scheme"), _("%(field)s must be a number, 0 or more.")
                                   % {"field": getattr(Scheme._meta.get_field(key), "verbose_name", key)}))
    seen_stars: set[int] = set()
    for level in data.get("stars") or []:
        swhere = level.get("_where") or _("star levels")
        try:
            stars = int(level.get("stars"))
            if dec(level.get("min_total")) is None:
                raise ValueError
            dec(level.get("quota_pct"))
            dec(level.get("min_category_pct"))
        except (TypeError, ValueError, ValidationError):
            errors.append(RowError(swhere, _("Each star level needs a number of stars and a minimum total; "
                                             "its percentages are numbers.")))
            continue
        if not 1 <= stars <= 5:
            errors.append(RowError(swhere, _("Stars run from 1 to 5.")))
        elif stars in seen_stars:
            errors.append(RowError(swhere, _("The %(stars)s-star level is given twice.") % {"stars": stars}))
        seen_stars.add(stars)
    return errors


def _raise(errors: list[RowError]) -> None:
    if errors:
        raise ValidationError([str(e) for e in errors])


def can_manage(user: Any, unit: Unit) -> bool:
    return scope.can_manage_assessment(user, unit)


OWNER_PLACEHOLDER = "{owner}"


def for_owner(data: Mapping[str, Any], owner: Unit) -> dict[str, Any]:
    """A shipped scheme made the owner's own: ``{owner}`` in its name, description and item texts
    becomes the owning committee's name (a mine loading the power plant's scheme gets its name)."""
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(OWNER_PLACEHOLDER, owner.name)
        if isinstance(value, Mapping):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(data)  # type: ignore[no-any-return]


@transaction.atomic
def load_scheme(actor: Any, owner: Unit, year: int, data: Mapping[str, Any], *, check_rights: bool = True) -> Scheme:
    """Store a scheme written as data as a new draft version for (owner, year, target kind); the
    owner's name fills ``{owner}`` in a shipped scheme's texts (`for_owner`)."""
    if check_rights and not can_manage(actor, owner):
        raise PermissionDenied
    data = for_owner(data, owner)
    _raise(check_data(data))
    target_kind = data.get("target_kind") or TargetKind.BRANCH
    if (data.get("quarter_mark") or QuarterMark.RESCALE) not in QuarterMark.values:
        raise ValidationError({"quarter_mark": _("Choose how the quarters are put on the full mark.")})
    if target_kind not in TargetKind.values:
        raise ValidationError(_("Unknown target kind “%(value)s”.") % {"value": target_kind})
    last = (Scheme.objects.filter(owner=owner, year=year, target_kind=target_kind)
            .order_by("-version").values_list("version", flat=True).first()) or 0
    scheme = Scheme.objects.create(
        owner=owner, org_path=owner.path, year=year, target_kind=target_kind, version=last + 1,
        name=str(data["name"]).strip(), description=str(data.get("description") or ""),
        full_mark=dec(data.get("full_mark")) or Decimal(100), bonus_cap=dec(data.get("bonus_cap")) or Decimal(0),
        penalty_cap=dec(data.get("penalty_cap")) or Decimal(0),
        public_member_ranking=bool(data.get("public_member_ranking")),
        quarter_mark=data.get("quarter_mark") or QuarterMark.RESCALE,
    )
    items: list[SchemeItem] = []
    for c_order, category in enumerate(data["categories"]):
        cat = SchemeCategory.objects.create(scheme=scheme, code=str(category["code"]).strip(),
                                            name=str(category["name"]).strip(), order=c_order)
        for i_order, item in enumerate(category.get("items") or []):
            items.append(SchemeItem(
                scheme=scheme, category=cat, code=str(item["code"]).strip(), title=str(item["title"]).strip(),
                standard=str(item["standard"]).strip(), max_points=dec(item["max_points"]) or Decimal(0),
                kind=item.get("kind") or ItemKind.WORK, method=item.get("method") or Method.DEDUCT,
                deduct_per=dec(item.get("deduct_per")), levels=[[str(a), str(b)] for a, b in item.get("levels") or []],
                ratio_floor=dec(item.get("ratio_floor")), ratio_full=dec(item.get("ratio_full")),
                evidence_required=bool(item.get("evidence_required")), annual_only=bool(item.get("annual_only")),
                metric=item.get("metric") or "", veto_effect=item.get("veto_effect") or "",
                veto_deduction=dec(item.get("veto_deduction")),
                veto_star_cap=int(item["veto_star_cap"]) if item.get("veto_star_cap") not in (None, "") else None,
                order=i_order,
            ))
    SchemeItem.objects.bulk_create(items)
    StarLevel.objects.bulk_create([
        StarLevel(scheme=scheme, stars=int(level["stars"]), min_total=dec(level["min_total"]) or Decimal(0),
                  quota_pct=dec(level.get("quota_pct")), no_veto=bool(level.get("no_veto")),
                  min_category_pct=dec(level.get("min_category_pct")))
        for level in data.get("stars") or []
    ])
    record(actor, AuditAction.CREATE, scheme, {"name": [None, scheme.name], "version": [None, scheme.version]})
    return scheme


def scheme_data(scheme: Scheme) -> dict[str, Any]:
    """A scheme written back as data (for export, copying and comparing)."""
    categories: dict[int, dict[str, Any]] = {}
    for cat in scheme.categories.all():
        categories[cat.pk] = {"code": cat.code, "name": cat.name, "items": []}
    for item in scheme.items.all().order_by("category__order", "order", "id"):
        row: dict[str, Any] = {}
        for f in ITEM_FIELDS:
            value = getattr(item, f)
            if isinstance(value, Decimal):
                value = format(value.normalize(), "f")
            row[f] = value
        categories[item.category_id]["items"].append(row)
    return {
        "name": scheme.name, "target_kind": scheme.target_kind, "description": scheme.description,
        "full_mark": format(scheme.full_mark.normalize(), "f"), "bonus_cap": format(scheme.bonus_cap.normalize(), "f"),
        "penalty_cap": format(scheme.penalty_cap.normalize(), "f"),
        "public_member_ranking": scheme.public_member_ranking,
        "quarter_mark": scheme.quarter_mark,
        "categories": list(categories.values()),
        "stars": [{"stars": s.stars, "min_total": format(s.min_total.normalize(), "f"),
                   "quota_pct": format(s.quota_pct.normalize(), "f") if s.quota_pct is not None else None,
                   "no_veto": s.no_veto,
                   "min_category_pct": format(s.min_category_pct.normalize(), "f")
                   if s.min_category_pct is not None else None}
                  for s in scheme.star_levels.all()],
    }


def publish_errors(scheme: Scheme) -> list[str]:
    errors = [str(e) for e in check_data(scheme_data(scheme))]
    total = sum((i.max_points for i in scheme.items.all() if i.kind in SCORED_KINDS), Decimal(0))
    if total != scheme.full_mark:
        errors.append(_("The indicators' maximum points add up to %(total)s, not the full mark %(full)s.")
                      % {"total": format(total.normalize(), "f"), "full": format(scheme.full_mark.normalize(), "f")})
    quarterly = sum((i.max_points for i in scheme.items.all() if i.kind in SCORED_KINDS and not i.annual_only),
                    Decimal(0))
    if scheme.quarter_mark == QuarterMark.REQUIRE and quarterly != scheme.full_mark:
        errors.append(_("The scheme does not rescale the quarters, so its quarterly items must make the full mark "
                        "%(full)s on their own; they make %(total)s.")
                      % {"total": format(quarterly.normalize(), "f"),
                         "full": format(scheme.full_mark.normalize(), "f")})
    return errors


@transaction.atomic
def publish_scheme(actor: Any, scheme: Scheme) -> Scheme:
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if not can_manage(actor, scheme.owner):
        raise PermissionDenied
    if scheme.locked:
        raise ValidationError(_("This scheme is already published and locked."))
    errors = publish_errors(scheme)
    if errors:
        raise ValidationError(errors)
    scheme.status = SchemeStatus.PUBLISHED
    scheme.published_at = clock.now()
    scheme.published_by = actor if getattr(actor, "pk", None) else None
    scheme.save(update_fields=["status", "published_at", "published_by"])
    record(actor, AuditAction.UPDATE, scheme, {"status": [SchemeStatus.DRAFT, SchemeStatus.PUBLISHED]})
    return scheme


def require_draft(actor: Any, scheme: Scheme) -> None:
    if not can_manage(actor, scheme.owner):
        raise PermissionDenied
    if scheme.locked:
        raise ValidationError(_("A published scheme is locked: copy it to change it."))


@transaction.atomic
def save_item(actor: Any, scheme: Scheme, data: Mapping[str, Any], item: SchemeItem | None = None,
              category: SchemeCategory | None = None) -> SchemeItem:
    """Add or change one item of a draft scheme."""
    require_draft(actor, scheme)
    codes = set(scheme.items.exclude(pk=item.pk if item else None).values_list("code", flat=True))  # type: ignore[misc]
    merged = {f: getattr(item, f) for f in ITEM_FIELDS} if item else {}
    merged.update(data)  # a change names only the fields it changes
    where = _("item %(code)s") % {"code": merged.get("code") or "?"}
    errors = _item_errors(merged, where, codes, scheme.target_kind)
    _raise(errors)
    target = item or SchemeItem(scheme=scheme, category=category or scheme.categories.first(),
                                order=scheme.items.count())
    before = {f: str(getattr(target, f, "")) for f in ITEM_FIELDS} if item else {}
    for f in ITEM_FIELDS:
        if f not in data:
            continue
        value = data[f]
        if f in ("max_points", "deduct_per", "ratio_floor", "ratio_full", "veto_deduction"):
            value = dec(value)
        elif f == "veto_star_cap":
            value = int(value) if value not in (None, "") else None
        elif f in ("evidence_required", "annual_only"):
            value = bool(value)
        elif f == "levels":
            value = [[str(a), str(b)] for a, b in value or []]
        elif isinstance(value, str):
            value = value.strip()
        setattr(target, f, value)
    if category is not None:
        target.category = category
    target.save()
    after = {f: str(getattr(target, f, "")) for f in ITEM_FIELDS}
    record(actor, AuditAction.UPDATE if item else AuditAction.CREATE, scheme,
           {f: [before.get(f), after[f]] for f in ITEM_FIELDS if before.get(f) != after[f]},
           note=target.code)
    return target


@transaction.atomic
def delete_item(actor: Any, item: SchemeItem) -> None:
    require_draft(actor, item.scheme)
    record(actor, AuditAction.DELETE, item.scheme, {"item": [item.code, None]}, note=item.code)
    item.delete()


@transaction.atomic
def copy_for_year(actor: Any, scheme: Scheme, year: int) -> Scheme:
    """Next year's scheme starts as a copy (the seeds' "raise the baseline" step): a new draft."""
    if not can_manage(actor, scheme.owner):
        raise PermissionDenied
    copy = load_scheme(actor, scheme.owner, year, scheme_data(scheme))
    copy.copied_from = scheme
    copy.save(update_fields=["copied_from"])
    return copy


# ---- comparing two versions -------------------------------------------------------------------

@dataclass
class ItemChange:
    code: str
    title: str
    change: str  # "added" / "removed" / "changed"
    fields: list[tuple[str, str, str]]  # (field label, before, after)


def diff_schemes(old: Scheme, new: Scheme) -> list[ItemChange]:
    """Item by item: what was added, removed or changed from `old` to `new`."""
    labels = {f: str(getattr(SchemeItem._meta.get_field(f), "verbose_name", f)) for f in ITEM_FIELDS}
    labels["category"] = str(_("category"))

    def rows(s: Scheme) -> dict[str, dict[str, str]]:
        out = {}
        for item in s.items.select_related("category").order_by("category__order", "order", "id"):
            row = {}
            for f in ITEM_FIELDS:
                value = getattr(item, f)
                row[f] = format(value.normalize(), "f") if isinstance(value, Decimal) else (
                    "" if value is None else str(value))
            row["category"] = item.category.name
            out[item.code] = row
        return out

    a, b = rows(old), rows(new)
    changes: list[ItemChange] = []
    for code, row in b.items():
        if code not in a:
            changes.append(ItemChange(code, row["title"], "added", []))
            continue
        fields = [(labels[f], a[code][f], row[f]) for f in [*ITEM_FIELDS, "category"] if a[code][f] != row[f]]
        if fields:
            changes.append(ItemChange(code, row["title"], "changed", fields))
    for code, row in a.items():
        if code not in b:
            changes.append(ItemChange(code, row["title"], "removed", []))
    return changes


def items_by_code(scheme: Scheme) -> dict[str, SchemeItem]:
    return {i.code: i for i in scheme.items.select_related("category")}


def scored_total(items: Iterable[SchemeItem]) -> Decimal:
    return sum((i.max_points for i in items if i.kind in SCORED_KINDS), Decimal(0))
