"""The write phase of a roster import: bulk inserts and updates, one audit entry per record.

Runs inside the caller's transaction, after the checks found nothing wrong; it applies the
same rules as orgs.services and members.services (materialised paths, encrypted and hashed ID
numbers, pinyin, status steps) in batches instead of one record at a time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.members import services as member_services
from pbqms.members.models import PARTY_MEMBER_STATUSES, Member, PartyStatus, StatusStep
from pbqms.orgs import services as org_services
from pbqms.orgs import tally
from pbqms.orgs.models import BranchVariant, Unit, path_segment

from . import bulk
from .importer import CHUNK, WRITING, Importer, MRow, chunks

UNIT_UPDATE_FIELDS = ["name", "variant", "order", "founded_on", "department", "updated_at"]
MEMBER_UPDATE_FIELDS = ["name", "name_pinyin", "name_initials", "gender", "ethnicity", "birth_date", "education",
                        "id_number_encrypted", "id_number_hash", "id_number_masked", "phone_encrypted",
                        "phone_masked", "post", "status", "group", "joined_on", "updated_at"]
UPDATE_CHUNK = 500
STEP_FIELDS = ("member", "status", "date", "note")
AUDIT_FIELDS = ("id", "at", "actor", "actor_name", "ip", "action", "model", "object_id", "object_repr", "changes",
                "note", "org_path")


class Created:
    """audit.created(audit.snapshot(obj, fields)), with the field lookups done once, not per record."""

    def __init__(self, model: type[models.Model], fields: Iterable[str]):
        self.spec = []
        for name in fields:
            f = model._meta.get_field(name)
            by_name = isinstance(f, models.ForeignKey) or not isinstance(f, models.Field)
            attr = f.attname if isinstance(f, models.Field) and not by_name else name
            self.spec.append((name, attr, by_name))

    def __call__(self, obj: models.Model) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for name, attr, by_name in self.spec:
            v = getattr(obj, attr)
            if v is None or v == "":
                continue
            if by_name:
                v = str(v)
            elif isinstance(v, dt.date):
                v = v.isoformat()
            out[name] = [None, v]
        return out


UNIT_CREATED = Created(Unit, org_services.AUDITED_FIELDS)
MEMBER_CREATED = Created(Member, member_services.AUDITED_FIELDS)


class Writer:
    def __init__(self, imp: Importer):
        self.imp = imp
        self.actor = imp.actor
        self.created: dict[str, Unit] = {}
        self.done = 0
        self.tally: tally.Deltas = Counter()  # subtree totals, applied once at the end
        self.total = (imp.summary["units_created"] + imp.summary["units_updated"]
                      + len(imp.new_members) + len(imp.changed_members))

    def unit(self, code: str) -> Unit:
        return self.imp.db_units.get(code) or self.created[code]

    def step(self, n: int) -> None:
        self.done += n
        self.imp.progress(WRITING, self.done, self.total)

    def run(self) -> None:
        self.imp.progress(WRITING, 0, self.total)
        self.create_units()
        self.update_units()
        for part in chunks(self.imp.new_members, CHUNK):
            self.create_members(part)
        for part in chunks(self.imp.changed_members, UPDATE_CHUNK):
            self.update_members(part)
        tally.apply(self.tally)

    # ---- units -----------------------------------------------------------------------------

    def create_units(self) -> None:
        """Parents before children: a unit's path is its parent's path and its own reserved key."""
        rows = sorted((r for r in self.imp.new_units.values() if r.ok), key=lambda r: r.level)
        made: list[Unit] = []
        for pk, r in zip(bulk.reserve_ids(Unit, len(rows)), rows, strict=True):
            assert r.code and r.name and r.kind  # checked
            parent = self.unit(r.parent) if r.parent else None
            u = Unit(pk=pk, code=r.code, name=r.name, kind=r.kind, variant=r.variant or BranchVariant.REGULAR,
                     parent=parent, order=r.order or 0, founded_on=r.founded_on, department=r.department or "",
                     path=(parent.path if parent else "") + path_segment(pk),
                     depth=(parent.depth + 1) if parent else 0)
            self.created[u.code] = u
            made.append(u)
            for uid in tally.path_ids(u.path):
                self.tally[(uid, tally.UNIT + u.kind)] += 1
        bulk.insert_objects(Unit, made)
        self.audit(AuditAction.CREATE, ((u, UNIT_CREATED(u)) for u in made))
        self.step(len(made))

    def audit(self, action: str, items: Iterable[tuple[Any, dict[str, list[Any]]]]) -> None:
        """One entry per record, as audit.services.record_many writes them (the actor, address and
        record type from audit.services itself), loaded with COPY."""
        items = list(items)
        if not items:
            return
        first = audit._entry(self.actor, action, items[0][0], {}, "")
        now = timezone.now()
        rows = [(pk, now, first.actor_id, first.actor_name, first.ip, action, first.model, str(obj.pk),
                 str(obj)[:200], changes, "", getattr(obj, "org_path", None) or getattr(obj, "path", None) or "")
                for pk, (obj, changes) in zip(bulk.reserve_ids(AuditEntry, len(items)), items, strict=True)]
        bulk.insert_rows(AuditEntry, AUDIT_FIELDS, rows)

    def update_units(self) -> None:
        now = timezone.now()
        items = []
        for r in self.imp.urows:
            if r.row > 0 and r.ok and r.unit is not None and r.changes:
                u = r.unit
                before = audit.snapshot(u, org_services.AUDITED_FIELDS)
                for key, value in r.changes.items():
                    setattr(u, key, value)
                u.updated_at = now
                items.append((u, audit.diff(before, audit.snapshot(u, org_services.AUDITED_FIELDS))))
        Unit.objects.bulk_update([u for u, _ in items], UNIT_UPDATE_FIELDS, batch_size=UPDATE_CHUNK)
        self.audit(AuditAction.UPDATE, items)
        self.step(len(items))

    # ---- people ----------------------------------------------------------------------------

    def create_members(self, part: list[MRow]) -> None:
        objs = []
        for pk, r in zip(bulk.reserve_ids(Member, len(part)), part, strict=True):
            assert r.unit and r.name and r.gender and r.status  # checked
            unit = self.unit(r.unit)
            joined = r.joined_on
            if joined is None and r.status in PARTY_MEMBER_STATUSES:
                joined = r.new_steps.get(PartyStatus.PROBATIONARY)
            group = self.unit(r.group) if r.group else None
            m = Member(pk=pk, gender=r.gender, status=r.status, unit=unit, group=group, org_path=unit.path,
                       birth_date=r.birth_date, ethnicity=r.ethnicity or "汉族",
                       education=r.education or "", post=r.post or "", joined_on=joined)
            member_services.set_name(m, r.name)
            member_services.set_identity(m, r.id_number or "", r.phone or "")
            objs.append(m)
            tally.person_deltas(tally.PersonFacts.of(m), +1, self.tally)
        bulk.insert_objects(Member, objs)
        bulk.insert_rows(StatusStep, STEP_FIELDS, [(m.pk, st, d, "") for m, r in zip(objs, part, strict=True)
                                                   for st, d in r.new_steps.items()])
        self.audit(AuditAction.CREATE, ((m, MEMBER_CREATED(m)) for m in objs))
        self.step(len(part))

    def update_members(self, part: list[MRow]) -> None:
        now = timezone.now()
        objs = Member.objects.select_related("unit", "group").in_bulk([r.match for r in part])
        items: list[tuple[Member, dict[str, list[Any]]]] = []
        new_steps: list[StatusStep] = []
        moved_steps: list[StatusStep] = []
        for r in part:
            m = objs[r.match]
            before = audit.snapshot(m, member_services.AUDITED_FIELDS)
            tally.person_deltas(tally.PersonFacts.of(m), -1, self.tally)
            changes = dict(r.changes)
            if "name" in changes:
                member_services.set_name(m, changes.pop("name"))
            id_number = changes.pop("id_number", None)
            phone = changes.pop("phone", None)
            if "group" in changes:
                m.group = self.unit(changes.pop("group"))
            for key, value in changes.items():
                setattr(m, key, value)
            if m.joined_on is None and m.status in PARTY_MEMBER_STATUSES:
                m.joined_on = r.new_steps.get(PartyStatus.PROBATIONARY)
            if id_number is not None or phone is not None:
                member_services.set_identity(m, id_number, phone)
            m.updated_at = now
            tally.person_deltas(tally.PersonFacts.of(m), +1, self.tally)
            delta = audit.diff(before, audit.snapshot(m, member_services.AUDITED_FIELDS))
            for st, d in r.new_steps.items():
                new_steps.append(StatusStep(member=m, status=st, date=d))
                delta[f"status_step:{st}"] = [None, d.isoformat()]
            for step_pk, (st, old, new) in r.moved_steps.items():
                moved_steps.append(StatusStep(pk=step_pk, date=new))
                delta[f"status_step:{st}"] = [_iso(old), new.isoformat()]
            items.append((m, delta))
        Member.objects.bulk_update(list(objs.values()), MEMBER_UPDATE_FIELDS, batch_size=UPDATE_CHUNK)
        StatusStep.objects.bulk_create(new_steps, batch_size=CHUNK)
        StatusStep.objects.bulk_update(moved_steps, ["date"], batch_size=UPDATE_CHUNK)
        self.audit(AuditAction.UPDATE, items)
        self.step(len(part))


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
