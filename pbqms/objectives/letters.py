"""Responsibility letters — 党建目标质量管理责任书 (seed 001: "由厂党委主要负责人与各党支部书记
签订年度党建目标质量管理责任书").

A letter is drawn up from a branch's targets for the year (a snapshot of the five fixes), signed
in the system by a committee secretary above the branch and by the branch secretary (each with
name and time). While nobody has signed, drawing it up again refreshes it. Once anyone has signed
it, nothing in it changes; once both have, a later change to the branch's targets shows as "needs
an amendment", and the amendment is a new version of the letter, signed again, which supersedes
the old one when both sign it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.orgs.models import Unit, UnitKind

from .models import LetterState, ResponsibilityLetter, Target
from .services import _year, show_value

LETTER_UNIT_KINDS = {UnitKind.BRANCH, UnitKind.GENERAL_BRANCH}
SIDES = ("committee", "branch")


def committee_of(unit: Unit) -> Unit | None:
    """The nearest committee above the unit (one query)."""
    ids = unit.ancestor_ids()
    by_id = {u.pk: u for u in Unit.objects.filter(pk__in=ids, kind=UnitKind.COMMITTEE)}
    for uid in reversed(ids):
        if uid in by_id:
            return by_id[uid]
    return None


def letter_rows(unit: Unit, year: int) -> list[dict[str, Any]]:
    """The branch's own targets for the year as the letter's table (five fixes per row)."""
    targets = (Target.objects.filter(unit=unit, year=year, member__isnull=True).select_related("objective")
               .order_by("objective__number", "objective_id", "id"))
    return [{"target": t.pk, "objective": t.objective.title, "task": t.task, "person": t.person,
             "indicator": t.indicator, "value": show_value(t.value_kind, t.target_value, t.measure_unit),
             "quality": t.quality, "deadline": t.deadline.isoformat()} for t in targets]


def digest(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def current_letter(unit: Unit, year: int) -> ResponsibilityLetter | None:
    """The letter in force (or being signed): the latest version that is not superseded."""
    return (ResponsibilityLetter.objects.filter(unit=unit, year=year).exclude(state=LetterState.SUPERSEDED)
            .order_by("-version").first())


def needs_amendment(letter: ResponsibilityLetter) -> bool:
    """A signed letter whose branch targets have changed since it was signed."""
    return letter.state == LetterState.SIGNED and digest(letter_rows(letter.unit, letter.year)) != letter.digest


def _title(unit: Unit, year: int, version: int) -> str:
    title = _("%(year)s Party-Building Objective Quality Management Responsibility Letter") % {"year": year}
    if version > 1:
        title += _(" (amendment %(n)s)") % {"n": version - 1}
    return title


def _preamble(committee: Unit, unit: Unit) -> str:
    return _("To carry out the party-building objective quality management system, and following "
             "“fix the task, the person, the indicator, the quality and the deadline”, %(committee)s and "
             "%(branch)s sign this letter. The branch commits to reach the targets below within the year; the "
             "committee checks them quarterly and evaluates them at year end.") % {
        "committee": committee.name, "branch": unit.name}


@transaction.atomic
def draw_up_letter(actor: Any, unit: Unit, year: int) -> ResponsibilityLetter:
    """Draw up (or refresh, while unsigned) the branch's letter, or an amendment to a signed one."""
    if actor is not None and not scope.can_manage_objectives(actor, unit):
        raise PermissionDenied
    if unit.kind not in LETTER_UNIT_KINDS or not unit.is_active:
        raise ValidationError(_("Responsibility letters are signed with branches and general branches."))
    year = _year(year)
    committee = committee_of(unit)
    if committee is None:
        raise ValidationError(_("The unit has no committee above it to sign with."))
    rows = letter_rows(unit, year)
    if not rows:
        raise ValidationError(_("%(unit)s has no targets for %(year)s yet.") % {"unit": unit.name, "year": year})
    fingerprint = digest(rows)
    letter = current_letter(unit, year)
    if letter is not None and letter.state == LetterState.DRAFT:
        if letter.has_signature:
            raise ValidationError(_("A letter that has been signed cannot be changed; once both sides have "
                                    "signed, draw up an amendment."), code="signed")
        letter.rows, letter.digest, letter.committee = rows, fingerprint, committee
        letter.save(update_fields=["rows", "digest", "committee"])
        audit.record(actor, AuditAction.UPDATE, letter, {"rows": [None, len(rows)]}, note="refreshed")
        return letter
    if letter is not None and letter.digest == fingerprint:
        raise ValidationError(_("The signed letter already records the branch's current targets."))
    version = (letter.version + 1) if letter is not None else 1
    with translation.override(settings.LANGUAGE_CODE):  # an official document: in the site's language
        title, preamble = _title(unit, year, version), _preamble(committee, unit)
    new = ResponsibilityLetter.objects.create(
        unit=unit, committee=committee, org_path=unit.path, year=year, version=version, amends=letter,
        title=title, preamble=preamble, rows=rows, digest=fingerprint,
        created_by=actor if getattr(actor, "pk", None) else None)
    audit.record(actor, AuditAction.CREATE, new, {"version": [None, version], "rows": [None, len(rows)]})
    return new


