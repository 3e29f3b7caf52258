"""Assessment services — 考核评价: plans and periods, the panel, score sheets and scores.

Schemes live in schemes.py, results and stars in results.py, deductions → findings in
findings.py. Every write is checked against pbqms.scope and recorded in the audit trail.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import tallies
from pbqms.assessment.models import (
    SCORED_KINDS,
    ItemKind,
    Method,
    PanelMember,
    PanelRule,
    Period,
    PeriodKind,
    PeriodStatus,
    PeriodStep,
    Plan,
    Scheme,
    SchemeItem,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
    TargetKind,
)
from pbqms.assessment.schemes import dec, departs, is_deduction, magnitude, ratio_points, signed
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock
from pbqms.core.metrics import METRICS
from pbqms.members.models import Member
from pbqms.orgs.models import Unit

# Forward moves of a period; anything else is a reopening (needs a reason).
FORWARD = {
    PeriodStatus.OPEN: PeriodStatus.SCORING,
    PeriodStatus.SCORING: PeriodStatus.REVIEW,
    PeriodStatus.REVIEW: PeriodStatus.PUBLISHED,
}
ORDER = [PeriodStatus.OPEN, PeriodStatus.SCORING, PeriodStatus.REVIEW, PeriodStatus.PUBLISHED]


def _actor_name(actor: Any) -> str:
    if not actor:
        return _("system")
    return getattr(actor, "display_name", "") or getattr(actor, "username", "") or _("system")


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None


# ---- plans and periods ------------------------------------------------------------------------

def period_specs(year: int) -> list[tuple[str, str, dt.date, dt.date]]:
    """The yearly cadence: 一月一自查、一季一考核、半年一分析、年底一总结."""
    specs: list[tuple[str, str, dt.date, dt.date]] = []
    for m in range(1, 13):
        specs.append((PeriodKind.MONTH, f"{year}-{m:02d}", dt.date(year, m, 1),
                      dt.date(year, m, calendar.monthrange(year, m)[1])))
    for q in range(1, 5):
        end_month = q * 3
        specs.append((PeriodKind.QUARTER, f"{year}Q{q}", dt.date(year, end_month - 2, 1),
                      dt.date(year, end_month, calendar.monthrange(year, end_month)[1])))
    specs.append((PeriodKind.HALF, f"{year}H1", dt.date(year, 1, 1), dt.date(year, 6, 30)))
    specs.append((PeriodKind.HALF, f"{year}H2", dt.date(year, 7, 1), dt.date(year, 12, 31)))
    specs.append((PeriodKind.YEAR, f"{year}", dt.date(year, 1, 1), dt.date(year, 12, 31)))
    return specs


@transaction.atomic
def create_plan(actor: Any, scheme: Scheme, *, quarter_weight: Decimal | str = "70",
                annual_weight: Decimal | str = "30", panel_rule: str = PanelRule.MEAN) -> Plan:
    """The year's plan for a published scheme, with every period of the cadence."""
    if not scope.can_manage_assessment(actor, scheme.owner):
        raise PermissionDenied
    if not scheme.locked:
        raise ValidationError(_("Publish the scheme before planning its periods."))
    if Plan.objects.filter(scheme=scheme).exists():
        raise ValidationError(_("This scheme already has a plan."))
    qw, aw = dec(quarter_weight), dec(annual_weight)
    if qw is None or aw is None or qw < 0 or aw < 0 or qw + aw != 100:
        raise ValidationError({"quarter_weight": _("The weights of the quarters and of the annual-only items "
                                                   "must add up to 100.")})
    if panel_rule not in PanelRule.values:
        raise ValidationError({"panel_rule": _("Choose how the panel's scores combine.")})
    plan = Plan.objects.create(scheme=scheme, owner=scheme.owner, org_path=scheme.org_path, year=scheme.year,
                               quarter_weight=qw, annual_weight=aw, panel_rule=panel_rule)
    Period.objects.bulk_create([
        Period(plan=plan, scheme=scheme, org_path=scheme.org_path, kind=kind, key=key, starts_on=start, ends_on=end)
        for kind, key, start, end in period_specs(scheme.year)
    ])
    record(actor, AuditAction.CREATE, plan, {"scheme": [None, str(scheme)], "quarter_weight": [None, str(qw)],
                                             "annual_weight": [None, str(aw)], "panel_rule": [None, panel_rule]})
    return plan


