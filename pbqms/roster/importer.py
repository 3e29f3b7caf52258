"""Roster import — 花名册导入: read every row, check every row, then write all of it or nothing.

Three phases, each reporting progress:
1. reading: stream both sheets with openpyxl's read-only mode, parsing each cell as it comes
   (bad cells are reported, never guessed);
2. checking: cross-row rules (duplicates), then the rows against the roster, prefetched in bulk
   (units by code, people by ID-number hash or record ID, their status steps) so no row costs a
   query of its own: placement, groups, scope, the development ladder, what changes;
3. writing (only when nothing is wrong and it is not a dry run): one transaction, bulk inserts and
   updates in batches, one audit entry per created or changed record, and one for the import.

Units are matched by code and people by ID number (its keyed hash), or by the record ID an
export carries (its ID numbers are masked). Identical rows change nothing, so importing the same
file twice changes nothing. An empty cell keeps what the roster holds.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.core import crypto
from pbqms.members import idnumber
from pbqms.members.models import STATUS_LADDER, Member, PartyStatus, StatusStep
from pbqms.members.services import MEMBER_UNIT_KINDS
from pbqms.orgs.models import BranchVariant, Unit, UnitKind
from pbqms.orgs.services import check_placement

from . import columns as C
from .parsing import (  # noqa: F401  (the writer and services use these from here)
    CHECKING,
    CHUNK,
    IN_CHUNK,
    READING,
    WRITING,
    MRow,
    Parser,
    Progress,
    Sheet,
    URow,
    chunks,
)


class Existing(NamedTuple):
    pk: int
    name: str
    gender: str
    ethnicity: str
    birth_date: dt.date | None
    education: str
    id_number_hash: str | None
    id_number_masked: str
    phone_encrypted: str
    phone_masked: str
    post: str
    status: str
    unit_id: int
    group_id: int | None
    org_path: str
    joined_on: dt.date | None


EXISTING_FIELDS = Existing._fields


class UnitRef(NamedTuple):
    code: str
    name: str
    kind: str
    active: bool
    parent_code: str | None
    anchor: Unit | None  # the unit itself when it exists, else its nearest existing ancestor
    exists: bool


class Importer(Parser):
    """Checks the rows read against the roster and plans what to write (writer.py writes it)."""

    # ---- 2. checking -----------------------------------------------------------------------

    def check(self) -> None:
        total = len(self.urows) + len(self.mrows)
        self.progress(CHECKING, 0, total)
        self._duplicates()
        self._prefetch_units()
        self._check_units()
        done = len(self.urows)
        members = self.sheets.get("members")
        for part in chunks(self.mrows, CHUNK):
            ctx = self._prefetch_members(part)
            for r in part:
                if r.row >= 0 and members is not None:
                    self._check_member(members, r, ctx)
            done += len(part)
            self.progress(CHECKING, done, total)
        self.mrows = []  # what is left to do is in new_members and changed_members
        self.summary["members_created"] = len(self.new_members)
        self.summary["members_updated"] = len(self.changed_members)

    def _duplicates(self) -> None:
        units = self.sheets.get("units")
        seen: dict[str, int] = {}
        for r in self.urows:
            if r.code is None:
                continue
            if r.code in seen:
                self.error(units, r.row, "code", _("The code “%(code)s” is already used on row %(row)s.")
                           % {"code": r.code, "row": seen[r.code]})
                r.ok = False
                r.row = -r.row  # checked no further
            else:
                seen[r.code] = r.row
        members = self.sheets.get("members")
        by_hash: dict[str, int] = {}
        by_record: dict[int, int] = {}
        by_name: dict[tuple[str, str], int] = {}
        for m in self.mrows:
            dup = None
            if m.id_hash is not None:
                if m.id_hash in by_hash:
                    dup = ("id_number", _("The same ID number is already on row %(row)s.")
                           % {"row": by_hash[m.id_hash]})
                else:
                    by_hash[m.id_hash] = m.row
            if m.record_id is not None and dup is None:
                if m.record_id in by_record:
                    dup = ("record_id", _("The same record ID is already on row %(row)s.")
                           % {"row": by_record[m.record_id]})
                else:
                    by_record[m.record_id] = m.row
            if (dup is None and m.id_hash is None and m.id_masked is None and m.record_id is None
                    and m.name and m.unit and "id_number" not in m.bad):
                key = (m.unit, m.name)
                if key in by_name:
                    dup = ("name", _("The same person (name and unit, no ID number) is already on row %(row)s.")
                           % {"row": by_name[key]})
                else:
                    by_name[key] = m.row
            if dup is not None:
                self.error(members, m.row, dup[0], dup[1])
                m.row = -m.row

    def _fetch_units(self, q_field: str, values: Iterable[Any]) -> list[Unit]:
        found: list[Unit] = []
        for part in chunks(list(values), IN_CHUNK):
            found.extend(Unit.objects.filter(**{f"{q_field}__in": part}))
        for u in found:
            self.unit_by_pk[u.pk] = u
            self.db_units[u.code] = u
        return found

    def _ensure_parents(self, units: Iterable[Unit]) -> None:
        missing = {u.parent_id for u in units if u.parent_id and u.parent_id not in self.unit_by_pk}
        if missing:
            self._fetch_units("pk", missing)

    def _code_of(self, pk: int | None) -> str | None:
        return self.unit_by_pk[pk].code if pk is not None and pk in self.unit_by_pk else None

    def _prefetch_units(self) -> None:
        codes = {c for r in self.urows for c in (r.code, r.parent) if c}
        codes |= {c for m in self.mrows for c in (m.unit, m.group) if c}
        found = self._fetch_units("code", codes)
        self._ensure_parents(found)

    # -- units --

    def _check_units(self) -> None:
        sheet = self.sheets.get("units")
        if sheet is None:
            return
        todo = [r for r in self.urows if r.row > 0]
        for r in todo:
            if r.code and r.code in self.db_units:
                r.unit = self.db_units[r.code]
            elif r.code:
                self.new_units[r.code] = r
        for r in todo:
            before = len(self.errors)
            if r.unit is not None:
                self._check_existing_unit(sheet, r, r.unit)
            else:
                self._check_new_unit(sheet, r)
            if len(self.errors) > before or r.bad:
                r.ok = False
                if r.code:
                    self.bad_unit_codes.add(r.code)
            elif r.unit is None:
                self.summary["units_created"] += 1
            elif r.changes:
                self.summary["units_updated"] += 1
            else:
                self.summary["units_unchanged"] += 1

    def _check_existing_unit(self, sheet: Sheet, r: URow, unit: Unit) -> None:
        actor = self.actor
        if actor is not None and not scope.can_read_unit(actor, unit):
            self.error(sheet, r.row, "code", _("The code “%(code)s” is already used by a unit outside your "
                                               "scope.") % {"code": r.code})
            return
        if r.kind and r.kind != unit.kind:
            self.error(sheet, r.row, "kind", _("The unit is a %(kind)s on the roster; its kind cannot change "
                                               "by import.") % {"kind": C.KIND.label(unit.kind)})
        current_parent = self._code_of(unit.parent_id)
        if r.parent is not None and r.parent != current_parent:
            self.error(sheet, r.row, "parent", _("The unit sits under “%(parent)s” on the roster; move it on "
                                                 "its page, not by import.") % {"parent": current_parent or "—"})
        changes: dict[str, Any] = {}
        for key in ("name", "order", "founded_on", "department"):
            value = getattr(r, key)
            if value is not None and value != getattr(unit, key):
                changes[key] = value
        if r.variant is not None and r.variant != unit.variant:
            if unit.kind != UnitKind.BRANCH:
                self.error(sheet, r.row, "variant", _("Only a branch can be a joint or temporary branch."))
            else:
                changes["variant"] = r.variant
        if changes and actor is not None and not scope.can_write_unit(actor, unit):
            self.error(sheet, r.row, "code", _("You may not change the unit “%(code)s”.") % {"code": r.code})
        r.changes = changes

    def _check_new_unit(self, sheet: Sheet, r: URow) -> None:
        for key in C.UNIT_REQUIRED:
            if getattr(r, key) is None and key not in r.bad:
                self.error(sheet, r.row, key, _("This cell must be filled in."))
        if r.kind is None:
            return
        if r.kind != UnitKind.BRANCH and r.variant not in (None, BranchVariant.REGULAR):
            self.error(sheet, r.row, "variant", _("Only a branch can be a joint or temporary branch."))
        # Walk up through the file's new units to the nearest unit on the roster.
        chain: list[str] = []
        code: str | None = r.parent
        parent: Unit | None = None
        while code is not None:
            if code in self.db_units:
                r.anchor = self.db_units[code]
                break
            up = self.new_units.get(code)
            if up is None or "parent" in r.bad:
                if "parent" not in r.bad:
                    self.error(sheet, r.row, "parent", _("No unit you can see has the code “%(code)s”.")
                               % {"code": code})
                return
            if code in chain or code == r.code:
                self.error(sheet, r.row, "parent", _("The chain of parent units loops back to this unit."))
                return
            chain.append(code)
            code = up.parent
        r.level = len(chain)
        if r.parent is None:
            parent = None
        elif r.parent in self.db_units:
            parent = self.db_units[r.parent]
            if self.actor is not None and not scope.can_read_unit(self.actor, parent):
                self.error(sheet, r.row, "parent", _("No unit you can see has the code “%(code)s”.")
                           % {"code": r.parent})
                return
        else:
            up = self.new_units[r.parent]
            if up.kind is None:
                return  # its own row reports the problem
            parent = Unit(code=up.code or "", name=up.name or "", kind=up.kind)
        try:
            check_placement(r.kind, parent)
        except ValidationError as err:
            self.error(sheet, r.row, "parent" if parent is not None else "kind", err.messages[0])
            return
        if self.actor is None:
            return
        if r.anchor is None:
            if not scope.can_create_root(self.actor):
                self.error(sheet, r.row, "parent", _("Only an administrator can add a top-level unit."))
        elif not scope.can_write_unit(self.actor, r.anchor):
            self.error(sheet, r.row, "parent", _("You may not add units under “%(code)s”.") % {"code": r.parent})

    def _unit_ref(self, code: str) -> UnitRef | None:
        u = self.db_units.get(code)
        if u is not None:
            if self.actor is not None and not scope.can_read_unit(self.actor, u):
                return None
            return UnitRef(u.code, u.name, u.kind, u.is_active, self._code_of(u.parent_id), u, True)
        r = self.new_units.get(code)
        if r is not None and r.ok and r.kind:
            return UnitRef(code, r.name or "", r.kind, True, r.parent, r.anchor, False)
        return None

    # -- people --

    def _prefetch_members(self, part: list[MRow]) -> dict[str, Any]:
        by_pk: dict[int, Existing] = {}
        by_hash: dict[str, Existing] = {}
        by_name: dict[tuple[int, str], list[Existing]] = {}
        hashes = [r.id_hash for r in part if r.id_hash]
        pks = [r.record_id for r in part if r.record_id is not None]
        names = [r.name for r in part if r.row > 0 and r.id_hash is None and r.id_masked is None
                 and r.record_id is None and r.name]
        found: list[Existing] = []
        for field_name, values in (("id_number_hash", hashes), ("pk", pks)):
            for sub in chunks(values, IN_CHUNK):
                found.extend(Existing(*t) for t in Member.objects.filter(**{f"{field_name}__in": sub})
                             .values_list(*EXISTING_FIELDS))
        for sub in chunks(sorted(set(names)), IN_CHUNK):
            for t in Member.objects.filter(name__in=sub, id_number_hash__isnull=True).values_list(*EXISTING_FIELDS):
                ex = Existing(*t)
                by_name.setdefault((ex.unit_id, ex.name), []).append(ex)
                found.append(ex)
        for ex in found:
            by_pk[ex.pk] = ex
            if ex.id_number_hash:
                by_hash[ex.id_number_hash] = ex
        steps: dict[int, dict[str, tuple[dt.date, int]]] = {}
        for sub in chunks(list(by_pk), IN_CHUNK):
            for member_id, status, date, step_pk in StatusStep.objects.filter(member_id__in=sub).values_list(
                    "member_id", "status", "date", "pk"):
                steps.setdefault(member_id, {})[status] = (date, step_pk)
        unit_ids = {i for ex in found for i in (ex.unit_id, ex.group_id) if i and i not in self.unit_by_pk}
        if unit_ids:
            self._ensure_parents(self._fetch_units("pk", unit_ids))
        return {"by_pk": by_pk, "by_hash": by_hash, "by_name": by_name, "steps": steps}

    def _check_member(self, sheet: Sheet, r: MRow, ctx: dict[str, Any]) -> None:
        ex: Existing | None = None
        if r.record_id is not None:
            ex = ctx["by_pk"].get(r.record_id)
            if ex is None or not self._readable(ex):
                self.error(sheet, r.row, "record_id", _("No person you can see has the record ID %(id)s.")
                           % {"id": r.record_id})
                return
        if r.id_hash is not None:
            other = ctx["by_hash"].get(r.id_hash)
            if ex is None:
                ex = other
            elif other is not None and other.pk != ex.pk:
                self.error(sheet, r.row, "id_number", _("The ID number belongs to another person on the roster."))
                return
        elif r.id_masked is not None:
            if ex is None:
                self.error(sheet, r.row, "id_number", _("The ID number is masked; give it in full, or keep the "
                                                        "record ID column of the exported file."))
                return
            if idnumber.remask(r.id_masked) != ex.id_number_masked:
                self.error(sheet, r.row, "id_number", _("The masked ID number does not match the person's record."))
                return
        elif ex is None and r.name and r.unit and "id_number" not in r.bad:
            unit = self.db_units.get(r.unit)
            same = ctx["by_name"].get((unit.pk, r.name), []) if unit is not None else []
            if len(same) > 1:
                self.error(sheet, r.row, "name", _("Several people named “%(name)s” without an ID number are in "
                                                   "this unit; add the record ID column to tell them apart.")
                           % {"name": r.name})
                return
            ex = same[0] if same else None
        if ex is None:
            self._check_new_member(sheet, r)
        else:
            self._check_existing_member(sheet, r, ex, ctx["steps"].get(ex.pk, {}))

    def _readable(self, ex: Existing) -> bool:
        return self.actor is None or scope.can_read_member(
            self.actor, Member(pk=ex.pk, org_path=ex.org_path, group_id=ex.group_id))

    def _check_unit_of_person(self, sheet: Sheet, r: MRow) -> UnitRef | None:
        assert r.unit is not None
        ref = self._unit_ref(r.unit)
        if ref is None:
            if r.unit in self.bad_unit_codes:
                self.error(sheet, r.row, "unit", _("The unit “%(code)s” has problems on the units sheet.")
                           % {"code": r.unit})
            else:
                self.error(sheet, r.row, "unit", _("No unit you can see has the code “%(code)s”.")
                           % {"code": r.unit})
            return None
        if ref.kind not in MEMBER_UNIT_KINDS:
            self.error(sheet, r.row, "unit", _("People belong to a branch (or a committee or general branch), "
                                               "not a party group."))
            return None
        if not ref.active:
            self.error(sheet, r.row, "unit", _("The unit “%(name)s” is dissolved.") % {"name": ref.name})
            return None
        return ref

    def _check_group(self, sheet: Sheet, r: MRow, unit_code: str) -> None:
        assert r.group is not None
        g = self._unit_ref(r.group)
        if g is None:
            self.error(sheet, r.row, "group", _("No unit you can see has the code “%(code)s”.") % {"code": r.group})
        elif g.kind != UnitKind.GROUP or g.parent_code != unit_code:
            self.error(sheet, r.row, "group", _("The party group must be one of the unit's own groups."))
        elif not g.active:
            self.error(sheet, r.row, "group", _("The unit “%(name)s” is dissolved.") % {"name": g.name})

    def _check_identity(self, sheet: Sheet, r: MRow, number: str, birth: dt.date | None,
                        gender: str | None) -> None:
        try:
            idnumber.validate(number, birth, gender)
        except ValidationError as err:
            self.error(sheet, r.row, "id_number", err.messages[0])

    def _file_steps(self, sheet: Sheet, r: MRow, status: str) -> dict[str, dt.date]:
        """The status steps the row gives: the earlier-step columns and the current status's date."""
        steps: dict[str, dt.date] = {}
        cur = STATUS_LADDER.index(PartyStatus(status)) if status in STATUS_LADDER else -1
        for st, d in (r.steps or {}).items():
            key = C.STEP_COLUMN_OF[st]
            if cur < 0 or STATUS_LADDER.index(PartyStatus(st)) > cur:
                self.error(sheet, r.row, key, _("This step comes after the current status; leave the cell empty."))
            elif st == status and r.status_date is not None and r.status_date != d:
                self.error(sheet, r.row, "status_date", _("The status date differs from the date of the same "
                                                          "step."))
            else:
                steps[st] = d
        if r.status_date is not None:
            if cur < 0:
                self.error(sheet, r.row, "status_date", _("The masses have no status date; leave the cell empty."))
            else:
                steps[status] = r.status_date
        return steps

    def _check_step_order(self, sheet: Sheet, r: MRow, steps: dict[str, dt.date]) -> None:
        last: dt.date | None = None
        for st in STATUS_LADDER:
            d = steps.get(st)
            if d is None:
                continue
            if last is not None and d < last:
                key = C.STEP_COLUMN_OF.get(st, "status_date")
                if key not in self.sheets["members"].index:
                    key = "status_date"
                self.error(sheet, r.row, key, _("The dates of the status steps must not go backwards."))
                return
            last = d

    def _check_new_member(self, sheet: Sheet, r: MRow) -> None:
        before = len(self.errors)
        for key in C.MEMBER_REQUIRED:
            if getattr(r, key) is None and key not in r.bad:
                self.error(sheet, r.row, key, _("This cell must be filled in."))
        if r.status and r.status != PartyStatus.MASSES and r.id_number is None and "id_number" not in r.bad:
            self.error(sheet, r.row, "id_number", _("An ID number is required for everyone except the masses."))
        ref = self._check_unit_of_person(sheet, r) if r.unit else None
        if ref is not None:
            if r.group:
                self._check_group(sheet, r, ref.code)
            if self.actor is not None:
                anchor = ref.anchor
                if anchor is None or not scope.can_write_members_in(self.actor, anchor):
                    self.error(sheet, r.row, "unit", _("You may not add or change people in “%(code)s”.")
                               % {"code": ref.code})
        if r.id_number is not None:
            self._check_identity(sheet, r, r.id_number, r.birth_date, r.gender)
        if r.status:
            steps = self._file_steps(sheet, r, r.status)
            if r.status != PartyStatus.MASSES and r.status not in steps and "status_date" not in r.bad:
                if r.status == PartyStatus.PROBATIONARY and r.joined_on is not None:
                    steps[r.status] = r.joined_on
                else:
                    self.error(sheet, r.row, "status_date", _("Give the date of the current status."))
            self._check_step_order(sheet, r, steps)
            r.new_steps = steps
        if len(self.errors) == before and not r.bad:
            self.new_members.append(r)

    def _check_existing_member(self, sheet: Sheet, r: MRow, ex: Existing,
                               db_steps: dict[str, tuple[dt.date, int]]) -> None:
        actor = self.actor
        unit = self.unit_by_pk.get(ex.unit_id)
        unit_code = unit.code if unit is not None else ""
        if actor is not None:
            stub = Member(pk=ex.pk, org_path=ex.org_path, group_id=ex.group_id)
            if not scope.can_write_member(actor, stub):
                if scope.can_read_member(actor, stub):
                    self.error(sheet, r.row, "unit", _("You may not add or change people in “%(code)s”.")
                               % {"code": unit_code})
                else:
                    self.error(sheet, r.row, "id_number", _("A person with this ID number is on the roster "
                                                            "outside your scope."))
                return
        before = len(self.errors)
        if r.unit is not None and r.unit != unit_code:
            self.error(sheet, r.row, "unit", _("The person belongs to “%(code)s”; transfer them on their page, "
                                               "not by import.") % {"code": unit_code})
        changes: dict[str, Any] = {}
        for key in ("name", "gender", "ethnicity", "birth_date", "education", "post", "joined_on"):
            value = getattr(r, key)
            if value is not None and value != getattr(ex, key):
                changes[key] = value
        if r.group is not None and r.unit in (None, unit_code):
            self._check_group(sheet, r, unit_code)
            group = self.db_units.get(r.group)
            if group is None or group.pk != ex.group_id:
                changes["group"] = r.group
        if r.id_number is not None and r.id_hash != ex.id_number_hash:
            changes["id_number"] = r.id_number
        if r.phone is not None:
            if idnumber.mask_phone(r.phone) != ex.phone_masked or crypto.decrypt(ex.phone_encrypted) != r.phone:
                changes["phone"] = r.phone
        elif r.phone_masked is not None and r.phone_masked != ex.phone_masked:
            self.error(sheet, r.row, "phone", _("The phone number is masked; give it in full."))
        birth = r.birth_date or ex.birth_date
        gender = r.gender or ex.gender
        if r.id_number is not None:
            self._check_identity(sheet, r, r.id_number, birth, gender)
        elif ex.id_number_hash and ("birth_date" in changes or "gender" in changes):
            stored = crypto.decrypt(Member.objects.values_list("id_number_encrypted", flat=True).get(pk=ex.pk))
            self._check_identity(sheet, r, stored, birth, gender)
        status = r.status or ex.status
        if status != ex.status:
            if not _forward(ex.status, status):
                self.error(sheet, r.row, "status", _("The status cannot go back from “%(old)s” to “%(new)s” by "
                                                     "import; correct it on the person's page.")
                           % {"old": C.STATUS.label(ex.status), "new": C.STATUS.label(status)})
            changes["status"] = status
        steps = self._file_steps(sheet, r, status)
        if status != ex.status and status != PartyStatus.MASSES and status not in steps and status not in db_steps:
            self.error(sheet, r.row, "status_date", _("Give the date of the current status."))
        merged = {st: d for st, (d, _pk) in db_steps.items()}
        r.new_steps, r.moved_steps = {}, {}
        for st, d in steps.items():
            old = db_steps.get(st)
            if old is None:
                r.new_steps[st] = d
            elif old[0] != d:
                r.moved_steps[old[1]] = (st, old[0], d)
            merged[st] = d
        self._check_step_order(sheet, r, merged)
        if len(self.errors) > before or r.bad:
            return
        if changes or r.new_steps or r.moved_steps:
            r.match, r.changes = ex.pk, changes
            self.changed_members.append(r)
        else:
            self.summary["members_unchanged"] += 1


def _forward(old: str, new: str) -> bool:
    """Along the development ladder only (the masses may become applicants and beyond)."""
    if new not in STATUS_LADDER:
        return False
    if old == PartyStatus.MASSES:
        return True
    return old in STATUS_LADDER and STATUS_LADDER.index(PartyStatus(new)) > STATUS_LADDER.index(PartyStatus(old))
