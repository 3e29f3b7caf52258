"""Star ratings — 星级评定: proposals by threshold, mandatory conditions and quota; public notice
(公示), confirmation and dynamic management (动态管理), each change kept with its reason (晋位升级)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import marks
from pbqms.assessment.models import (
    Period,
    Result,
    StarChange,
    StarLevel,
    StarRating,
    StarStatus,
    TargetKind,
    parse_subtotals,
)
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock
from pbqms.orgs.models import Unit


def _category_max(period: Period) -> dict[int, Decimal]:
    """The points each category weighs in the period's stored subtotals (weighted years included)."""
    return marks.category_max(period)


def _pts(value: Decimal | None) -> str:
    if value is None:
        return ""
    d = Decimal(value).quantize(Decimal("0.01"))
    return str(int(d)) if d == d.to_integral_value() else f"{d:.2f}"


def star_decisions(period: Period) -> dict[int, tuple[int, dict[str, Any]]]:
    """unit id → (stars, the rule that decided them), by the scheme's levels: threshold, mandatory
    conditions and quota, filled from the top of the ranking down (a unit failing a level is tried
    one level lower). A unit with a triggered veto is not eligible at all (issue 22.5). The basis
    names the level reached (threshold, quota position) and every higher level passed over and why,
    so a rating can be explained during the 公示 (issue 20.5)."""
    levels = list(StarLevel.objects.filter(scheme=period.scheme).order_by("-stars"))
    if not levels:
        return {}
    results = list(Result.objects.filter(period=period, member__isnull=True).order_by("rank", "id")
                   .values("unit_id", "total", "vetoed", "veto_items", "star_cap", "rank"))
    n = len(results)
    quota = {lv.stars: (math.floor(n * lv.quota_pct / 100) if lv.quota_pct is not None else None) for lv in levels}
    used: dict[int, int] = defaultdict(int)
    cat_max = _category_max(period)
    names = dict(period.scheme.categories.values_list("pk", "name")) if any(
        lv.min_category_pct is not None for lv in levels) else {}
    cat_points: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if names:
        for unit_id, cats in Result.objects.filter(period=period, member__isnull=True).values_list(
                "unit_id", "subtotals"):
            cat_points[unit_id] = parse_subtotals(cats)
    out: dict[int, tuple[int, dict[str, Any]]] = {}
    for row in results:
        basis: dict[str, Any] = {"total": _pts(row["total"]), "rank": row["rank"], "of": n, "passed_over": []}
        if row["vetoed"] or row["star_cap"] == 0:
            basis.update(rule="veto", items=row["veto_items"])
            out[row["unit_id"]] = (0, basis)
            continue
        skipped: list[dict[str, Any]] = basis["passed_over"]
        stars = 0
        for lv in levels:
            if row["total"] < lv.min_total:
                skipped.append({"stars": lv.stars, "why": "below", "min": _pts(lv.min_total)})
                continue
            if row["star_cap"] is not None and lv.stars > row["star_cap"]:
                skipped.append({"stars": lv.stars, "why": "cap", "cap": row["star_cap"]})
                continue
            if lv.min_category_pct is not None:
                pts = cat_points.get(row["unit_id"], {})
                low = [c for c, m in cat_max.items() if m and pts.get(c, Decimal(0)) < m * lv.min_category_pct / 100]
                if low:
                    skipped.append({"stars": lv.stars, "why": "condition", "pct": _pts(lv.min_category_pct),
                                    "category": names.get(low[0], ""), "points": _pts(pts.get(low[0], Decimal(0))),
                                    "max": _pts(cat_max[low[0]])})
                    continue
            limit = quota[lv.stars]
            if limit is not None and used[lv.stars] >= limit:
                skipped.append({"stars": lv.stars, "why": "quota", "limit": limit,
                                "pct": _pts(lv.quota_pct)})
                continue
            used[lv.stars] += 1
            stars = lv.stars
            basis.update(rule="threshold", min=_pts(lv.min_total))
            if limit is not None:
                basis["quota"] = [used[lv.stars], limit, _pts(lv.quota_pct)]
            break
        if not stars:
            basis["rule"] = "below"
        out[row["unit_id"]] = (stars, basis)
    return out


def star_proposals(period: Period) -> dict[int, int]:
    """unit id → stars (units that reach a level)."""
    return {u: stars for u, (stars, _b) in star_decisions(period).items() if stars}


def describe(basis: dict[str, Any]) -> list[str]:
    """The rule that decided a rating, in words: the level reached and each higher level passed over."""
    if not basis:
        return []
    lines: list[str] = []
    rule = basis.get("rule")
    if rule == "veto":
        lines.append(_("Veto %(items)s triggered: not eligible for stars or awards this year, whatever the "
                       "points.") % {"items": basis.get("items", "")})
        return lines
    if rule == "threshold":
        lines.append(_("Annual total %(total)s, rank %(rank)s of %(of)s: reaches the threshold of %(min)s.")
                     % {"total": basis.get("total"), "rank": basis.get("rank"), "of": basis.get("of"),
                        "min": basis.get("min")})
        if basis.get("quota"):
            pos, limit, pct = basis["quota"]
            lines.append(_("Within the quota: place %(pos)s of %(limit)s (%(pct)s%% of the units).")
                         % {"pos": pos, "limit": limit, "pct": pct})
    else:
        lines.append(_("Annual total %(total)s, rank %(rank)s of %(of)s: below every level.")
                     % {"total": basis.get("total"), "rank": basis.get("rank"), "of": basis.get("of")})
    for s in basis.get("passed_over", []):
        why = s.get("why")
        if why == "below":
            text = _("%(n)s★ not reached: it needs %(min)s.") % {"n": s["stars"], "min": s["min"]}
        elif why == "quota":
            text = _("%(n)s★ passed over: its quota of %(limit)s (%(pct)s%% of the units) was filled by units "
                     "ranked higher.") % {"n": s["stars"], "limit": s["limit"], "pct": s["pct"]}
        elif why == "condition":
            text = _("%(n)s★ passed over: every category needs %(pct)s%% of its points; %(category)s has "
                     "%(points)s of %(max)s.") % {"n": s["stars"], "pct": s["pct"], "category": s["category"],
                                                   "points": s["points"], "max": s["max"]}
        else:
            text = _("%(n)s★ passed over: stars capped at %(cap)s.") % {"n": s["stars"], "cap": s.get("cap")}
        lines.append(text)
    return lines