def _step(period: Period, actor: Any, to: str, reason: str = "") -> None:
    PeriodStep.objects.create(period=period, from_status=period.status, to_status=to, actor=_user(actor),
                              actor_name=_actor_name(actor), reason=reason)
    record(actor, AuditAction.UPDATE, period, {"status": [period.status, to]}, note=reason)
    period.status = to


@transaction.atomic
def move_period(actor: Any, period: Period, to: str, reason: str = "", *, confirm_unassessed: bool = True) -> Period:
    """open → scoring → review → published; any step back is a reopening and needs a reason.

    Publishing while units of the plan have no result is refused unless `confirm_unassessed`
    (the web page shows the publisher those units and their reasons first; issue 20.6)."""
    period = Period.objects.select_for_update(of=("self",)).select_related("plan__owner", "scheme").get(pk=period.pk)
    if not scope.can_manage_assessment(actor, period.plan.owner):
        raise PermissionDenied
    if to not in PeriodStatus.values or to == period.status:
        raise ValidationError(_("Choose a different status."))
    forward = FORWARD.get(PeriodStatus(period.status)) == to
    if not forward:
        if ORDER.index(PeriodStatus(to)) > ORDER.index(PeriodStatus(period.status)):
            raise ValidationError(_("A period moves one step at a time: open, scoring, review, published."))
        if not reason.strip():
            raise ValidationError({"reason": _("Give the reason for reopening the period.")})
    if to == PeriodStatus.PUBLISHED:
        from pbqms.assessment import coverage, results

        missing = coverage.unassessed(actor, period, cap=20)
        if missing.count and not confirm_unassessed:
            raise ValidationError(
                _("%(n)s units of the plan would have no result: %(units)s. Confirm to publish without them.")
                % {"n": missing.count, "units": missing.text() + ("…" if missing.more else "")},
                code="unassessed")
        _step(period, actor, to, reason.strip())
        if missing.count:
            record(actor, AuditAction.UPDATE, period, {"unassessed": [None, missing.count]},
                   note=_("published without a result for: %(units)s") % {"units": missing.text()})
        period.published_at = clock.now()
        period.save(update_fields=["status", "published_at"])
        results.compute(period)
        if period.kind == PeriodKind.YEAR:
            results.propose_stars(actor, period)
        return period
    _step(period, actor, to, reason.strip())
    if period.published_at and to != PeriodStatus.PUBLISHED:
        period.published_at = None
    period.save(update_fields=["status", "published_at"])
    return period


@transaction.atomic
def save_analysis(actor: Any, period: Period, text: str) -> Period:
    """The half-year analysis or the annual summary's written part (半年一分析 / 年底一总结)."""
    if not scope.can_manage_assessment(actor, period.plan.owner):
        raise PermissionDenied
    if period.locked:
        raise ValidationError(_("This period is published and locked."))
    before = period.analysis
    period.analysis = text.strip()
    period.save(update_fields=["analysis"])
    record(actor, AuditAction.UPDATE, period, {"analysis": [before, period.analysis]})
    return period


