"""Rules for controlled documents — 文件控制: numbering, drafts, review and approval, publication,
supersession and abolition. Distribution, acknowledgement, periodic review and the sweep live in
documents.circulation; the search index in documents.search.

Flow of a version: draft → (submit) in_review → (review: pass, or return to draft) →
(approve) approved → (publish) published, in force from its effective date → superseded by the
next version, or abolished with a reason. A published version never changes; a change is a new
version that says what changed and why. Nobody reviews or approves their own draft.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import clock
from pbqms.core import text as core_text
from pbqms.orgs.models import Unit

from . import search
from .models import (
    CONTENT_FIELDS,
    FIVE_W_FIELDS,
    SECTION_FIELDS,
    TIER_CODES,
    Applicability,
    ApprovalStep,
    Document,
    DocumentLink,
    DocumentVersion,
    LinkKind,
    NumberingPattern,
    StepDecision,
    StepKind,
    Tier,
    VersionStatus,
    section_labels,
)

DRAFT_FIELDS = ("title", "change_summary") + SECTION_FIELDS + FIVE_W_FIELDS
DOCUMENT_FIELDS = ("book_part", "order", "review_interval_months", "assessment_items", "include_subtree")
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)
PATTERN_FIELDS = {"seq", "year", "unit"}
# The four sections every procedure (程序文件) carries: 目的、范围、职责、工作程序.
PROCEDURE_SECTIONS = ("purpose", "scope_text", "duties", "procedure")
PATTERN_LITERAL = re.compile(r"^[A-Za-z0-9\-_./()（）〔〕\[\]\u4e00-\u9fff]*$")


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _today() -> dt.date:
    return clock.today()


# ---- numbering ----------------------------------------------------------------------------

def validate_pattern(pattern: str) -> str:
    """A numbering pattern must hold {seq} exactly once (optionally padded, {seq:03d}), may hold
    {year} and {unit}, and otherwise letters, digits, Chinese and - _ . / ( ) brackets."""
    pattern = (pattern or "").strip()

    def bad(why: str) -> ValidationError:
        return ValidationError(_("The numbering pattern “%(p)s” is malformed: %(why)s")
                               % {"p": pattern, "why": why}, code="bad_pattern")

    if not pattern:
        raise ValidationError(_("A numbering pattern is required."), code="bad_pattern")
    if len(pattern) > 60:
        raise bad(_("it is longer than 60 characters."))
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        raise bad(_("a brace is not closed or not opened."))
    seq = 0
    for literal, name, spec, conversion in parts:
        if not PATTERN_LITERAL.match(literal):
            raise bad(_("only letters, digits, Chinese characters and - _ . / ( ) may stand outside the braces."))
        if name is None:
            continue
        if name not in PATTERN_FIELDS:
            raise bad(_("unknown placeholder {%(name)s}; use {seq}, {year} or {unit}.") % {"name": name})
        if conversion:
            raise bad(_("placeholders take no conversion (!r, !s)."))
        if name == "seq":
            seq += 1
            if spec and not re.fullmatch(r"0?[1-9]d", spec):
                raise bad(_("{seq} takes only a width such as {seq:03d}."))
        elif spec:
            raise bad(_("{%(name)s} takes no format.") % {"name": name})
    if seq != 1:
        raise bad(_("it must hold {seq} exactly once."))
    return pattern


def format_number(pattern: str, seq: int, unit: Unit, year: int) -> str:
    return pattern.format(seq=seq, year=year, unit=unit.code)


def default_pattern(unit: Unit, tier: str) -> str:
    return f"{{unit}}-{TIER_CODES[Tier(tier)]}-{{seq:03d}}"


@transaction.atomic
def set_numbering_pattern(actor: Any, unit: Unit, tier: str, pattern: str,
                          next_seq: int | None = None) -> NumberingPattern:
    if actor is not None:
        scope.require_document_write(actor, unit)
    if tier not in Tier.values:
        raise ValidationError(_("Unknown tier “%(t)s”.") % {"t": tier})
    pattern = validate_pattern(pattern)
    row = NumberingPattern.objects.select_for_update().filter(unit=unit, tier=tier).first()
    before = audit.snapshot(row, ("pattern", "next_seq")) if row else {}
    if row is None:
        row = NumberingPattern(unit=unit, tier=tier, org_path=unit.path)
    row.pattern = pattern
    if next_seq is not None:
        if next_seq < 1:
            raise ValidationError(_("The next sequence number must be at least 1."))
        row.next_seq = next_seq
    row.save()
    audit.record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, row,
                 audit.diff(before, audit.snapshot(row, ("pattern", "next_seq"))))
    return row


def next_number(unit: Unit, tier: str) -> str:
    """Take the next number of the unit's pattern for `tier` (locked; skips numbers already used)."""
    row = NumberingPattern.objects.select_for_update().filter(unit=unit, tier=tier).first()
    if row is None:
        row = NumberingPattern.objects.create(unit=unit, tier=tier, org_path=unit.path,
                                              pattern=default_pattern(unit, tier))
        row = NumberingPattern.objects.select_for_update().get(pk=row.pk)
    year = _today().year
    for _attempt in range(1000):
        number = format_number(row.pattern, row.next_seq, unit, year)
        row.next_seq += 1
        if not Document.objects.filter(number=number).exists():
            row.save(update_fields=["next_seq"])
            return number
    raise ValidationError(_("No free number is left in the pattern “%(p)s”.") % {"p": row.pattern})


