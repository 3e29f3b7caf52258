"""Organisation tree rules — 组织树: creating, changing, moving and dissolving units."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import text
from pbqms.members.models import Member

from . import tally
from .models import ALLOWED_PARENTS, BranchVariant, Unit, UnitKind, UnitMove, path_segment

EDITABLE_FIELDS = ("code", "name", "variant", "order", "founded_on", "department")
AUDITED_FIELDS = ("code", "name", "kind", "variant", "parent", "order", "founded_on", "department",
                  "dissolved_on", "dissolution_reason")


def check_placement(kind: str, parent: Unit | None) -> None:
    """Raise ValidationError unless a unit of `kind` may sit under `parent`."""
    parent_kind = parent.kind if parent else None
    if kind not in ALLOWED_PARENTS:
        raise ValidationError(_("Unknown unit kind “%(kind)s”.") % {"kind": kind})
    if parent_kind not in ALLOWED_PARENTS[kind]:
        if parent is None:
            raise ValidationError(_("Only a party committee can stand at the top of the tree."))
        raise ValidationError(
            _("A %(kind)s cannot sit under a %(parent)s.")
            % {"kind": str(UnitKind(kind).label).lower(), "parent": str(UnitKind(parent.kind).label).lower()}
        )
    if parent is not None and not parent.is_active:
        raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": parent.name})


def _clean(unit: Unit) -> None:
    if text.is_blank(unit.code):
        raise ValidationError(_("A unit needs a code."))
    if text.is_blank(unit.name):
        raise ValidationError(_("A unit needs a name."))
    text.check_model(unit, ("code", "name", "department"))  # the one validator (pbqms.core.text)
    if unit.kind != UnitKind.BRANCH and unit.variant != BranchVariant.REGULAR:
        raise ValidationError(_("Only a branch can be a joint or temporary branch."))
    clash = Unit.objects.filter(code=unit.code)
    if unit.pk:
        clash = clash.exclude(pk=unit.pk)
    if clash.exists():
        raise ValidationError(_("The code “%(code)s” is already used.") % {"code": unit.code})


@transaction.atomic
def create_unit(actor: Any, *, code: str, name: str, kind: str, parent: Unit | None,
                variant: str = BranchVariant.REGULAR, order: int = 0, founded_on: dt.date | None = None,
                department: str = "") -> Unit:
    if parent is None:
        if actor is not None and not scope.can_create_root(actor):
            raise scope.PermissionDenied
    elif actor is not None:
        scope.require_unit_write(actor, parent)
    check_placement(kind, parent)
    unit = Unit(code=code.strip(), name=name.strip(), kind=kind, parent=parent, variant=variant or
                BranchVariant.REGULAR, order=order, founded_on=founded_on, department=department)
    _clean(unit)
    unit.path = "-"  # placeholder until the primary key is known
    unit.depth = (parent.depth + 1) if parent else 0
    unit.save()
    unit.path = (parent.path if parent else "") + path_segment(unit.pk)
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    tally.unit_counted(unit, +1)
    audit.record(actor, AuditAction.CREATE, unit, audit.created(audit.snapshot(unit, AUDITED_FIELDS)))
    return unit


@transaction.atomic
def update_unit(actor: Any, unit: Unit, **changes: Any) -> Unit:
    if actor is not None:
        scope.require_unit_write(actor, unit)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(unit, AUDITED_FIELDS)
    for k, v in changes.items():
        setattr(unit, k, v.strip() if isinstance(v, str) else v)
    _clean(unit)
    unit.save()
    delta = audit.diff(before, audit.snapshot(unit, AUDITED_FIELDS))
    if delta:
        audit.record(actor, AuditAction.UPDATE, unit, delta)
    return unit


@transaction.atomic
def move_unit(actor: Any, unit: Unit, new_parent: Unit, *, moved_on: dt.date | None = None,
              reason: str = "") -> Unit:
    """Re-attach `unit` (and its subtree and people) under `new_parent`; the move is kept as history."""
    if actor is not None:
        scope.require_unit_write(actor, unit)
        scope.require_unit_write(actor, new_parent)
    if new_parent.path.startswith(unit.path):
        raise ValidationError(_("A unit cannot move under itself or one of its own sub-units."))
    if unit.parent_id == new_parent.pk:
        raise ValidationError(_("The unit already sits there."))
    check_placement(unit.kind, new_parent)
    text.check(reason, text.label(UnitMove, "reason"), max_length=255)
    old_parent = unit.parent
    old_path = unit.path
    new_path = new_parent.path + path_segment(unit.pk)
    depth_shift = new_parent.depth + 1 - unit.depth
    cut = len(old_path) + 1
    # One UPDATE per table rewrites the whole subtree's paths, however large it is.
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", cut)), depth=F("depth") + depth_shift)
    # Every record that belongs to a unit carries a copy of its path (`org_path`): people,
    # findings, notices, activity records, documents, attachments … rewrite them all alike.
    for model in _org_path_models():
        model._default_manager.filter(org_path__startswith=old_path).update(
            org_path=Concat(Value(new_path), Substr("org_path", cut)))
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    tally.unit_moved(unit, old_path)
    from pbqms.activities import engine as compliance
    from pbqms.objectives import rollup as objective_rollup

    objective_rollup.unit_moved(old_path, new_path)
    compliance.unit_moved(unit, old_path)
    UnitMove.objects.create(unit=unit, from_parent=old_parent, to_parent=new_parent,
                            moved_on=moved_on or dt.date.today(), reason=reason,
                            moved_by=actor if getattr(actor, "pk", None) else None)
    audit.record(actor, AuditAction.MOVE, unit,
                 {"parent": [str(old_parent) if old_parent else None, str(new_parent)]}, note=reason)
    return unit


def _org_path_models() -> list[type[Any]]:
    from django.apps import apps

    return [m for m in apps.get_models() if m._meta.app_label != "audit"
            and any(f.name == "org_path" and f.concrete for f in m._meta.get_fields())]


@transaction.atomic
def dissolve_unit(actor: Any, unit: Unit, *, dissolved_on: dt.date | None = None, reason: str) -> Unit:
    """Dissolve (撤销) a unit: it stays in the tree and its records stay readable."""
    if actor is not None:
        scope.require_unit_write(actor, unit)
    if not unit.is_active:
        raise ValidationError(_("The unit is already dissolved."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for dissolving the unit."))
    if Unit.objects.filter(parent=unit, dissolved_on__isnull=True).exists():
        raise ValidationError(_("Move or dissolve its sub-units first."))
    if Member.objects.filter(unit=unit, state="active").exists() or Member.objects.filter(
            group=unit, state="active").exists():
        raise ValidationError(_("Transfer its people to another unit first."))
    before = audit.snapshot(unit, AUDITED_FIELDS)
    unit.dissolved_on = dissolved_on or dt.date.today()
    unit.dissolution_reason = text.check(reason, text.label(Unit, "dissolution_reason"),
                                         max_length=255).strip()
    unit.save(update_fields=["dissolved_on", "dissolution_reason", "updated_at"])
    tally.unit_counted(unit, -1)
    audit.record(actor, AuditAction.DISSOLVE, unit, audit.diff(before, audit.snapshot(unit, AUDITED_FIELDS)),
                 note=reason)
    return unit