@transaction.atomic
def set_panel(actor: Any, period: Period, users: Sequence[Any], lead: Any = None) -> list[PanelMember]:
    """The period's assessment panel (考核评价小组). Empty: the department scores one shared sheet."""
    if not scope.can_manage_assessment(actor, period.plan.owner):
        raise PermissionDenied
    if period.locked:
        raise ValidationError(_("This period is published and locked."))
    if lead is not None and lead not in users:
        raise ValidationError({"lead": _("The lead assessor must sit on the panel.")})
    if period.plan.panel_rule == PanelRule.LEAD and users and lead is None:
        raise ValidationError({"lead": _("This plan lets the lead assessor decide: choose the lead.")})
    if Sheet.objects.filter(period=period, kind=SheetKind.ASSESSOR).exists():
        raise ValidationError(_("Assessors have started scoring: the panel can no longer change."))
    PanelMember.objects.filter(period=period).delete()
    rows = PanelMember.objects.bulk_create([PanelMember(period=period, user=u, is_lead=(u == lead)) for u in users])
    record(actor, AuditAction.UPDATE, period, {"panel": [None, ", ".join(_actor_name(u) for u in users)]})
    return rows


# ---- sheets -------------------------------------------------------------------------------------

def sheet_items(period: Period) -> list[SchemeItem]:
    """The items scored in a period: the year's summary scores the annual-only items and the
    vetoes; every other period the rest. The half-year analysis scores nothing."""
    if period.kind == PeriodKind.HALF:
        return []
    cached = getattr(period, "_sheet_items", None)  # one query per period object, not per sheet
    if cached is not None:
        return list(cached)
    items = list(SchemeItem.objects.filter(scheme_id=period.scheme_id).select_related("category")
                 .order_by("category__order", "order", "id"))
    if period.kind == PeriodKind.YEAR:
        items = [i for i in items if i.annual_only or i.kind == ItemKind.VETO]
    else:
        items = [i for i in items if not i.annual_only]
    period._sheet_items = items  # type: ignore[attr-defined]
    return list(items)


def _check_open_for(period: Period, kind: str) -> None:
    if period.locked:
        raise ValidationError(_("This period is published and locked: its scores cannot change."))
    if period.kind == PeriodKind.HALF and kind != SheetKind.SELF:
        raise ValidationError(_("The half-year analysis is not scored: it compares the quarters."))
    if kind == SheetKind.SELF and period.status not in (PeriodStatus.OPEN, PeriodStatus.SCORING):
        raise ValidationError(_("Self-checks are closed for this period."))
    if kind == SheetKind.ASSESSOR:
        if period.kind == PeriodKind.MONTH:
            raise ValidationError(_("A monthly period is a self-check: assessors do not score it."))
        if period.status != PeriodStatus.SCORING:
            raise ValidationError(_("Assessors score only while the period is in scoring."))


def may_write_sheet(actor: Any, sheet: Sheet) -> bool:
    if sheet.kind == SheetKind.SELF:
        if sheet.member_id:
            return scope.get_scope(actor).self_member_id == sheet.member_id
        return scope.can_self_check(actor, sheet.unit)
    if sheet.member_id:
        allowed = scope.can_assess_member(actor, sheet.member)  # type: ignore[arg-type]
    else:
        allowed = scope.can_assess_unit(actor, sheet.unit)
    if not allowed:
        return False
    if sheet.assessor_id is not None:
        return bool(sheet.assessor_id == getattr(actor, "pk", None))
    return True


def _refuse_own(actor: Any, unit: Unit, member: Member | None) -> None:
    if member is not None:
        if scope.get_scope(actor).self_member_id == member.pk:
            raise ValidationError(_("Nobody scores themselves: another assessor must score this member."))
    elif scope.belongs_to(actor, unit):
        raise ValidationError(_("Nobody scores their own unit: another assessor must score %(unit)s.")
                              % {"unit": unit.name})