# ---- documents and drafts -------------------------------------------------------------------

def _check_applies_to(actor: Any, unit: Unit, applies_to: Iterable[Unit]) -> list[Unit]:
    units = list(dict.fromkeys(applies_to)) or [unit]
    for u in units:
        if actor is not None and not scope.can_read_unit(actor, u):
            raise ValidationError(_("There is no unit with this code in your scope."))
        if not u.is_active:
            raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": u.name})
    return units


def _set_reach(document: Document, units: list[Unit]) -> None:
    Applicability.objects.filter(document=document).exclude(unit__in=units).delete()
    have = set(Applicability.objects.filter(document=document).values_list("unit_id", flat=True))
    Applicability.objects.bulk_create([Applicability(document=document, unit=u, path=u.path,
                                                     subtree=document.include_subtree)
                                       for u in units if u.pk not in have])
    Applicability.objects.filter(document=document).exclude(subtree=document.include_subtree).update(
        subtree=document.include_subtree)


def _clean_text(fields: dict[str, Any]) -> dict[str, str]:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    out = {k: (v or "").strip() for k, v in fields.items()}
    errors: dict[str, Any] = {}  # the one validator of user text (pbqms.core.text)
    core_text.check_into(errors, out, core_text.limits_of(DocumentVersion, *out))
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_document(actor: Any, *, unit: Unit, tier: str, title: str, applies_to: Iterable[Unit] = (),
                    include_subtree: bool = True, number: str = "", book_part: str = "", order: int = 0,
                    review_interval_months: int = 12, assessment_items: str = "",
                    **text: str) -> Document:
    """A new document with its first draft (version 1). The number comes from the unit's pattern
    for the tier unless given."""
    if actor is not None:
        scope.require_document_write(actor, unit)
    if tier not in Tier.values:
        raise ValidationError(_("Unknown tier “%(t)s”.") % {"t": tier})
    if core_text.is_blank(title or ""):
        raise ValidationError(_("A document needs a title."))
    title = core_text.check(title, core_text.label(Document, "title"), max_length=core_text.SHORT).strip()
    if not unit.is_active:
        raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": unit.name})
    if not 1 <= review_interval_months <= 120:
        raise ValidationError(_("The review interval lies between 1 and 120 months."))
    units = _check_applies_to(actor, unit, applies_to)
    text = _clean_text(text)
    number = number.strip()
    if number:
        if Document.objects.filter(number=number).exists():
            raise ValidationError(_("The number “%(n)s” is taken.") % {"n": number})
    else:
        number = next_number(unit, tier)
    doc = Document.objects.create(
        tier=tier, number=number, title=title, unit=unit, org_path=unit.path, include_subtree=include_subtree,
        book_part=book_part.strip(), order=order, review_interval_months=review_interval_months,
        assessment_items=normalise_item_codes(assessment_items), created_by=actor if getattr(actor, "pk", None)
        else None)
    _set_reach(doc, units)
    version = DocumentVersion.objects.create(document=doc, org_path=doc.org_path, number=1, title=title,
                                             author=doc.created_by, **{k: v for k, v in text.items() if k != "title"})
    audit.record(actor, AuditAction.CREATE, doc, audit.created(
        {"number": number, "title": title, "tier": tier, "unit": unit.name,
         "applies_to": ", ".join(u.code for u in units)}))
    audit.record(actor, AuditAction.CREATE, version, {"number": [None, 1]})
    return doc


