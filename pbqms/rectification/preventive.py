"""Preventive action — 预防措施控制程序: spot recurrence, propose an action, track it like a notice.

Recurrence (thresholds per issuing unit, RectificationSettings): the same item found in the
same unit in N or more distinct periods, or in M or more units in one period under the same
parent committee. Detection runs when a finding is recorded; each pattern proposes one action
(a unique key), later findings of the same pattern join it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import clock
from pbqms.core.codes import label
from pbqms.orgs.models import Unit

from . import numbering
from .models import Finding, FindingStatus, PreventiveAction, PreventiveStatus, PreventiveTrigger

PA_FIELDS = ("title", "item_code", "measures", "owner", "due_on", "status", "result")


def _propose(key: str, trigger: str, unit: Unit, item: str, title: str, analysis: str, days: int,
             findings: list[Finding]) -> PreventiveAction:
    existing = PreventiveAction.objects.filter(key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = PreventiveAction.objects.create(
                    key=key, trigger=trigger, unit=unit, org_path=unit.path, item_code=item, title=title,
                    analysis=analysis, due_on=clock.today() + dt.timedelta(days=days))
                audit.record(None, AuditAction.CREATE, existing, audit.created({"title": title, "key": key}))
        except IntegrityError:
            existing = PreventiveAction.objects.get(key=key)
    existing.findings.add(*findings)
    return existing


def detect(finding: Finding) -> list[PreventiveAction]:
    """Check the new finding for recurrence; returns the actions it proposed or joined."""
    if not finding.item_code:
        return []
    unit = finding.unit
    conf = numbering.settings_for(unit.parent or unit)
    live = Finding.objects.exclude(status=FindingStatus.WITHDRAWN).filter(item_code=finding.item_code)
    actions = []
    item = label(finding.item_code)  # what people read: a rule's name, an item's code and title
    same_unit = list(live.filter(unit=unit).only("pk", "period"))
    periods = {f.period for f in same_unit}
    if len(periods) >= conf.recurrence_periods:
        actions.append(_propose(
            f"unit:{unit.pk}:item:{finding.item_code}", PreventiveTrigger.SAME_UNIT, unit, finding.item_code,
            (_("%(unit)s: %(item)s found again") % {"unit": unit.name, "item": item})[:200],
            _("Found in %(n)d periods: %(periods)s.") % {"n": len(periods), "periods": ", ".join(sorted(periods))},
            conf.preventive_days, same_unit))
    if unit.parent_id:
        parent = unit.parent
        assert parent is not None
        peers = list(live.filter(period=finding.period, org_path__startswith=parent.path)
                     .only("pk", "unit_id"))
        units = {f.unit_id for f in peers}
        if len(units) >= conf.recurrence_units:
            actions.append(_propose(
                f"period:{finding.period}:parent:{parent.pk}:item:{finding.item_code}", PreventiveTrigger.MANY_UNITS,
                parent, finding.item_code,
                (_("%(item)s found in %(n)d units in %(period)s") % {
                    "item": item, "n": len(units), "period": finding.period})[:200],
                _("The same item was found in %(n)d units under %(parent)s in one period.") % {
                    "n": len(units), "parent": parent.name},
                conf.preventive_days, peers))
    return actions


@transaction.atomic
def accept(actor: Any, action: PreventiveAction, *, owner: Any, due_on: dt.date, measures: str) -> PreventiveAction:
    """Confirm a proposed action: who does what by when."""
    action = PreventiveAction.objects.select_for_update().get(pk=action.pk)
    if not scope.can_manage_preventive(actor, action.unit):
        raise PermissionDenied
    if action.status != PreventiveStatus.PROPOSED:
        raise ValidationError(_("Only a proposed action can be accepted."))
    errors = {}
    if owner is None:
        errors["owner"] = _("Choose who owns the action.")
    if not measures.strip():
        errors["measures"] = _("State the preventive measures.")
    if due_on is None or due_on <= clock.today():
        errors["due_on"] = _("The due date must be after today.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(action, PA_FIELDS)
    action.owner, action.due_on, action.measures, action.status = owner, due_on, measures.strip(), \
        PreventiveStatus.OPEN
    action.save()
    audit.record(actor, AuditAction.APPROVE, action, audit.diff(before, audit.snapshot(action, PA_FIELDS)))
    return action


@transaction.atomic
def complete(actor: Any, action: PreventiveAction, *, result: str) -> PreventiveAction:
    action = PreventiveAction.objects.select_for_update().get(pk=action.pk)
    if action.owner_id != getattr(actor, "pk", None) and not scope.can_manage_preventive(actor, action.unit):
        raise PermissionDenied
    if action.status != PreventiveStatus.OPEN:
        raise ValidationError(_("Only an action in progress can be reported done."))
    if not result.strip():
        raise ValidationError({"result": _("Describe what was done.")})
    action.status, action.result = PreventiveStatus.DONE, result.strip()
    action.save(update_fields=["status", "result"])
    audit.record(actor, AuditAction.SUBMIT, action, {"status": [PreventiveStatus.OPEN, PreventiveStatus.DONE]})
    return action


@transaction.atomic
def close(actor: Any, action: PreventiveAction, *, effective: bool, note: str) -> PreventiveAction:
    """Verify the action's effect: effective closes it, not effective sends it back to work."""
    action = PreventiveAction.objects.select_for_update(of=("self",)).select_related("unit").get(pk=action.pk)
    if not scope.can_manage_preventive(actor, action.unit) or action.owner_id == getattr(actor, "pk", None):
        raise PermissionDenied
    if action.status != PreventiveStatus.DONE:
        raise ValidationError(_("Only an action reported done can be verified."))
    if not note.strip():
        raise ValidationError({"note": _("Record what was checked and whether the fix was effective.")})
    was = action.status
    if effective:
        action.status, action.closed_at = PreventiveStatus.CLOSED, clock.now()
    else:
        action.status = PreventiveStatus.OPEN
    action.save(update_fields=["status", "closed_at"])
    audit.record(actor, AuditAction.VERIFY, action, {"status": [was, action.status]}, note=note.strip())
    return action


@transaction.atomic
def dismiss(actor: Any, action: PreventiveAction, *, reason: str) -> PreventiveAction:
    action = PreventiveAction.objects.select_for_update(of=("self",)).select_related("unit").get(pk=action.pk)
    if not scope.can_manage_preventive(actor, action.unit):
        raise PermissionDenied
    if action.status not in (PreventiveStatus.PROPOSED, PreventiveStatus.OPEN):
        raise ValidationError(_("Only a proposed or open action can be dismissed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for dismissing the action.")})
    was = action.status
    action.status, action.closed_at = PreventiveStatus.DISMISSED, clock.now()
    action.save(update_fields=["status", "closed_at"])
    audit.record(actor, AuditAction.ABOLISH, action, {"status": [was, action.status]}, note=reason.strip())
    return action
