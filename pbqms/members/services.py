"""Rules for people — 党员管理: records, the development ladder, committee posts, transfers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import crypto, pinyin, text
from pbqms.orgs import tally
from pbqms.orgs.models import Unit, UnitKind
from pbqms.orgs.tally import PersonFacts

from . import idnumber
from .models import (
    CommitteeRole,
    CommitteeRoleKind,
    Member,
    MemberState,
    PartyStatus,
    StatusStep,
    Transfer,
    TransferDirection,
    next_status,
)

EDITABLE_FIELDS = ("name", "gender", "ethnicity", "birth_date", "education", "id_number", "phone", "post",
                   "group", "joined_on")
AUDITED_FIELDS = ("name", "gender", "ethnicity", "birth_date", "education", "id_number_masked",
                  "phone_masked", "post", "status", "state", "unit", "group", "joined_on")
MEMBER_UNIT_KINDS = {UnitKind.BRANCH, UnitKind.GENERAL_BRANCH, UnitKind.COMMITTEE}


def set_identity(member: Member, id_number: str | None, phone: str | None) -> None:
    """Validate and store the ID number and phone: encrypted, hashed for matching, and masked."""
    if id_number is not None:
        if id_number.strip():
            number = idnumber.validate(id_number, member.birth_date, member.gender or None)
            member.id_number_encrypted = crypto.encrypt(number)
            member.id_number_hash = crypto.lookup_hash(number)
            member.id_number_masked = idnumber.mask(number)
            if member.birth_date is None:
                member.birth_date = idnumber.birth_date_of(number)
        else:
            member.id_number_encrypted, member.id_number_hash, member.id_number_masked = "", None, ""
    if phone is not None:
        phone = phone.strip()
        if phone and not phone.replace("-", "").replace("+", "").isdigit():
            raise ValidationError(_("A phone number holds digits only."))
        member.phone_encrypted = crypto.encrypt(phone)
        member.phone_masked = idnumber.mask_phone(phone)


def set_name(member: Member, name: str) -> None:
    if text.is_blank(name or ""):
        raise ValidationError(_("A person needs a name."))
    name = text.name(name, text.label(Member, "name"), max_length=text.NAME)
    member.name = name
    member.name_pinyin = pinyin.full(name)
    member.name_initials = pinyin.initials(name)


def check_texts(member: Member) -> None:
    """User text and the birth date, by the one validator (pbqms.core.text)."""
    text.check_model(member, ("ethnicity", "post"))
    text.birth_date(member.birth_date)


def check_unit_and_group(unit: Unit, group: Unit | None) -> None:
    if unit.kind not in MEMBER_UNIT_KINDS:
        raise ValidationError(_("People belong to a branch (or a committee or general branch), not a party group."))
    if not unit.is_active:
        raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": unit.name})
    if group is not None and (group.kind != UnitKind.GROUP or group.parent_id != unit.pk):
        raise ValidationError(_("The party group must be one of the unit's own groups."))


def id_number_taken(number: str, exclude_pk: int | None = None) -> bool:
    qs = Member.objects.filter(id_number_hash=crypto.lookup_hash(idnumber.normalise(number)))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


@transaction.atomic
def create_member(actor: Any, *, unit: Unit, name: str, gender: str, status: str,
                  status_date: dt.date | None = None, id_number: str = "", phone: str = "",
                  birth_date: dt.date | None = None, ethnicity: str = "汉族", education: str = "",
                  post: str = "", group: Unit | None = None, joined_on: dt.date | None = None) -> Member:
    if actor is not None:
        scope.require_member_write_in(actor, unit)
    check_unit_and_group(unit, group)
    if status not in PartyStatus.values:
        raise ValidationError(_("Unknown party status “%(s)s”.") % {"s": status})
    member = Member(gender=gender, status=status, unit=unit, group=group, org_path=unit.path,
                    birth_date=birth_date, ethnicity=ethnicity or "汉族", education=education, post=post,
                    joined_on=joined_on)
    set_name(member, name)
    check_texts(member)
    set_identity(member, id_number, phone)
    if member.id_number_hash and id_number_taken(id_number):
        raise ValidationError(_("A person with this ID number is already on the roster."))
    member.save()
    tally.person_changed(None, PersonFacts.of(member))
    if status != PartyStatus.MASSES:
        StatusStep.objects.create(member=member, status=status, date=status_date or joined_on or dt.date.today())
    audit.record(actor, AuditAction.CREATE, member, audit.created(audit.snapshot(member, AUDITED_FIELDS)))
    return member


@transaction.atomic
def update_member(actor: Any, member: Member, **changes: Any) -> Member:
    if actor is not None:
        scope.require_member_write(actor, member)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(member, AUDITED_FIELDS)
    facts_before = tally.stored_facts(member.pk)
    id_number = changes.pop("id_number", None)
    phone = changes.pop("phone", None)
    if "name" in changes:
        set_name(member, changes.pop("name"))
    for k, v in changes.items():
        setattr(member, k, v)
    check_unit_and_group(member.unit, member.group)
    check_texts(member)
    if id_number is None and member.id_number_encrypted and ("birth_date" in changes or "gender" in changes):
        id_number = crypto.decrypt(member.id_number_encrypted)  # re-check consistency with the new facts
    set_identity(member, id_number, phone)
    if id_number and id_number_taken(id_number, exclude_pk=member.pk):
        raise ValidationError(_("A person with this ID number is already on the roster."))
    member.save()
    tally.person_changed(facts_before, PersonFacts.of(member))
    delta = audit.diff(before, audit.snapshot(member, AUDITED_FIELDS))
    if delta:
        audit.record(actor, AuditAction.UPDATE, member, delta)
    return member


@transaction.atomic
def advance_status(actor: Any, member: Member, new_status: str, *, date: dt.date, note: str = "") -> Member:
    """Move a person one step along 申请人 → 入党积极分子 → 发展对象 → 预备党员 → 正式党员.

    A member of the masses may become an applicant. Steps cannot be skipped or reversed here:
    《发展党员工作细则》 requires each stage in turn; corrections go through the history.
    """
    if actor is not None:
        scope.require_member_write(actor, member)
    if member.state != MemberState.ACTIVE:
        raise ValidationError(_("Only people whose organisational relation is here can change status."))
    current = member.status
    allowed = next_status(current)
    if allowed is None:
        raise ValidationError(_("A full member has no further step."))
    if new_status != allowed:
        raise ValidationError(_("The next step from “%(cur)s” is “%(next)s”.")
                              % {"cur": PartyStatus(current).label, "next": PartyStatus(allowed).label})
    last = member.status_steps.order_by("-date").first()
    if last and date < last.date:
        raise ValidationError(_("The date cannot be before the previous step (%(d)s).") % {"d": last.date})
    if date > dt.date.today():
        raise ValidationError(_("The date cannot be in the future."))
    text.check(note, text.label(StatusStep, "note"), max_length=255)
    StatusStep.objects.create(member=member, status=new_status, date=date, note=note)
    facts_before = tally.stored_facts(member.pk)
    member.status = new_status
    if new_status == PartyStatus.PROBATIONARY and member.joined_on is None:
        member.joined_on = date
    member.save(update_fields=["status", "joined_on", "updated_at"])
    tally.person_changed(facts_before, PersonFacts.of(member))
    audit.record(actor, AuditAction.STATUS, member, {"status": [current, new_status]}, note=note)
    return member


@transaction.atomic
def assign_committee_role(actor: Any, member: Member, unit: Unit, role: str, *, started_on: dt.date) -> CommitteeRole:
    """Appoint a person to a post on a unit's committee (or as a group's leader)."""
    if actor is not None:
        scope.require_unit_write(actor, unit) if unit.kind != UnitKind.BRANCH and unit.kind != UnitKind.GROUP \
            else scope.require_member_write_in(actor, unit)
    if role not in CommitteeRoleKind.values:
        raise ValidationError(_("Unknown committee post."))
    if not member.org_path.startswith(unit.path) and member.group_id != unit.pk:
        raise ValidationError(_("Only people of this unit can hold a post on its committee."))
    if member.status not in (PartyStatus.FULL, PartyStatus.PROBATIONARY):
        raise ValidationError(_("Only party members can hold a committee post."))
    if role == CommitteeRoleKind.GROUP_LEADER and unit.kind != UnitKind.GROUP:
        raise ValidationError(_("A party group leader leads a party group."))
    if role in (CommitteeRoleKind.SECRETARY, CommitteeRoleKind.GROUP_LEADER) and CommitteeRole.objects.filter(
            unit=unit, role=role, ended_on__isnull=True).exists():
        raise ValidationError(_("The unit already has a serving %(role)s; end that term first.")
                              % {"role": CommitteeRoleKind(role).label})
    post = CommitteeRole.objects.create(member=member, unit=unit, role=role, started_on=started_on)
    audit.record(actor, AuditAction.UPDATE, member,
                 {"committee_role": [None, f"{unit} · {post.get_role_display()}"]})
    return post


@transaction.atomic
def end_committee_role(actor: Any, post: CommitteeRole, *, ended_on: dt.date) -> CommitteeRole:
    if actor is not None:
        scope.require_member_write_in(actor, post.unit) if post.unit.kind in (UnitKind.BRANCH, UnitKind.GROUP) \
            else scope.require_unit_write(actor, post.unit)
    if post.ended_on:
        raise ValidationError(_("This term has already ended."))
    if ended_on < post.started_on:
        raise ValidationError(_("A term cannot end before it starts."))
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    audit.record(actor, AuditAction.UPDATE, post.member,
                 {"committee_role": [f"{post.unit} · {post.get_role_display()}", None]})
    return post


def _end_posts(member: Member, on: dt.date) -> None:
    CommitteeRole.objects.filter(member=member, ended_on__isnull=True).update(ended_on=on)


@transaction.atomic
def transfer_internal(actor: Any, member: Member, to_unit: Unit, *, date: dt.date, reason: str = "",
                      group: Unit | None = None) -> Transfer:
    """Move a person's organisational relation to another unit of this system (内部转接)."""
    if actor is not None:
        scope.require_member_write(actor, member)
        scope.require_member_write_in(actor, to_unit)
    if member.state != MemberState.ACTIVE:
        raise ValidationError(_("Only people whose organisational relation is here can be transferred."))
    if to_unit.pk == member.unit_id:
        raise ValidationError(_("The person already belongs to this unit."))
    check_unit_and_group(to_unit, group)
    from_unit = member.unit
    text.check(reason, text.label(Transfer, "reason"), max_length=255)
    transfer = Transfer.objects.create(member=member, direction=TransferDirection.INTERNAL, from_unit=from_unit,
                                       to_unit=to_unit, date=date, reason=reason,
                                       recorded_by=actor if getattr(actor, "pk", None) else None)
    _end_posts(member, date)
    facts_before = tally.stored_facts(member.pk)
    member.unit, member.group, member.org_path = to_unit, group, to_unit.path
    member.save(update_fields=["unit", "group", "org_path", "updated_at"])
    tally.person_changed(facts_before, PersonFacts.of(member))
    audit.record(actor, AuditAction.TRANSFER, member, {"unit": [str(from_unit), str(to_unit)]}, note=reason)
    return transfer