def normalise_item_codes(codes: str) -> str:
    """Assessment item codes as one space-separated string ("2.3, 4.1；5" → "2.3 4.1 5")."""
    parts = [p for p in re.split(r"[\s,，;；、]+", codes or "") if p]
    for p in parts:
        if not re.fullmatch(r"[A-Za-z0-9.\-]{1,20}", p):
            raise ValidationError(_("“%(c)s” is not an assessment item code.") % {"c": p})
    return " ".join(dict.fromkeys(parts))[:255]


@transaction.atomic
def update_document(actor: Any, document: Document, *, applies_to: Iterable[Unit] | None = None,
                    **changes: Any) -> Document:
    """Change what is not versioned: book part, order, review interval, assessment items, reach."""
    if actor is not None:
        scope.require_document_write(actor, document.unit)
    unknown = set(changes) - set(DOCUMENT_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    fields = DOCUMENT_FIELDS + ("applies_to",)
    before = audit.snapshot(document, DOCUMENT_FIELDS) | {"applies_to": _reach_codes(document)}
    if "assessment_items" in changes:
        changes["assessment_items"] = normalise_item_codes(changes["assessment_items"])
    interval = changes.get("review_interval_months", document.review_interval_months)
    if not 1 <= int(interval) <= 120:
        raise ValidationError(_("The review interval lies between 1 and 120 months."))
    for k, v in changes.items():
        setattr(document, k, v)
    document.save()
    if applies_to is not None:
        _set_reach(document, _check_applies_to(actor, document.unit, applies_to))
    Applicability.objects.filter(document=document).exclude(subtree=document.include_subtree).update(
        subtree=document.include_subtree)
    after = audit.snapshot(document, DOCUMENT_FIELDS) | {"applies_to": _reach_codes(document)}
    delta = audit.diff(before, {k: after[k] for k in fields})
    if delta:
        audit.record(actor, AuditAction.UPDATE, document, delta)
    return document


def _reach_codes(document: Document) -> str:
    return ", ".join(sorted(Applicability.objects.filter(document=document).values_list("unit__code", flat=True)))


@transaction.atomic
def set_links(actor: Any, document: Document, targets: Iterable[tuple[Document, str]]) -> None:
    """Replace the document's links (a procedure → its work instructions, regulations, forms)."""
    if actor is not None:
        scope.require_document_write(actor, document.unit)
    wanted: dict[int, str] = {}
    for target, kind in targets:
        if target.pk == document.pk:
            raise ValidationError(_("A document cannot link to itself."))
        if kind not in LinkKind.values:
            raise ValidationError(_("Unknown link kind “%(k)s”.") % {"k": kind})
        wanted[target.pk] = kind
    before = sorted(DocumentLink.objects.filter(source=document).values_list("target__number", flat=True))
    DocumentLink.objects.filter(source=document).delete()
    DocumentLink.objects.bulk_create([DocumentLink(source=document, target_id=pk, kind=kind)
                                      for pk, kind in wanted.items()])
    after = sorted(DocumentLink.objects.filter(source=document).values_list("target__number", flat=True))
    if before != after:
        audit.record(actor, AuditAction.UPDATE, document, {"links": [", ".join(before), ", ".join(after)]})


def open_version(document: Document) -> DocumentVersion | None:
    """The version being worked on (draft, in review or approved), if any."""
    return document.versions.filter(status__in=OPEN_STATUSES).order_by("-number").first()


def _check_not_abolished(document: Document) -> None:
    if document.is_abolished:
        raise ValidationError(_("This document is abolished; it takes no new version."))


@transaction.atomic
def new_version(actor: Any, document: Document, change_summary: str = "") -> DocumentVersion:
    """A new draft starting from the text in force (or the latest version)."""
    if actor is not None:
        scope.require_document_write(actor, document.unit)
    document = Document.objects.select_for_update().get(pk=document.pk)
    _check_not_abolished(document)
    if open_version(document) is not None:
        raise ValidationError(_("This document already has a version in the works; finish or edit that one."))
    base = document.current or document.versions.order_by("-number").first()
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    copied = {f: getattr(base, f) for f in DRAFT_FIELDS} if base else {"title": document.title}
    copied["change_summary"] = change_summary.strip()
    version = DocumentVersion.objects.create(document=document, org_path=document.org_path, number=number,
                                             author=actor if getattr(actor, "pk", None) else None, **copied)
    audit.record(actor, AuditAction.CREATE, version, {"number": [None, number]})
    return version


def _check_editable(version: DocumentVersion) -> None:
    if version.is_locked:
        raise ValidationError(_("A published version cannot be changed; start a new version instead."),
                              code="locked")
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be edited; this version is %(status)s.")
                              % {"status": version.get_status_display()}, code="not_draft")


