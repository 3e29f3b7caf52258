"""Rules of the rectification loop — 纠错整改: every write and every gate, as plain functions.

Life of a notice: draft → issued → received → feedback submitted → closed, or returned with a
reason and a new deadline (and answered again). Gates, as a quality system has them:
- feedback needs a cause category, a cause, measures and a completion date for every finding owed;
- a notice closes only when every finding is verified effective (效果验证);
- an ineffective fix reopens its finding; nobody verifies or issues for a unit they belong to;
- nothing changes on a closed notice.
Each step is logged twice: a NoticeStep (the form's own history: who and when) and an audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import clock, text
from pbqms.orgs.models import Unit

from . import numbering, preventive, stats
from .models import (
    CauseCategory,
    Feedback,
    Finding,
    FindingSource,
    FindingStatus,
    Notice,
    NoticeStatus,
    NoticeStep,
    RectificationSettings,
    Severity,
    Verification,
)

FINDING_FIELDS = ("unit", "source", "source_ref", "item_code", "standard", "severity", "description", "period",
                  "found_on", "status", "deadline", "closed_on")
NOTICE_FIELDS = ("number", "unit", "issuing_unit", "title", "requirement", "deadline", "status")


def _today() -> dt.date:
    return clock.today()


def _actor_name(actor: Any) -> str:
    return str(actor) if actor is not None and getattr(actor, "pk", None) else "system"


def _step(notice: Notice, action: str, actor: Any, note: str = "", deadline: dt.date | None = None) -> None:
    NoticeStep.objects.create(notice=notice, action=action, actor=actor if getattr(actor, "pk", None) else None,
                              actor_name=_actor_name(actor)[:150], note=note, deadline=deadline)


def _lock(notice: Notice) -> Notice:
    """Re-read the notice under a row lock so two people taking steps at once act in turn."""
    return Notice.objects.select_for_update(of=("self",)).select_related("unit", "issuing_unit").get(pk=notice.pk)


def _set_finding(finding: Finding, **changes: Any) -> None:
    before = stats.Facts.of(finding)
    for k, v in changes.items():
        setattr(finding, k, v)
    finding.save(update_fields=list(changes))
    stats.changed(before, stats.Facts.of(finding))


# ---- findings ----------------------------------------------------------------------------------

@dataclass
class FindingInput:
    unit: Unit
    description: str
    found_on: dt.date
    source: str = FindingSource.INSPECTION
    item_code: str = ""
    standard: str = ""
    severity: str = Severity.GENERAL
    period: str = ""
    source_ref: str = ""
    source_link: str = ""


def _validate_finding(data: FindingInput, today: dt.date) -> None:
    errors = {}
    if text.is_blank(data.description or ""):
        errors["description"] = _("Describe the problem found.")
    text.check_into(errors, data, text.limits_of(  # the one validator of user text (pbqms.core.text)
        Finding, "description", "item_code", "standard", "period", "source_ref"))
    if data.found_on > today:
        errors["found_on"] = _("A finding cannot be dated in the future.")
    if data.source not in FindingSource.values:
        errors["source"] = _("Choose where the finding comes from.")
    if data.severity not in Severity.values:
        errors["severity"] = _("Choose a severity.")
    if data.unit.dissolved_on:
        errors["unit"] = _("This unit has been dissolved.")
    if errors:
        raise ValidationError(errors)


def _create_finding(actor: Any, data: FindingInput, source_key: str | None, evidence: Sequence[Any]) -> Finding:
    finding = Finding.objects.create(
        unit=data.unit, org_path=data.unit.path, source=data.source, source_ref=data.source_ref.strip(),
        source_link=data.source_link.strip(), source_key=source_key, item_code=data.item_code.strip(),
        standard=data.standard.strip(), severity=data.severity, description=data.description.strip(),
        period=data.period.strip() or f"{data.found_on:%Y-%m}", found_on=data.found_on,
        found_by=actor if getattr(actor, "pk", None) else None)
    if evidence:
        from pbqms.files import services as files

        files.attach(evidence, owner=f"rectification.finding:{finding.pk}", unit=data.unit)
        finding.evidence.set(evidence)
    stats.changed(None, stats.Facts.of(finding))
    audit.record(actor, AuditAction.CREATE, finding, audit.created(audit.snapshot(finding, FINDING_FIELDS)))
    preventive.detect(finding)
    return finding


@transaction.atomic
def record_finding(actor: Any, data: FindingInput, *, evidence: Sequence[Any] = ()) -> Finding:
    """A finding entered by an inspector, assessor or auditor (by hand, or from an inspection visit)."""
    if not scope.can_record_finding(actor, data.unit):
        raise PermissionDenied
    _validate_finding(data, _today())
    return _create_finding(actor, data, None, evidence)


def raise_finding(data: FindingInput, *, source_key: str, actor: Any = None) -> tuple[Finding, bool]:
    """The seam for other capabilities (assessment deductions, compliance misses, audits): raise a
    finding exactly once per `source_key`. Returns (finding, created)."""
    existing = Finding.objects.filter(source_key=source_key).first()
    if existing:
        return existing, False
    _validate_finding(data, _today())
    try:
        with transaction.atomic():
            return _create_finding(actor, data, source_key, ()), True
    except IntegrityError:  # raised by a concurrent caller between our check and insert
        return Finding.objects.get(source_key=source_key), False


@transaction.atomic
def withdraw_finding(actor: Any, finding: Finding, reason: str) -> None:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if not scope.can_record_finding(actor, finding.unit):
        raise PermissionDenied
    if finding.status != FindingStatus.OPEN:
        raise ValidationError(_("Only a finding not yet on a notice can be withdrawn."))
    if text.is_blank(reason):
        raise ValidationError({"reason": _("Give the reason for withdrawing the finding.")})
    text.check(reason, _("Reason"), max_length=255, multiline=True)
    _set_finding(finding, status=FindingStatus.WITHDRAWN)
    audit.record(actor, AuditAction.DELETE, finding, {"status": [FindingStatus.OPEN, FindingStatus.WITHDRAWN]},
                 note=reason.strip())


# ---- notices -----------------------------------------------------------------------------------

def issuing_unit_for(actor: Any, unit: Unit) -> Unit:
    """The unit the actor issues from: the nearest unit above `unit` where they hold an issuing role."""
    paths = [p for p in scope.paths_for(actor, scope.RECT_ISSUE_ROLES) if unit.path.startswith(p)]
    if not paths or paths == [""]:
        # a superuser issues from the unit's parent committee (or the unit's root)
        return unit.parent if unit.parent_id else unit  # type: ignore[return-value]
    path = max(paths, key=len)
    return Unit.objects.get(path=path)


def _validate_deadline(deadline: dt.date | None, today: dt.date) -> None:
    if deadline is None:
        raise ValidationError({"deadline": _("Set a deadline.")})
    if deadline <= today:
        raise ValidationError({"deadline": _("The deadline must be after today.")})


@transaction.atomic
def draft_notice(actor: Any, *, unit: Unit, findings: Iterable[Finding], title: str, requirement: str,
                 deadline: dt.date) -> Notice:
    """Group open findings of one unit on a draft notice."""
    if not scope.can_issue_to(actor, unit):
        raise PermissionDenied
    ids = [f.pk for f in findings]
    chosen = list(Finding.objects.select_for_update().filter(pk__in=ids))
    errors: dict[str, Any] = {}
    if not chosen:
        errors["findings"] = _("Choose at least one finding.")
    elif any(f.unit_id != unit.pk for f in chosen):
        errors["findings"] = _("A notice groups the findings of one unit only.")
    elif any(f.status != FindingStatus.OPEN or f.notice_id for f in chosen):
        errors["findings"] = _("A finding already on a notice, closed or withdrawn cannot be added.")
    if not title.strip():
        errors["title"] = _("Give the notice a title.")
    if text.is_blank(requirement):
        errors["requirement"] = _("State what the unit must do.")
    text.check_into(errors, {"title": title, "requirement": requirement},
                    text.limits_of(Notice, "title", "requirement"))
    if errors:
        raise ValidationError(errors)
    _validate_deadline(deadline, _today())
    notice = Notice.objects.create(issuing_unit=issuing_unit_for(actor, unit), unit=unit, org_path=unit.path,
                                   title=title.strip(), requirement=requirement.strip(), deadline=deadline,
                                   created_by=actor if getattr(actor, "pk", None) else None)
    Finding.objects.filter(pk__in=ids).update(notice=notice)
    _step(notice, "draft", actor, deadline=deadline)
    audit.record(actor, AuditAction.CREATE, notice, audit.created(audit.snapshot(notice, NOTICE_FIELDS)))
    return notice


@transaction.atomic
def issue_notice(actor: Any, notice: Notice) -> Notice:
    """Number the notice and send it: its findings now owe an answer by the deadline."""
    notice = _lock(notice)
    if not scope.can_issue_to(actor, notice.unit):
        raise PermissionDenied
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("Only a draft notice can be issued."))
    today = _today()
    _validate_deadline(notice.deadline, today)
    findings = list(notice.findings.select_for_update())
    if not findings:
        raise ValidationError(_("The notice holds no finding."))
    notice.number, notice.seq = numbering.next_number(notice.issuing_unit, today.year)
    notice.year = today.year
    notice.status = NoticeStatus.ISSUED
    notice.issued_at = clock.now()
    notice.save(update_fields=["number", "seq", "year", "status", "issued_at"])
    for f in findings:
        _set_finding(f, status=FindingStatus.NOTIFIED, deadline=notice.deadline)
    _step(notice, "issue", actor, deadline=notice.deadline)
    audit.record(actor, AuditAction.ISSUE, notice, {"status": [NoticeStatus.DRAFT, NoticeStatus.ISSUED],
                                                    "number": [None, notice.number]})
    from . import reminders

    reminders.on_issued(notice)
    return notice


@transaction.atomic
def discard_draft(actor: Any, notice: Notice) -> None:
    notice = _lock(notice)
    if not scope.can_issue_to(actor, notice.unit):
        raise PermissionDenied
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("Only a draft notice can be discarded."))
    notice.findings.update(notice=None)
    audit.record(actor, AuditAction.DELETE, notice, {"status": [NoticeStatus.DRAFT, None]})
    notice.delete()


@transaction.atomic
def receive_notice(actor: Any, notice: Notice) -> Notice:
    """签收: the unit confirms it has the notice."""
    notice = _lock(notice)
    if not scope.can_respond_for(actor, notice.unit):
        raise PermissionDenied
    if notice.status != NoticeStatus.ISSUED:
        raise ValidationError(_("Only an issued notice can be received."))
    notice.status = NoticeStatus.RECEIVED
    notice.save(update_fields=["status"])
    _step(notice, "receive", actor)
    audit.record(actor, AuditAction.RECEIVE, notice, {"status": [NoticeStatus.ISSUED, NoticeStatus.RECEIVED]})
    return notice


@dataclass
class Answer:
    """The feedback on one finding (整改反馈单 row)."""

    cause_category: CauseCategory | None
    cause: str
    measures: str
    completed_on: dt.date | None
    evidence: Sequence[Any] = ()


@transaction.atomic
def submit_feedback(actor: Any, notice: Notice, answers: dict[int, Answer]) -> list[Feedback]:
    """The unit answers every finding it owes: cause, measures, completion date, evidence."""
    notice = _lock(notice)
    if not scope.can_respond_for(actor, notice.unit):
        raise PermissionDenied
    if notice.status == NoticeStatus.CLOSED:
        raise ValidationError(_("This notice is closed: no more feedback can be submitted."))
    if notice.status not in (NoticeStatus.ISSUED, NoticeStatus.RECEIVED, NoticeStatus.RETURNED):
        raise ValidationError(_("Feedback can only be submitted on an issued or returned notice."))
    owed = list(notice.findings.select_for_update().filter(status__in=(FindingStatus.NOTIFIED,
                                                                       FindingStatus.REOPENED)))
    today = _today()
    errors: dict[str, list[str]] = {}
    for f in owed:
        a = answers.get(f.pk)
        problems = []
        if a is None or a.cause_category is None:
            problems.append(_("choose a cause category"))
        if a is None or not a.cause.strip():
            problems.append(_("state the cause"))
        if a is None or not a.measures.strip():
            problems.append(_("state the measures taken"))
        if a is not None:
            bad: dict[str, Any] = {}
            text.check_into(bad, a, text.limits_of(Feedback, "cause", "measures"))
            problems.extend(bad.values())
        if a is None or a.completed_on is None:
            problems.append(_("give the completion date"))
        elif a.completed_on > today:
            problems.append(_("the completion date cannot be in the future"))
        if problems:
            errors[f"finding_{f.pk}"] = [_("Finding %(item)s: %(problems)s.") % {
                "item": f.item_code or f.pk, "problems": _("; ").join(problems)}]
    if not owed:
        raise ValidationError(_("No finding on this notice is waiting for feedback."))
    if errors:
        raise ValidationError(errors)
    was = notice.status
    created = []
    for f in owed:
        a = answers[f.pk]
        assert a.cause_category is not None and a.completed_on is not None  # checked above
        rounds = f.feedback.count()
        fb = Feedback.objects.create(finding=f, notice=notice, round=rounds + 1, cause_category=a.cause_category,
                                     cause=a.cause.strip(), measures=a.measures.strip(),
                                     completed_on=a.completed_on, submitted_by=actor)
        if a.evidence:
            from pbqms.files import services as files

            files.attach(a.evidence, owner=f"rectification.feedback:{fb.pk}", unit=notice.unit)
            fb.evidence.set(a.evidence)
        _set_finding(f, status=FindingStatus.ANSWERED, answered_on=today)
        created.append(fb)
    notice.status = NoticeStatus.ANSWERED
    notice.save(update_fields=["status"])
    _step(notice, "submit", actor)
    audit.record(actor, AuditAction.SUBMIT, notice, {"status": [was, NoticeStatus.ANSWERED]},
                 note=_("%(n)d findings answered") % {"n": len(created)})
    from . import reminders

    reminders.on_answered(notice)
    return created


@transaction.atomic
def verify_finding(actor: Any, finding: Finding, *, effective: bool, note: str) -> Verification:
    """复查验收: record whether the fix worked. An ineffective fix reopens the finding."""
    finding = Finding.objects.select_for_update(of=("self",)).select_related("notice", "unit").get(pk=finding.pk)
    if not scope.can_issue_to(actor, finding.unit):
        raise PermissionDenied
    if finding.notice is None or finding.status != FindingStatus.ANSWERED:
        raise ValidationError(_("Only a finding with submitted feedback can be verified."))
    if finding.notice.status == NoticeStatus.CLOSED:
        raise ValidationError(_("This notice is closed: nothing more can be verified."))
    if text.is_blank(note):
        raise ValidationError({"note": _("Record what was checked and whether the fix was effective.")})
    text.check(note, text.label(Verification, "note"), max_length=text.TEXT, multiline=True)
    feedback = finding.feedback.order_by("-round").first()
    assert feedback is not None
    v = Verification.objects.create(finding=finding, feedback=feedback, effective=effective, note=note.strip(),
                                    verified_by=actor)
    if effective:
        _set_finding(finding, status=FindingStatus.CLOSED, closed_on=_today())
    else:
        _set_finding(finding, status=FindingStatus.REOPENED)
    _step(finding.notice, "verify", actor, note=f"{finding.item_code or finding.pk}: "
          + (_("effective") if effective else _("not effective")) + f" — {note.strip()}")
    audit.record(actor, AuditAction.VERIFY, finding, {"status": [FindingStatus.ANSWERED, finding.status]},
                 note=note.strip())
    return v


@transaction.atomic
def return_notice(actor: Any, notice: Notice, *, reason: str, deadline: dt.date | None) -> Notice:
    """Send the notice back with a reason and a new deadline; findings not yet verified effective
    owe a new answer."""
    notice = _lock(notice)
    if not scope.can_issue_to(actor, notice.unit):
        raise PermissionDenied
    if notice.status != NoticeStatus.ANSWERED:
        raise ValidationError(_("Only a notice with submitted feedback can be returned."))
    if text.is_blank(reason):
        raise ValidationError({"reason": _("Give the reason for returning the notice.")})
    text.check(reason, _("Reason for returning"), max_length=text.TEXT, multiline=True)
    _validate_deadline(deadline, _today())
    assert deadline is not None
    for f in notice.findings.select_for_update().filter(status__in=(FindingStatus.ANSWERED,
                                                                    FindingStatus.REOPENED)):
        _set_finding(f, status=FindingStatus.REOPENED if f.status == FindingStatus.REOPENED
                     else FindingStatus.NOTIFIED, deadline=deadline, overdue=False)
    old = notice.deadline
    notice.status, notice.deadline, notice.rounds = NoticeStatus.RETURNED, deadline, notice.rounds + 1
    notice.overdue_since = None
    notice.escalated_at = None
    notice.save(update_fields=["status", "deadline", "rounds", "overdue_since", "escalated_at"])
    _step(notice, "return", actor, note=reason.strip(), deadline=deadline)
    audit.record(actor, AuditAction.RETURN, notice, {"status": [NoticeStatus.ANSWERED, NoticeStatus.RETURNED],
                                                     "deadline": [old.isoformat(), deadline.isoformat()]},
                 note=reason.strip())
    from . import reminders

    reminders.on_returned(notice, reason.strip())
    return notice


@transaction.atomic
def close_notice(actor: Any, notice: Notice, note: str = "") -> Notice:
    """Accept the rectification: only when every finding is verified effective."""
    notice = _lock(notice)
    if not scope.can_issue_to(actor, notice.unit):
        raise PermissionDenied
    if notice.status == NoticeStatus.CLOSED:
        raise ValidationError(_("This notice is already closed."))
    if notice.status != NoticeStatus.ANSWERED:
        raise ValidationError(_("Only a notice with submitted feedback can be closed."))
    pending = [f for f in notice.findings.all() if f.status != FindingStatus.CLOSED]
    if pending:
        raise ValidationError(_("The notice cannot close: %(n)d findings are not verified effective yet.")
                              % {"n": len(pending)})
    notice.status, notice.closed_at = NoticeStatus.CLOSED, clock.now()
    notice.save(update_fields=["status", "closed_at"])
    _step(notice, "close", actor, note=note.strip())
    audit.record(actor, AuditAction.CLOSE, notice, {"status": [NoticeStatus.ANSWERED, NoticeStatus.CLOSED]},
                 note=note.strip())
    return notice


# ---- settings ----------------------------------------------------------------------------------

@transaction.atomic
def save_settings(actor: Any, unit: Unit, **values: Any) -> RectificationSettings:
    if not scope.can_write_unit(actor, unit):
        raise PermissionDenied
    values["number_pattern"] = numbering.validate_pattern(values.get("number_pattern", ""))
    days = str(values.get("reminder_days", "")).replace("，", ",")
    try:
        parsed = sorted({int(d) for d in days.split(",") if d.strip()}, reverse=True)
    except ValueError:
        raise ValidationError({"reminder_days": _("List whole numbers of days, separated by commas.")})
    if any(d < 0 or d > 60 for d in parsed):
        raise ValidationError({"reminder_days": _("Reminder days lie between 0 and 60.")})
    values["reminder_days"] = ",".join(str(d) for d in parsed)
    obj, _created = RectificationSettings.objects.get_or_create(unit=unit)
    before = audit.snapshot(obj, list(values))
    for k, v in values.items():
        setattr(obj, k, v)
    obj.full_clean()
    obj.save()
    audit.record(actor, AuditAction.UPDATE, unit, audit.diff(before, audit.snapshot(obj, list(values))),
                 note=_("Rectification settings"))
    return obj