@transaction.atomic
def transfer_out(actor: Any, member: Member, *, external_org: str, date: dt.date, letter_number: str = "",
                 reason: str = "") -> Transfer:
    """Send a person's organisational relation out of the system (转出). The record stays readable."""
    if actor is not None:
        scope.require_member_write(actor, member)
    if member.state != MemberState.ACTIVE:
        raise ValidationError(_("Only people whose organisational relation is here can be transferred."))
    if not external_org.strip():
        raise ValidationError(_("Name the organisation the relation goes to."))
    _check_transfer_texts(external_org, letter_number, reason)
    transfer = Transfer.objects.create(member=member, direction=TransferDirection.OUT, from_unit=member.unit,
                                       external_org=external_org.strip(), date=date, letter_number=letter_number,
                                       reason=reason, recorded_by=actor if getattr(actor, "pk", None) else None)
    _end_posts(member, date)
    facts_before = tally.stored_facts(member.pk)
    member.state = MemberState.TRANSFERRED_OUT
    member.save(update_fields=["state", "updated_at"])
    tally.person_changed(facts_before, PersonFacts.of(member))
    audit.record(actor, AuditAction.TRANSFER, member, {"state": [MemberState.ACTIVE, member.state]},
                 note=external_org)
    return transfer


@transaction.atomic
def transfer_in(actor: Any, member: Member, to_unit: Unit, *, external_org: str, date: dt.date,
                letter_number: str = "", group: Unit | None = None) -> Transfer:
    """Receive a person's relation from outside (转入): a new record, or one that left before."""
    if actor is not None:
        scope.require_member_write_in(actor, to_unit)
    check_unit_and_group(to_unit, group)
    if member.pk and member.state == MemberState.ACTIVE:
        raise ValidationError(_("The person's organisational relation is already here."))
    _check_transfer_texts(external_org, letter_number, "")
    transfer = Transfer.objects.create(member=member, direction=TransferDirection.IN, to_unit=to_unit,
                                       external_org=external_org.strip(), date=date, letter_number=letter_number,
                                       recorded_by=actor if getattr(actor, "pk", None) else None)
    old_state = member.state
    facts_before = tally.stored_facts(member.pk) if member.pk else None
    member.unit, member.group, member.org_path, member.state = to_unit, group, to_unit.path, MemberState.ACTIVE
    member.save(update_fields=["unit", "group", "org_path", "state", "updated_at"])
    tally.person_changed(facts_before, PersonFacts.of(member))
    audit.record(actor, AuditAction.TRANSFER, member, {"state": [old_state, MemberState.ACTIVE],
                                                       "unit": [None, str(to_unit)]}, note=external_org)
    return transfer


def _check_transfer_texts(external_org: str, letter_number: str, reason: str) -> None:
    text.check(external_org, text.label(Transfer, "external_org"), max_length=200)
    text.check(letter_number, text.label(Transfer, "letter_number"), max_length=60)
    text.check(reason, text.label(Transfer, "reason"), max_length=255)


def reveal_id_number(actor: Any, member: Member) -> str:
    """The ID number in clear, for the roles that need it; every reveal is logged."""
    if not scope.can_see_id_number(actor, member):
        raise scope.PermissionDenied
    audit.record(actor, AuditAction.REVEAL, member, {}, note="id_number")
    return crypto.decrypt(member.id_number_encrypted)


def reveal_phone(actor: Any, member: Member) -> str:
    if not (scope.can_write_member(actor, member) or member.pk == scope.get_scope(actor).self_member_id):
        raise scope.PermissionDenied
    audit.record(actor, AuditAction.REVEAL, member, {}, note="phone")
    return crypto.decrypt(member.phone_encrypted)