@transaction.atomic
def edit_draft(actor: Any, version: DocumentVersion, **fields: Any) -> DocumentVersion:
    if actor is not None:
        scope.require_document_write(actor, version.org_path)
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    _check_editable(version)
    fields = _clean_text(fields)
    if "title" in fields and not fields["title"]:
        raise ValidationError(_("A document needs a title."))
    before = audit.snapshot(version, DRAFT_FIELDS)
    for k, v in fields.items():
        setattr(version, k, v)
    version.save()
    delta = audit.diff(before, audit.snapshot(version, DRAFT_FIELDS))
    if delta:
        audit.record(actor, AuditAction.UPDATE, version, delta)
    return version


def _move(actor: Any, version: DocumentVersion, to: str, action: str, note: str = "") -> None:
    before = version.status
    version.status = to
    version.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(actor, action, version, {"status": [before, to]}, note=note)


@transaction.atomic
def submit(actor: Any, version: DocumentVersion) -> DocumentVersion:
    """Send a draft for review. A version after the first must say what changed and why."""
    if actor is not None:
        scope.require_document_write(actor, version.org_path)
    version = DocumentVersion.objects.select_for_update().select_related("document").get(pk=version.pk)
    _check_not_abolished(version.document)
    _check_editable(version)
    if version.number > 1 and not version.change_summary.strip():
        raise ValidationError(_("Say what changed and why before submitting a new version."))
    if not any(getattr(version, f).strip() for f in SECTION_FIELDS):
        raise ValidationError(_("The draft has no text yet."))
    if version.document.tier == Tier.PROCEDURE:
        missing = [str(label) for f, label in section_labels() if f in PROCEDURE_SECTIONS
                   and not getattr(version, f).strip()]
        if missing:
            raise ValidationError(
                _("A procedure goes for review only with its four sections (purpose, scope, duties, working "
                  "procedure); missing: %(sections)s.") % {"sections": _(", ").join(missing)},
                code="procedure_sections")
    version.submitted_at = clock.now()
    _move(actor, version, VersionStatus.IN_REVIEW, AuditAction.SUBMIT)
    return version


def _require_not_author(actor: Any, version: DocumentVersion, message: str) -> None:
    if actor is not None and version.author_id is not None and version.author_id == actor.pk:
        raise ValidationError(message, code="own_draft")


@transaction.atomic
def review(actor: Any, version: DocumentVersion, *, passed: bool, comment: str = "") -> ApprovalStep:
    """A reviewer's verdict: passed (it may go to approval) or returned to the author as a draft."""
    if actor is not None and not scope.can_review_documents_of(actor, version.org_path):
        raise PermissionDenied
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    _require_not_author(actor, version, _("Nobody reviews their own draft; ask another reviewer."))
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError(_("Only a version in review can be reviewed; this one is %(status)s.")
                              % {"status": version.get_status_display()})
    comment = comment.strip()
    if not passed and not comment:
        raise ValidationError(_("Say why the draft goes back."))
    step = ApprovalStep.objects.create(
        version=version, org_path=version.org_path, kind=StepKind.REVIEW, at=clock.now(),
        decision=StepDecision.PASS if passed else StepDecision.RETURN, actor=_user(actor), comment=comment,
        role=scope.document_role_on(actor, version.org_path, scope.DOCUMENT_REVIEW_ROLES))
    if passed:
        audit.record(actor, AuditAction.VERIFY, version, {"review": [None, "pass"]}, note=comment)
    else:
        _move(actor, version, VersionStatus.DRAFT, AuditAction.RETURN, note=comment)
    return step


