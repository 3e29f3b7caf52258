"""Performance linkage — 与绩效奖挂钩: the plan's table turning a unit's stars or total into the
coefficients of its secretary and its branch committee members, and the rows of the export.

The table holds either star rows (5★ → 1.2, 4★ → 1.1 …) or total bands (≥ 95 → 1.2, ≥ 85 → 1.0 …),
never both: a unit earns the row of its stars (or the best row at or below them), or the band its
total reaches. The people are the unit's committee posts (支委任职) held at the period's end:
the secretary (书记) at the secretary's coefficient, the other committee posts at the members',
and — seed 001: "对考评成绩好的单位的行政负责人也一同奖励" — the unit's administrative head
(行政负责人) at the head's coefficient, when the table gives one. Each unit says whether it is
eligible for awards (评先评优: no triggered veto, issue 22.5).

A members' points plan (党员量化积分) links each member's points to the share of the member's risk
fund (党员风险金) returned: the table's bands by points give the percentage (issue 22.6).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment.models import LinkageRow, Period, Plan, Result, StarRating, StarStatus
from pbqms.assessment.schemes import dec
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.members.models import CommitteeRole, CommitteeRoleKind

MAX_COEFFICIENT = Decimal("10")
MAX_ROWS = 20
CHUNK = 2000


@dataclass
class LinkageInput:
    """One row of the table as entered: stars or a minimum total, and the two coefficients."""

    stars: int | str | None = None
    min_total: Decimal | str | None = None
    secretary: Decimal | str | None = None
    committee: Decimal | str | None = None
    head: Decimal | str | None = None  # the administrative head's coefficient (optional)
    risk_fund: Decimal | str | None = None  # % of the members' risk fund returned (optional)

    def blank(self) -> bool:
        return all(v in (None, "") or (isinstance(v, str) and not v.strip())
                   for v in (self.stars, self.min_total, self.secretary, self.committee, self.head, self.risk_fund))


def _row_errors(n: int, row: LinkageInput, full: Decimal) -> tuple[list[str], LinkageRow | None]:
    errors: list[str] = []
    where = _("Row %(n)s") % {"n": n}
    stars: int | None = None
    total = coef_s = coef_c = None
    if row.stars not in (None, "") and str(row.stars).strip():
        try:
            stars = int(str(row.stars).strip())
            if not 0 <= stars <= 5:
                raise ValueError
        except ValueError:
            errors.append(_("%(row)s: stars run from 0 to 5.") % {"row": where})
    try:
        total = dec(row.min_total)
        coef_s, coef_c = dec(row.secretary), dec(row.committee)
        coef_h, fund = dec(row.head), dec(row.risk_fund)
    except ValidationError:
        errors.append(_("%(row)s: enter numbers only.") % {"row": where})
        return errors, None
    if total is not None and not Decimal(0) <= total <= full:
        errors.append(_("%(row)s: the total lies between 0 and %(full)s.") % {"row": where,
                                                                            "full": format(full.normalize(), "f")})
    if (stars is None) == (total is None) and not errors:
        errors.append(_("%(row)s: give either the stars or the minimum total, not both.") % {"row": where}
                      if stars is not None else _("%(row)s: give the stars or the minimum total.") % {"row": where})
    for optional, value in ((False, coef_s), (False, coef_c), (True, coef_h)):
        if value is None:
            if optional:
                continue
            errors.append(_("%(row)s: give both coefficients.") % {"row": where})
            break
        if not Decimal(0) <= value <= MAX_COEFFICIENT or value != value.quantize(Decimal("0.01")):
            errors.append(_("%(row)s: a coefficient lies between 0 and %(max)s, with at most two decimals.")
                          % {"row": where, "max": MAX_COEFFICIENT})
            break
    if fund is not None and not (Decimal(0) <= fund <= 100 and fund == fund.quantize(Decimal("0.01"))):
        errors.append(_("%(row)s: the share of the risk fund returned lies between 0 and 100%%.") % {"row": where})
    if errors or coef_s is None or coef_c is None:
        return errors, None
    return [], LinkageRow(stars=stars, min_total=total, secretary_coefficient=coef_s, committee_coefficient=coef_c,
                          head_coefficient=coef_h, risk_fund_pct=fund)


def describe(rows: Sequence[LinkageRow]) -> str:
    parts = []
    for r in rows:
        key = f"{r.stars}★" if r.stars is not None else f"≥{r.min_total}"
        extra = (f"/{r.head_coefficient}" if r.head_coefficient is not None else "") + (
            f" {r.risk_fund_pct}%" if r.risk_fund_pct is not None else "")
        parts.append(f"{key}: {r.secretary_coefficient}/{r.committee_coefficient}{extra}")
    return "; ".join(parts)


@transaction.atomic
def save_linkage(actor: Any, plan: Plan, rows: Sequence[LinkageInput]) -> list[LinkageRow]:
    """Replace the plan's linkage table, all or nothing; every bad row is reported."""
    plan = Plan.objects.select_for_update(of=("self",)).select_related("owner", "scheme").get(pk=plan.pk)
    if not scope.can_manage_assessment(actor, plan.owner):
        raise PermissionDenied
    entered = [(n, r) for n, r in enumerate(rows, start=1) if not r.blank()]
    if not entered:
        raise ValidationError(_("Enter at least one row of the linkage table."))
    if len(entered) > MAX_ROWS:
        raise ValidationError(_("The linkage table holds at most %(n)s rows.") % {"n": MAX_ROWS})
    full = plan.scheme.full_mark + plan.scheme.bonus_cap
    errors: list[str] = []
    made: list[LinkageRow] = []
    for n, row in entered:
        row_errors, obj = _row_errors(n, row, full)
        errors += row_errors
        if obj is not None:
            made.append(obj)
    if not errors:
        if len({r.stars is not None for r in made}) > 1:
            errors.append(_("Use one basis for the whole table: every row by stars, or every row by total."))
        keys = [r.stars if r.stars is not None else r.min_total for r in made]
        if len(set(keys)) != len(keys):
            errors.append(_("Two rows give the same stars or the same minimum total."))
    if errors:
        raise ValidationError(errors)
    before = describe(list(plan.linkage.all()))
    LinkageRow.objects.filter(plan=plan).delete()
    for r in made:
        r.plan = plan
    LinkageRow.objects.bulk_create(made)
    saved = list(LinkageRow.objects.filter(plan=plan))
    record(actor, AuditAction.UPDATE, plan, {"linkage": [before or None, describe(saved)]},
           note=_("performance linkage table"))
    return saved