@transaction.atomic
def open_sheet(actor: Any, period: Period, unit: Unit, kind: str, member: Member | None = None) -> Sheet:
    """The sheet the actor scores on (created on first use, pre-filled from the system's figures)."""
    period = Period.objects.select_related("plan", "scheme").get(pk=period.pk)
    if (period.scheme.target_kind == TargetKind.MEMBER) != (member is not None):
        raise ValidationError(_("This scheme assesses %(kind)s.") % {"kind": period.scheme.get_target_kind_display()})
    if not unit.path.startswith(period.org_path):
        raise ValidationError(_("%(unit)s is not under the committee running this assessment.") % {"unit": unit.name})
    _check_open_for(period, kind)
    assessor = None
    if kind == SheetKind.ASSESSOR:
        _refuse_own(actor, unit, member)
        allowed = scope.can_assess_member(actor, member) if member else scope.can_assess_unit(actor, unit)
        if not allowed:
            raise PermissionDenied
        panel = list(PanelMember.objects.filter(period=period).values_list("user_id", flat=True))
        if panel:
            if getattr(actor, "pk", None) not in panel:
                raise ValidationError(_("Only the period's assessment panel scores it."))
            assessor = actor
    elif member is not None:
        if scope.get_scope(actor).self_member_id != member.pk:
            raise PermissionDenied
    elif not scope.can_self_check(actor, unit):
        raise PermissionDenied
    lookup = {"period": period, "kind": kind, "assessor": assessor}
    lookup.update({"member": member} if member else {"unit": unit, "member": None})
    sheet = Sheet.objects.filter(**lookup).first()
    if sheet:
        return sheet
    try:
        with transaction.atomic():
            sheet = Sheet.objects.create(period=period, unit=unit, member=member, kind=kind, assessor=assessor,
                                         org_path=member.org_path if member else unit.path)
    except IntegrityError:  # opened by someone else a moment ago
        return Sheet.objects.get(**lookup)
    prefill(sheet)
    from pbqms.assessment import cadence

    cadence.carry_months(sheet)  # a quarter's self-check starts from the months' answers (22.7)
    record(actor, AuditAction.CREATE, sheet, {"kind": [None, kind]})
    return sheet


def prefill(sheet: Sheet) -> int:
    """Scores for items bound to a figure the system computes (一次录入、多处复用): the figure, the
    points it converts to, and `auto` set; the scorer confirms or overrides with a reason."""
    period = sheet.period
    bound = [i for i in sheet_items(period) if i.metric and i.metric in METRICS]
    made = 0
    for item in bound:
        metric = METRICS[item.metric]
        subject = sheet.member_id if metric.subject == "member" else (None if sheet.member_id else sheet.unit_id)
        if subject is None:
            continue
        value = metric.compute([subject], period.starts_on, period.ends_on).get(subject)
        if value is None:
            continue
        count = metric.measure == "count"
        if count:  # occurrences counted by the system (e.g. monthly self-checks missed)
            if item.method != Method.DEDUCT:
                continue
            amount = magnitude(item, occurrences=int(value))
        else:
            amount = ratio_points(item, value) if item.method == Method.RATIO else magnitude(
                item, yes=value >= (item.ratio_full or Decimal(100)))
        if amount is None:
            continue
        points = signed(item, amount)
        deducted = is_deduction(item, points)
        flagged = deducted if count else amount < item.max_points
        if count:
            reason = _("Computed from the records: %(label)s: %(n)s.") % {"label": metric.label, "n": int(value)}
        else:
            reason = _("Computed from the records: %(value)s%%.") % {"value": Decimal(value).quantize(Decimal("0.1"))}
        Score.objects.create(
            sheet=sheet, item=item, points=points, measured=None if count else value, metric_value=value, auto=True,
            occurrences=int(value) if count else None, deducted=deducted, departs=departs(item, points),
            standard_applied=item.standard if flagged else "",
            evidence_ref=METRICS[item.metric].evidence_url.format(code=sheet.unit.code),
            reason=reason if flagged else "")
        made += 1
    return made


# ---- scores -------------------------------------------------------------------------------------