def _last_review(version: DocumentVersion) -> ApprovalStep | None:
    return version.steps.filter(kind=StepKind.REVIEW).order_by("-at", "-id").first()


@transaction.atomic
def approve(actor: Any, version: DocumentVersion, *, comment: str = "") -> ApprovalStep:
    """The approver signs off a reviewed version (never their own draft)."""
    if actor is not None and not scope.can_approve_documents_of(actor, version.org_path):
        raise PermissionDenied
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    _require_not_author(actor, version, _("Nobody approves their own draft; another approver must sign it off."))
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError(_("Only a version in review can be approved; this one is %(status)s.")
                              % {"status": version.get_status_display()})
    last = _last_review(version)
    if last is None or last.decision != StepDecision.PASS:
        raise ValidationError(_("The version has not passed review yet."))
    if actor is not None and last.actor_id is not None and last.actor_id == actor.pk:
        raise ValidationError(_("Three hands: a version is written, reviewed and approved by three different "
                                "people. You reviewed this version, so another approver must approve it."),
                              code="three_hands")
    step = ApprovalStep.objects.create(
        version=version, org_path=version.org_path, kind=StepKind.APPROVE, decision=StepDecision.PASS, at=clock.now(),
        actor=_user(actor), comment=comment.strip(),
        role=scope.document_role_on(actor, version.org_path, scope.DOCUMENT_APPROVE_ROLES))
    _move(actor, version, VersionStatus.APPROVED, AuditAction.APPROVE, note=comment)
    return step


def approver_of(version: DocumentVersion) -> ApprovalStep | None:
    return version.steps.filter(kind=StepKind.APPROVE, decision=StepDecision.PASS).select_related("actor") \
        .order_by("-at").first()


@transaction.atomic
def publish(actor: Any, version: DocumentVersion, *, effective_from: dt.date | None = None) -> DocumentVersion:
    """Publish an approved version. It takes force on `effective_from` (today by default): then the
    previous version is superseded and the document goes out to every recipient."""
    from . import circulation

    if actor is not None and not (scope.can_write_documents_of(actor, version.org_path)
                                  or scope.can_approve_documents_of(actor, version.org_path)):
        raise PermissionDenied
    version = DocumentVersion.objects.select_for_update().select_related("document").get(pk=version.pk)
    _check_not_abolished(version.document)
    if version.is_locked:
        raise ValidationError(_("This version is already published."))
    if version.status != VersionStatus.APPROVED or approver_of(version) is None:
        raise ValidationError(_("This version has no approver yet: it must be reviewed and approved before "
                                "it is published."), code="no_approver")
    today = _today()
    effective_from = effective_from or today
    if effective_from < today - dt.timedelta(days=366):
        raise ValidationError(_("The effective date lies too far in the past."))
    approved_on = timezone.localdate(approver_of(version).at)  # type: ignore[union-attr]
    if effective_from < approved_on:
        raise ValidationError(_("A version cannot take force before it is approved: approved on %(a)s, the "
                                "effective date %(d)s is earlier.") % {"a": approved_on.isoformat(),
                                                                      "d": effective_from.isoformat()},
                              code="before_approval")
    version.status = VersionStatus.PUBLISHED
    version.published_at = clock.now()
    version.published_by = actor if getattr(actor, "pk", None) else None
    version.effective_from = effective_from
    version.save(update_fields=["status", "published_at", "published_by", "effective_from", "updated_at"])
    audit.record(actor, AuditAction.PUBLISH, version, {"status": [VersionStatus.APPROVED, VersionStatus.PUBLISHED],
                                                       "effective_from": [None, effective_from.isoformat()]})
    circulation.distribute(version)
    if effective_from <= today:
        take_effect(version)
    return version