def by_stars(rows: Sequence[LinkageRow]) -> bool:
    return any(r.stars is not None for r in rows)


def row_for(rows: Sequence[LinkageRow], *, stars: int | None, total: Decimal | None) -> LinkageRow | None:
    """The row a unit (or member) earns, or None when no row applies."""
    if by_stars(rows):
        if stars is None:
            return None
        fitting = [r for r in rows if r.stars is not None and r.stars <= stars]
        best = max(fitting, key=lambda r: r.stars or 0, default=None)
    else:
        if total is None:
            return None
        fitting = [r for r in rows if r.min_total is not None and r.min_total <= total]
        best = max(fitting, key=lambda r: r.min_total or Decimal(0), default=None)
    return best


def coefficients(rows: Sequence[LinkageRow], *, stars: int | None, total: Decimal | None
                 ) -> tuple[Decimal, Decimal] | None:
    """The (secretary, committee member) coefficients a unit earns, or None when no row applies."""
    best = row_for(rows, stars=stars, total=total)
    return (best.secretary_coefficient, best.committee_coefficient) if best else None


def default_period(plan: Plan) -> Period | None:
    """The period the export reads by default: the annual summary if computed, else the latest."""
    periods = list(Period.objects.filter(plan=plan, computed_at__isnull=False).order_by("-ends_on", "kind"))
    year = [p for p in periods if p.kind == "year"]
    chosen = year or periods
    return chosen[0] if chosen else None


