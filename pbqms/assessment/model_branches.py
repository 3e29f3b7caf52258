"""Model branches — 标杆 / 示范党支部 (issue 22.9, seed 003: 对标).

The committee designates, per plan, the branches every branch benchmarks against. Any unit taking
part in the plan may then read those branches' scorecards (their scores and deductions, never their
people: members, findings) and put them beside its own on the radar — a narrow read grant decided
in pbqms.scope (`can_read_model_scorecard`), not a widening of the branch's scope.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment.models import ModelBranch, Plan, TargetKind
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock
from pbqms.orgs.models import Unit, UnitKind

CAP = 20  # model branches per plan


def models_of(plan_id: int) -> list[ModelBranch]:
    return list(ModelBranch.objects.filter(plan_id=plan_id).select_related("unit").order_by("unit__path")[:CAP])


@transaction.atomic
def designate(actor: Any, plan: Plan, unit: Unit, reason: str) -> ModelBranch:
    """Name `unit` a model branch of `plan` (标杆支部), with the reason it is one."""
    if not scope.can_manage_assessment(actor, plan.owner):
        raise PermissionDenied
    if plan.scheme.target_kind != TargetKind.BRANCH:
        raise ValidationError(_("Model branches belong to plans assessing party organisations."))
    if unit.kind not in (UnitKind.BRANCH, UnitKind.GENERAL_BRANCH) or not unit.path.startswith(plan.org_path) \
            or unit.dissolved_on is not None:
        raise ValidationError({"unit": _("%(unit)s is not a branch assessed by this plan.") % {"unit": unit.name}})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why %(unit)s is a model branch.") % {"unit": unit.name}})
    if ModelBranch.objects.filter(plan=plan, unit=unit).exists():
        raise ValidationError({"unit": _("%(unit)s is already a model branch of this plan.") % {"unit": unit.name}})
    if ModelBranch.objects.filter(plan=plan).count() >= CAP:
        raise ValidationError(_("A plan has at most %(n)s model branches.") % {"n": CAP})
    row = ModelBranch.objects.create(plan=plan, unit=unit, org_path=plan.org_path, reason=reason.strip(),
                                     designated_by=actor if getattr(actor, "pk", None) else None,
                                     designated_at=clock.now())
    record(actor, AuditAction.CREATE, row, {"model_branch": [None, unit.code]}, note=reason.strip())
    return row


@transaction.atomic
def withdraw(actor: Any, row: ModelBranch) -> None:
    if not scope.can_manage_assessment(actor, row.plan.owner):
        raise PermissionDenied
    record(actor, AuditAction.DELETE, row, {"model_branch": [row.unit.code, None]})
    row.delete()