@transaction.atomic
def propose_stars(actor: Any, period: Period) -> int:
    """On publishing the annual summary: each unit's proposed stars, with last year's for the
    promotion/demotion history (晋位升级)."""
    plan = period.plan
    if period.scheme.target_kind != TargetKind.BRANCH:
        return 0
    decided = star_decisions(period)
    proposals = {u: stars for u, (stars, _b) in decided.items() if stars}
    totals = dict(Result.objects.filter(period=period, member__isnull=True).values_list("unit_id", "total"))
    last = dict(StarRating.objects.filter(plan__owner_id=plan.owner_id, year=plan.year - 1,
                                          status=StarStatus.CONFIRMED).values_list("unit_id", "stars"))
    paths = dict(Unit.objects.filter(pk__in=totals).values_list("id", "path"))
    StarRating.objects.filter(plan=plan, status__in=[StarStatus.PROPOSED]).delete()
    existing = set(StarRating.objects.filter(plan=plan).values_list("unit_id", flat=True))
    name = getattr(actor, "display_name", "") or getattr(actor, "username", "") or _("system")
    ratings = [StarRating(plan=plan, unit_id=uid, org_path=paths[uid], year=plan.year, stars=stars,
                          previous_stars=last.get(uid), total=totals.get(uid), basis=decided[uid][1])
               for uid, stars in proposals.items() if uid not in existing]
    StarRating.objects.bulk_create(ratings, batch_size=1000)
    StarChange.objects.bulk_create([StarChange(rating=r, from_stars=r.previous_stars, to_stars=r.stars,
                                               status=StarStatus.PROPOSED, actor_name=name)
                                    for r in StarRating.objects.filter(plan=plan, status=StarStatus.PROPOSED)],
                                   batch_size=1000)
    return len(ratings)


def _star_change(actor: Any, rating: StarRating, to_stars: int, status: str, reason: str) -> StarRating:
    StarChange.objects.create(rating=rating, from_stars=rating.stars, to_stars=to_stars, status=status,
                              reason=reason, actor_name=getattr(actor, "display_name", "")
                              or getattr(actor, "username", "") or _("system"))
    record(actor, AuditAction.UPDATE, rating, {"stars": [rating.stars, to_stars], "status": [rating.status, status]},
           note=reason)
    rating.stars, rating.status, rating.reason = to_stars, status, reason
    rating.decided_by = actor if getattr(actor, "pk", None) else None
    rating.decided_at = clock.now()
    rating.save()
    return rating


@transaction.atomic
def publicise_stars(actor: Any, plan: Any, days: int = 5) -> int:
    """Put the proposed ratings on public notice (公示) for `days` days."""
    if not scope.can_manage_assessment(actor, plan.owner):
        raise PermissionDenied
    if days < 1:
        raise ValidationError({"days": _("A public notice lasts at least one day.")})
    until = clock.today() + dt.timedelta(days=days)
    count = 0
    for rating in StarRating.objects.select_for_update().filter(plan=plan, status=StarStatus.PROPOSED):
        rating.notice_until = until
        _star_change(actor, rating, rating.stars, StarStatus.PUBLICISED, _("public notice until %(date)s")
                     % {"date": until.isoformat()})
        count += 1
    return count


@transaction.atomic
def confirm_stars(actor: Any, plan: Any) -> int:
    """Confirm the ratings whose public notice has run its course."""
    if not scope.can_manage_assessment(actor, plan.owner):
        raise PermissionDenied
    pending = list(StarRating.objects.select_for_update().filter(plan=plan, status=StarStatus.PUBLICISED))
    early = [r for r in pending if r.notice_until and r.notice_until > clock.today()]
    if early:
        raise ValidationError(_("The public notice runs until %(date)s: confirm the ratings after it ends.")
                              % {"date": early[0].notice_until.isoformat()})  # type: ignore[union-attr]
    for rating in pending:
        _star_change(actor, rating, rating.stars, StarStatus.CONFIRMED, "")
    return len(pending)


@transaction.atomic
def change_stars(actor: Any, rating: StarRating, to_stars: int, reason: str) -> StarRating:
    """Dynamic management (动态管理): add or withdraw stars as performance changes, with a reason."""
    rating = StarRating.objects.select_for_update(of=("self",)).select_related("plan__owner", "unit").get(pk=rating.pk)
    if not scope.can_manage_assessment(actor, rating.plan.owner) or scope.belongs_to(actor, rating.unit):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for changing the rating.")})
    if not 0 <= to_stars <= 5:
        raise ValidationError({"stars": _("Stars run from 0 to 5.")})
    status = StarStatus.WITHDRAWN if to_stars == 0 else rating.status
    return _star_change(actor, rating, to_stars, status, reason.strip())