def take_effect(version: DocumentVersion) -> None:
    """Make a published version the one in force: supersede the previous one, move the index, and
    schedule the next periodic review. Idempotent."""
    from . import circulation

    document = Document.objects.select_for_update().get(pk=version.document_id)
    if document.current_id == version.pk or document.is_abolished:
        return
    previous = document.current
    if previous is not None:
        if previous.number > version.number:
            return  # a later version is in force already
        search.unindex_version(previous)
        previous.status = VersionStatus.SUPERSEDED
        previous.ended_on = version.effective_from or _today()
        previous.end_reason = _("Superseded by version %(n)d") % {"n": version.number}
        previous.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
        audit.record(None, AuditAction.STATUS, previous, {"status": [VersionStatus.PUBLISHED,
                                                                     VersionStatus.SUPERSEDED]})
    # Older published versions still waiting for their date are overtaken by this one.
    for waiting in document.versions.filter(status=VersionStatus.PUBLISHED, number__lt=version.number) \
            .exclude(pk__in=[previous.pk] if previous else []):
        waiting.status = VersionStatus.SUPERSEDED
        waiting.ended_on = version.effective_from or _today()
        waiting.end_reason = _("Superseded by version %(n)d") % {"n": version.number}
        waiting.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    document.current = version
    document.title = version.title
    document.save(update_fields=["current", "title", "updated_at"])
    search.index_version(version)
    circulation.schedule_review(document, from_date=version.effective_from or _today())


@transaction.atomic
def abolish(actor: Any, document: Document, *, reason: str, on: dt.date | None = None) -> Document:
    """Abolish a document (废止): its version in force stops, leaves the search, and open reviews close."""
    from .models import PeriodicReview

    if actor is not None and not scope.can_approve_documents_of(actor, document.org_path):
        raise PermissionDenied
    document = Document.objects.select_for_update().get(pk=document.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for abolishing the document."))
    if document.is_abolished:
        raise ValidationError(_("This document is abolished already."))
    on = on or _today()
    current = document.current
    if current is not None:
        search.unindex_version(current)
        current.status = VersionStatus.ABOLISHED
        current.ended_on = on
        current.end_reason = reason[:255]
        current.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    document.versions.filter(status__in=OPEN_STATUSES + (VersionStatus.PUBLISHED,)).exclude(
        pk__in=[current.pk] if current else []).update(status=VersionStatus.ABOLISHED, ended_on=on,
                                                       end_reason=reason[:255])
    document.abolished_on = on
    document.abolish_reason = reason[:255]
    document.save(update_fields=["abolished_on", "abolish_reason", "updated_at"])
    PeriodicReview.objects.filter(document=document, reviewed_on__isnull=True).delete()
    audit.record(actor, AuditAction.ABOLISH, document, {"abolished_on": [None, on.isoformat()]}, note=reason)
    return document


# ---- attachments ----------------------------------------------------------------------------

def attachment_owner(version: DocumentVersion) -> str:
    return f"documents.version:{version.pk}"


@transaction.atomic
def attach_files(actor: Any, version: DocumentVersion, uploads: Iterable[Any]) -> list[Any]:
    """Attach PDF or Word files to a draft (a published version keeps the files it had)."""
    from pbqms.files import services as files

    if actor is not None:
        scope.require_document_write(actor, version.org_path)
    version = DocumentVersion.objects.select_related("document__unit").get(pk=version.pk)
    _check_editable(version)
    uploads = list(uploads)
    if not uploads:
        raise ValidationError(_("Choose a file to attach."))
    stored = files.store_many(actor, uploads, unit=version.document.unit, owner=attachment_owner(version),
                              kinds={"pdf", "word"})
    audit.record(actor, AuditAction.UPDATE, version, {"attachments": [None, ", ".join(f.original_name
                                                                                      for f in stored)]})
    return stored


def content_of(version: DocumentVersion) -> dict[str, str]:
    return {f: getattr(version, f) for f in CONTENT_FIELDS}