def _member_rows(user: Any, plan: Plan, period: Period, rows: Sequence[LinkageRow]) -> Iterator[list[Any]]:
    """Members' points: one row per member with the share of the risk fund the points return."""
    results = (scope.assessment_readable(user, Result).filter(period=period, member__isnull=False)
               .select_related("unit", "member").order_by("unit__path", "member__name_pinyin", "id"))
    for r in results.iterator(chunk_size=CHUNK):
        row = row_for(rows, stars=None, total=r.total)
        fund = row.risk_fund_pct if row is not None and row.risk_fund_pct is not None else ""
        yield ["", r.unit.code, r.unit.name, r.total, "", "", _("Yes") if r.vetoed else "",
               _("No") if r.vetoed else _("Yes"), r.member.name, _("Party member"), "", fund]


def export_rows(user: Any, plan: Plan, period: Period) -> Iterator[list[Any]]:
    """One row per person (a unit without committee posts gets one row saying so), in rank order.
    Reads the user's results in chunks: memory stays flat whatever the number of units."""
    rows = list(plan.linkage.all())
    if plan.scheme.target_kind == "member":
        yield from _member_rows(user, plan, period, rows)
        return
    results = (scope.assessment_readable(user, Result).filter(period=period, member__isnull=True)
               .select_related("unit").order_by("rank", "id"))
    posts_q = (Q(started_on__lte=period.ends_on) & (Q(ended_on__isnull=True) | Q(ended_on__gte=period.ends_on))
               & ~Q(role=CommitteeRoleKind.GROUP_LEADER))
    done = False
    offset = 0
    while not done:
        chunk = list(results[offset:offset + CHUNK])
        offset += CHUNK
        done = len(chunk) < CHUNK
        if not chunk:
            break
        ids = [r.unit_id for r in chunk]
        ratings = {r.unit_id: r for r in StarRating.objects.filter(plan=plan, unit_id__in=ids)}
        posts: dict[int, list[CommitteeRole]] = {}
        for post in (CommitteeRole.objects.filter(posts_q, unit_id__in=ids).select_related("member")
                     .order_by("unit_id", "role", "started_on", "id")):
            posts.setdefault(post.unit_id, []).append(post)
        for r in chunk:
            rating = ratings.get(r.unit_id)
            stars = (0 if rating.status == StarStatus.WITHDRAWN else rating.stars) if rating else None
            earned = row_for(rows, stars=stars, total=r.total)
            status = rating.get_status_display() if rating else ""
            eligible = not r.vetoed and (rating is None or rating.status != StarStatus.WITHDRAWN)
            base = [r.rank, r.unit.code, r.unit.name, r.total, stars if stars is not None else "", status,
                    _("Yes") if r.vetoed else "", _("Yes") if eligible else _("No")]
            people = sorted(posts.get(r.unit_id, []), key=lambda p: (p.role != CommitteeRoleKind.SECRETARY, p.role))
            if not people:
                yield base + ["", _("(no committee posts recorded)"), "", ""]
            for p in people:
                is_secretary = p.role == CommitteeRoleKind.SECRETARY
                value = (earned.secretary_coefficient if is_secretary else earned.committee_coefficient) \
                    if earned else ""
                yield base + [p.member.name, p.get_role_display(), value, ""]
            if earned is not None and earned.head_coefficient is not None:
                # the administrative head is named by the enterprise, not in the party records: the
                # row carries the department and the coefficient for the payroll to fill in the name
                yield base + ["", _("Administrative head (行政负责人)") + (f" · {r.unit.department}"
                                                                      if r.unit.department else ""),
                              earned.head_coefficient, ""]


def export_headers() -> list[str]:
    return [_("Rank"), _("Code"), _("Unit"), _("Total"), _("Stars"), _("Rating status"), _("Veto"),
            _("Eligible for awards (评先评优)"), _("Name"), _("Committee post"), _("Coefficient"),
            _("Risk fund returned (%)")]