@transaction.atomic
def update_letter(actor: Any, letter: ResponsibilityLetter, *, title: str, preamble: str) -> ResponsibilityLetter:
    """Change an unsigned letter's wording. A signed letter never changes."""
    if actor is not None and not scope.can_manage_objectives(actor, letter.unit):
        raise PermissionDenied
    letter = ResponsibilityLetter.objects.select_for_update().get(pk=letter.pk)
    if letter.has_signature or letter.state != LetterState.DRAFT:
        raise ValidationError(_("A signed letter cannot be edited; draw up an amendment instead."), code="signed")
    title = (title or "").strip()
    if not title:
        raise ValidationError(_("A letter needs a title."))
    before = audit.snapshot(letter, ("title", "preamble"))
    letter.title, letter.preamble = title, (preamble or "").strip()
    letter.save(update_fields=["title", "preamble"])
    if delta := audit.diff(before, audit.snapshot(letter, ("title", "preamble"))):
        audit.record(actor, AuditAction.UPDATE, letter, delta)
    return letter


def signer_name(user: Any) -> str:
    member = getattr(user, "member", None) if getattr(user, "member_id", None) else None
    if member is not None:
        return member.name
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or getattr(user, "display_name", "") or user.get_username()


@transaction.atomic
def sign_letter(actor: Any, letter: ResponsibilityLetter, side: str, *, name: str = "",
                at: dt.datetime | None = None) -> ResponsibilityLetter:
    """Sign for the committee or for the branch — 签署. actor None is the system (demo, import),
    which must give the signer's name."""
    if side not in SIDES:
        raise ValidationError(_("Sign for the committee or for the branch."))
    if actor is not None and not scope.can_sign_letter(actor, letter, side):
        raise PermissionDenied
    letter = ResponsibilityLetter.objects.select_for_update().select_related("unit").get(pk=letter.pk)
    if letter.state != LetterState.DRAFT:
        raise ValidationError(_("This letter is already signed."), code="signed")
    if getattr(letter, f"{side}_signed_at"):
        raise ValidationError(_("This side has already signed."), code="signed")
    if not letter.has_signature and digest(letter_rows(letter.unit, letter.year)) != letter.digest:
        raise ValidationError(_("The branch's targets changed after the letter was drawn up; draw it up again "
                                "before signing."))
    signer = name.strip() if actor is None else signer_name(actor)
    if not signer.strip("—–-_ .·"):  # a dash is no signer (#22.11: Z01's letter was "signed" by "—")
        raise ValidationError(_("A signature needs the signer's name: this side has no signer, so the letter "
                                "cannot be signed for it."), code="no_signer")
    when = at or timezone.now()
    setattr(letter, f"{side}_signer", actor if getattr(actor, "pk", None) else None)
    setattr(letter, f"{side}_signer_name", signer)
    setattr(letter, f"{side}_signed_at", when)
    fields = [f"{side}_signer", f"{side}_signer_name", f"{side}_signed_at"]
    if letter.is_signed:
        letter.state = LetterState.SIGNED
        fields.append("state")
        if letter.amends_id:
            ResponsibilityLetter.objects.filter(pk=letter.amends_id).update(state=LetterState.SUPERSEDED)
    letter.save(update_fields=fields)
    audit.record(actor, AuditAction.SIGN, letter, {f"{side}_signer_name": [None, signer]}, note=side)
    return letter