@dataclass
class ScoreInput:
    """One item's score as a scorer enters it. `version` is the score's version the scorer saw
    (0 for none): a save over someone else's newer score is refused, never overwritten."""

    item: SchemeItem
    version: int = 0
    points: Decimal | str | None = None
    occurrences: int | str | None = None
    level: str = ""
    measured: Decimal | str | None = None
    yes: bool | None = None
    reason: str = ""
    standard_applied: str = ""
    evidence_ref: str = ""
    note: str = ""
    override_reason: str = ""


@dataclass
class Conflict:
    item: SchemeItem
    by: str
    at: dt.datetime
    points: Decimal


class ScoreConflict(ValidationError):
    """Someone saved these items after the scorer opened them; nothing was saved."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        super().__init__([
            _("%(item)s was changed by %(by)s at %(at)s after you opened it (now %(points)s points); "
              "your change was not saved. Reload to see theirs, then score it again.")
            % {"item": f"{c.item.code} {c.item.title}", "by": c.by, "at": timezone.localtime(c.at).strftime("%H:%M:%S"),
               "points": c.points}
            for c in conflicts
        ], code="conflict")


@dataclass
class _Parsed:
    points: Decimal
    occurrences: int | None
    level: str
    measured: Decimal | None
    vetoed: bool
    errors: list[str] = field(default_factory=list)


def _parse(entry: ScoreInput) -> _Parsed:
    item = entry.item
    label = f"{item.code} {item.title}"
    errors: list[str] = []
    try:
        occurrences = int(entry.occurrences) if entry.occurrences not in (None, "") else None
        if occurrences is not None and occurrences < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(_("%(item)s: the number of occurrences must be a whole number, 0 or more.") % {"item": label})
        occurrences = None
    try:
        measured = dec(entry.measured)
        points = dec(entry.points)
    except ValidationError:
        errors.append(_("%(item)s: enter numbers only.") % {"item": label})
        return _Parsed(Decimal(0), None, "", None, False, errors)
    if measured is not None and not Decimal(0) <= measured <= Decimal(100):
        errors.append(_("%(item)s: a rate lies between 0 and 100.") % {"item": label})
    level = (entry.level or "").strip()
    if level and item.method == Method.GRADED and not any(name == level for name, _p in item.levels):
        errors.append(_("%(item)s: “%(level)s” is not one of its levels.") % {"item": label, "level": level})
    vetoed = bool(entry.yes) if item.kind == ItemKind.VETO else False
    if item.kind == ItemKind.VETO:
        return _Parsed(Decimal(0), occurrences, level, measured, vetoed, errors)
    amount = None if errors else magnitude(item, occurrences=occurrences, level=level, measured=measured,
                                           yes=entry.yes)
    if amount is None and points is not None:
        if not Decimal(0) <= points <= item.max_points:
            errors.append(_("%(item)s: points must lie between 0 and %(max)s.")
                          % {"item": label, "max": format(item.max_points.normalize(), "f")})
        amount = points
    if amount is None and not errors:
        errors.append(_("%(item)s: enter the score.") % {"item": label})
    return _Parsed(signed(item, amount or Decimal(0)), occurrences, level, measured, vetoed, errors)


def _five_facts(sheet: Sheet, entry: ScoreInput, parsed: _Parsed) -> list[str]:
    """五不放过: an assessor's deduction names the number, the reason, the standard and the evidence.
    A self-check deduction needs its reason (the branch knows the rest)."""
    item = entry.item
    if not is_deduction(item, parsed.points, parsed.vetoed):
        return []
    label = f"{item.code} {item.title}"
    missing = []
    if not entry.reason.strip():
        missing.append(_("the reason"))
    if sheet.kind == SheetKind.ASSESSOR:
        if item.method == Method.DEDUCT and item.kind != ItemKind.VETO and not parsed.occurrences \
                and entry.points in (None, ""):
            missing.append(_("the number of occurrences"))
        if not entry.standard_applied.strip():
            missing.append(_("the standard applied"))
        if not entry.evidence_ref.strip():
            missing.append(_("the evidence"))
    if not missing:
        return []
    return [_("%(item)s: a deduction must give %(missing)s (五不放过).") % {"item": label, "missing": "、".join(
        str(m) for m in missing)}]


def _same(score: Score, parsed: _Parsed, entry: ScoreInput) -> bool:
    return (score.points == parsed.points and score.vetoed == parsed.vetoed and score.reason == entry.reason.strip()
            and score.occurrences == parsed.occurrences and score.level == parsed.level
            and score.measured == parsed.measured and score.standard_applied == entry.standard_applied.strip()
            and score.evidence_ref == entry.evidence_ref.strip() and score.note == entry.note.strip())


@transaction.atomic
def save_scores(actor: Any, sheet: Sheet, entries: Iterable[ScoreInput]) -> list[Score]:
    """Save scores on a sheet, all or nothing: every bad entry is reported, a conflicting save refused."""
    sheet = (Sheet.objects.select_for_update(of=("self",)).select_related("period__scheme", "unit", "member")
             .get(pk=sheet.pk))
    _check_open_for(sheet.period, sheet.kind)
    if sheet.kind == SheetKind.ASSESSOR:
        _refuse_own(actor, sheet.unit, sheet.member)
    if not may_write_sheet(actor, sheet):
        raise PermissionDenied
    if sheet.status == SheetStatus.SUBMITTED:
        raise ValidationError(_("This sheet is submitted; withdraw the submission to change it."))
    entries = list(entries)
    allowed = {i.pk for i in sheet_items(sheet.period)}
    current = {s.item_id: s for s in Score.objects.select_for_update().filter(sheet=sheet)}
    errors: list[str] = []
    conflicts: list[Conflict] = []
    plan: list[tuple[ScoreInput, _Parsed, Score | None]] = []
    for entry in entries:
        if entry.item.pk not in allowed:
            errors.append(_("%(item)s is not scored in this period.") % {"item": entry.item.code})
            continue
        parsed = _parse(entry)
        errors.extend(parsed.errors)
        if parsed.errors:
            continue
        errors.extend(_five_facts(sheet, entry, parsed))
        existing = current.get(entry.item.pk)
        if existing and existing.version != int(entry.version or 0) and not _same(existing, parsed, entry):
            who = existing.updated_by
            conflicts.append(Conflict(entry.item, _actor_name(who), existing.updated_at, existing.points))
            continue
        if existing is None and int(entry.version or 0) != 0:
            errors.append(_("%(item)s was cleared by someone else; reload the sheet.") % {"item": entry.item.code})
            continue
        if existing and existing.auto and parsed.points != existing.points and not (
                entry.override_reason.strip() or existing.override_reason):
            errors.append(_("%(item)s: the score was computed from the records; give the reason for overriding it.")
                          % {"item": f"{entry.item.code} {entry.item.title}"})
            continue
        plan.append((entry, parsed, existing))
    if conflicts:
        raise ScoreConflict(conflicts)
    if errors:
        raise ValidationError(errors)
    saved: list[Score] = []
    created: list[Score] = []
    changed: list[Score] = []
    changes: dict[str, list[Any]] = {}
    reasons: list[str] = []
    now = clock.now()
    for entry, parsed, existing in plan:
        score = existing or Score(sheet=sheet, item=entry.item, version=0)
        if existing and _same(existing, parsed, entry) and not entry.override_reason.strip():
            saved.append(existing)
            continue
        before = (f"{existing.points}{' ✗' if existing.vetoed else ''}" if existing else None)
        score.points, score.occurrences, score.level = parsed.points, parsed.occurrences, parsed.level
        score.measured, score.vetoed = parsed.measured, parsed.vetoed
        score.deducted = is_deduction(entry.item, parsed.points, parsed.vetoed)
        score.departs = departs(entry.item, parsed.points, parsed.vetoed)
        score.reason, score.standard_applied = entry.reason.strip(), entry.standard_applied.strip()
        score.evidence_ref, score.note = entry.evidence_ref.strip(), entry.note.strip()
        if entry.override_reason.strip():
            score.override_reason = entry.override_reason.strip()
        score.version += 1
        score.updated_by, score.updated_at = _user(actor), now
        (changed if existing else created).append(score)
        # one audit entry per save, item by item: points before → after (✗ marks a triggered veto)
        changes[entry.item.code] = [before, f"{score.points}{' ✗' if score.vetoed else ''}"]
        if score.reason:
            reasons.append(f"{entry.item.code}: {score.reason}")
        saved.append(score)
    Score.objects.bulk_create(created)
    Score.objects.bulk_update(changed, ["points", "occurrences", "level", "measured", "vetoed", "deducted", "departs",
                                        "reason", "standard_applied", "evidence_ref", "note", "override_reason",
                                        "version", "updated_by", "updated_at"])
    if changes:
        record(actor, AuditAction.UPDATE, sheet, changes, note="; ".join(reasons))
    return saved


@transaction.atomic
def submit_sheet(actor: Any, sheet: Sheet, summary: str = "") -> Sheet:
    """Submit a complete sheet: every item of the period scored."""
    sheet = (Sheet.objects.select_for_update(of=("self",)).select_related("period__scheme", "unit", "member")
             .get(pk=sheet.pk))
    _check_open_for(sheet.period, sheet.kind)
    if not may_write_sheet(actor, sheet):
        raise PermissionDenied
    if sheet.status == SheetStatus.SUBMITTED:
        raise ValidationError(_("This sheet is already submitted."))
    scored = set(sheet.scores.values_list("item_id", flat=True))
    missing = [i for i in sheet_items(sheet.period) if i.pk not in scored]
    # Veto, bonus and penalty items left blank mean "not triggered" / "none": store them as such.
    blanks = [i for i in missing if i.kind in (ItemKind.VETO, ItemKind.BONUS, ItemKind.PENALTY)]
    missing = [i for i in missing if i.kind in SCORED_KINDS]
    if missing:
        raise ValidationError(_("Score every item before submitting; still blank: %(items)s.")
                              % {"items": "、".join(i.code for i in missing[:20])
                                 + ("…" if len(missing) > 20 else "")})
    if sheet.period.kind == PeriodKind.HALF and not (summary.strip() or sheet.summary.strip()):
        raise ValidationError({"summary": _("Write the branch's half-year analysis before submitting it.")})
    Score.objects.bulk_create([Score(sheet=sheet, item=i, points=Decimal(0), updated_by=_user(actor)) for i in blanks])
    sheet.status, sheet.submitted_at = SheetStatus.SUBMITTED, clock.now()
    if summary.strip():
        sheet.summary = summary.strip()
    sheet.save(update_fields=["status", "submitted_at", "summary"])
    tallies.fill_sheet(sheet)  # the sheet is locked now: its subtotals are fixed (decision 0007)
    record(actor, AuditAction.UPDATE, sheet, {"status": [SheetStatus.DRAFT, SheetStatus.SUBMITTED]})
    return sheet


@transaction.atomic
def withdraw_submission(actor: Any, sheet: Sheet, reason: str) -> Sheet:
    sheet = Sheet.objects.select_for_update(of=("self",)).select_related("period", "unit", "member").get(pk=sheet.pk)
    _check_open_for(sheet.period, sheet.kind)
    if not may_write_sheet(actor, sheet):
        raise PermissionDenied
    if sheet.status != SheetStatus.SUBMITTED:
        raise ValidationError(_("This sheet is not submitted."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for withdrawing the submission.")})
    sheet.status, sheet.submitted_at, sheet.tally = SheetStatus.DRAFT, None, None
    sheet.save(update_fields=["status", "submitted_at", "tally"])
    record(actor, AuditAction.UPDATE, sheet, {"status": [SheetStatus.SUBMITTED, SheetStatus.DRAFT]}, note=reason)
    return sheet
