"""Distribution, acknowledgement and periodic review — 发放、已阅与定期评审, and the sweep that
reminds of them.

Publishing a version sends it to every active user holding a role on a unit the document applies
to (and, when the document says so, on the units below) — for record forms and work instructions
only to the roles that keep the records and do the work, not to every member (AUDIENCE). A newer
version retires the older versions' unread messages. Each recipient confirms 已阅; the owner
sees who has not. Each document in force has one open periodic review, due `review_interval_months`
after it took force; the sweep reminds the owners as it comes due and again when it is overdue,
reminds recipients who have not read a document after ACK_REMIND_DAYS, and puts published
versions into force on their effective date. Running the sweep twice does nothing the second time.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.accounts.models import Role, RoleAssignment, User
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction

from .models import Acknowledgement, Document, DocumentVersion, PeriodicReview, ReviewOutcome, Tier, VersionStatus

REVIEW_LEAD_DAYS = 30  # owners are reminded this long before a review falls due
ACK_REMIND_DAYS = 7  # recipients who have not read a document after this long are reminded once
# Whom each tier goes to among the role holders of the units it applies to (None: every role). Forms
# and work instructions are tools of those who keep the records and run the work: a committee's
# form does not go to every member of every branch below it.
WORKING_ROLES = tuple(r for r in Role.values if r != Role.MEMBER)
AUDIENCE: dict[str, tuple[str, ...] | None] = {
    Tier.MANUAL: None, Tier.PROCEDURE: None, Tier.REGULATION: None,
    Tier.WORK_INSTRUCTION: WORKING_ROLES, Tier.RECORD_FORM: WORKING_ROLES,
}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _notify(*, key: str, recipients: list[Any], title: str, body: str, link: str, unit: Any) -> int:
    from pbqms.notify import services as notify

    if not recipients:
        return 0
    return notify.notify(key=key, recipients=recipients, title=title, body=body, link=link, unit=unit)


# ---- who -------------------------------------------------------------------------------------

def recipients(document: Document) -> QuerySet[User]:
    """Active users holding a role on a unit the document applies to (or below it, if configured),
    among the roles its tier goes to (AUDIENCE)."""
    reach = list(document.reach.values_list("unit_id", "path"))
    if not reach:
        return User.objects.none()
    if document.include_subtree:
        q = Q()
        for _unit_id, path in reach:
            q |= Q(unit__path__startswith=path)
    else:
        q = Q(unit_id__in=[u for u, _ in reach])
    roles = AUDIENCE.get(document.tier)
    if roles is not None:
        q &= Q(role__in=roles)
    holders = RoleAssignment.objects.filter(q, unit__dissolved_on__isnull=True).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("pk")


def owners(document: Document) -> QuerySet[User]:
    """The users who write the document's unit's documents (they answer for its review)."""
    paths = [document.org_path[:i + 1] for i, ch in enumerate(document.org_path) if ch == "/"]
    holders = RoleAssignment.objects.filter(role__in=scope.DOCUMENT_WRITE_ROLES, unit__path__in=paths,
                                            unit__dissolved_on__isnull=True).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("pk")


# ---- distribution and acknowledgement -------------------------------------------------------

def distribute(version: DocumentVersion) -> int:
    """Send a published version to its recipients (once each) and notify them. Returns how many are new."""
    document = version.document
    people = list(recipients(document))
    first_unit: dict[int, int] = {}
    for user_id, unit_id in RoleAssignment.objects.filter(user__in=people).order_by("unit__path") \
            .values_list("user_id", "unit_id"):
        first_unit.setdefault(user_id, unit_id)
    have = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
    new = [Acknowledgement(version=version, document=document, org_path=document.org_path, user=u,
                           unit_id=first_unit.get(u.pk)) for u in people if u.pk not in have]
    Acknowledgement.objects.bulk_create(new, batch_size=1000)
    _retire_older(version)
    if new:
        _notify(key=f"documents.publish:{version.pk}", recipients=[a.user for a in new],
                title=_("New document to read: %(n)s %(t)s") % {"n": document.number, "t": version.title},
                body=_("Version %(v)d is published, in force from %(d)s. Please read it and confirm.")
                % {"v": version.number, "d": version.effective_from},
                link=document.get_absolute_url(), unit=document.unit)
    return len(new)


def _retire_older(version: DocumentVersion) -> int:
    """The older versions' unread "new document" and "please read" messages are marked read: the
    newer version's message replaces them."""
    from pbqms.notify import services as notify

    older = list(DocumentVersion.objects.filter(document_id=version.document_id, number__lt=version.number)
                 .values_list("pk", flat=True))
    keys = [f"documents.{what}:{pk}" for pk in older for what in ("publish", "unread")]
    return notify.retire(keys) if keys else 0


@transaction.atomic
def acknowledge(actor: Any, version: DocumentVersion) -> Acknowledgement:
    """The recipient confirms they have read the version (已阅). Confirming twice changes nothing."""
    ack = Acknowledgement.objects.select_for_update().filter(version=version, user=actor).first()
    if ack is None:
        raise ValidationError(_("This document was not sent to you."), code="not_recipient")
    if version.status not in (VersionStatus.PUBLISHED,):
        raise ValidationError(_("Only a version in force can be confirmed as read."))
    if ack.acknowledged_at is None:
        from pbqms.notify import services as notify

        notify.read_by_key(actor, [f"documents.publish:{version.pk}", f"documents.unread:{version.pk}"])
        ack.acknowledged_at = timezone.now()
        ack.save(update_fields=["acknowledged_at"])
        audit.record(actor, AuditAction.ACKNOWLEDGE, ack, {"acknowledged_at": [None, ack.acknowledged_at.isoformat()]},
                     note=f"{version.document.number} v{version.number}")
    return ack


def acknowledgement_counts(version: DocumentVersion) -> tuple[int, int]:
    """(read, sent) of a version."""
    qs = Acknowledgement.objects.filter(version=version)
    return qs.filter(acknowledged_at__isnull=False).count(), qs.count()


# ---- periodic review ------------------------------------------------------------------------

def schedule_review(document: Document, *, from_date: dt.date) -> PeriodicReview:
    """The one open review of the document, due an interval after `from_date` (replacing an open one)."""
    due = add_months(from_date, document.review_interval_months)
    review = PeriodicReview.objects.filter(document=document, reviewed_on__isnull=True).first()
    if review is None:
        return PeriodicReview.objects.create(document=document, org_path=document.org_path, due_on=due)
    if review.due_on != due:
        review.due_on = due
        review.reminded_on = None
        review.save(update_fields=["due_on", "reminded_on"])
    return review


@transaction.atomic
def record_review(actor: Any, review: PeriodicReview, *, outcome: str, note: str = "",
                  today: dt.date | None = None) -> PeriodicReview:
    """End a periodic review: still valid (the next review is scheduled), revise (a new draft is
    started) or abolish (the document is abolished with the note as reason)."""
    from . import services

    document = review.document
    if not scope.can_write_documents_of(actor, document.org_path):
        raise PermissionDenied
    if outcome not in ReviewOutcome.values:
        raise ValidationError(_("Choose an outcome: still valid, revise or abolish."))
    review = PeriodicReview.objects.select_for_update().get(pk=review.pk)
    if review.reviewed_on is not None:
        raise ValidationError(_("This review is recorded already."))
    if document.is_abolished or document.current_id is None:
        raise ValidationError(_("Only a document in force is reviewed."))
    note = note.strip()
    today = today or timezone.localdate()
    if outcome == ReviewOutcome.ABOLISH:
        if not note:
            raise ValidationError(_("Give the reason for abolishing the document."))
        if not scope.can_approve_documents_of(actor, document.org_path):
            raise PermissionDenied
    review.outcome, review.note, review.reviewed_by, review.reviewed_on = outcome, note, actor, today
    review.save(update_fields=["outcome", "note", "reviewed_by", "reviewed_on"])
    audit.record(actor, AuditAction.VERIFY, review, {"outcome": [None, outcome]}, note=note)
    if outcome == ReviewOutcome.STILL_VALID:
        PeriodicReview.objects.create(document=document, org_path=document.org_path,
                                      due_on=add_months(today, document.review_interval_months))
    elif outcome == ReviewOutcome.REVISE:
        PeriodicReview.objects.create(document=document, org_path=document.org_path,
                                      due_on=add_months(today, document.review_interval_months))
        if services.open_version(document) is None:
            services.new_version(actor, document, change_summary=_("Periodic review: %(note)s")
                                 % {"note": note or _("revision needed")})
    else:
        services.abolish(actor, document, reason=note, on=today)
    return review


# ---- the sweep ------------------------------------------------------------------------------

def sweep_reviews(today: dt.date | None = None) -> int:
    """Put due versions into force, remind owners of due and overdue reviews, and remind recipients
    who have not read a document. Returns how many things it did; a second run the same day does 0."""
    from . import services

    today = today or timezone.localdate()
    done = 0
    for version in DocumentVersion.objects.filter(status=VersionStatus.PUBLISHED, effective_from__lte=today) \
            .exclude(pk__in=Document.objects.filter(current__isnull=False).values("current_id")) \
            .order_by("document_id", "number"):
        with transaction.atomic():
            before = Document.objects.filter(pk=version.document_id).values_list("current_id", flat=True).first()
            services.take_effect(version)
            if Document.objects.filter(pk=version.document_id).values_list("current_id", flat=True).first() != before:
                done += 1
    horizon = today + dt.timedelta(days=REVIEW_LEAD_DAYS)
    due = PeriodicReview.objects.filter(reviewed_on__isnull=True, due_on__lte=horizon,
                                        document__abolished_on__isnull=True).filter(
        Q(reminded_on__isnull=True) | Q(reminded_on__lt=F("due_on"), due_on__lt=today)
    ).select_related("document", "document__unit")
    for review in due:
        overdue = review.due_on < today
        stage = "overdue" if overdue else "due"
        with transaction.atomic():
            doc = review.document
            title = (_("Periodic review overdue: %(n)s %(t)s") if overdue else
                     _("Periodic review due: %(n)s %(t)s")) % {"n": doc.number, "t": doc.title}
            _notify(key=f"documents.review:{review.pk}:{stage}", recipients=list(owners(doc)), title=title,
                    body=_("The periodic review of this document is due on %(d)s: record whether it is still "
                           "valid, needs revision or is abolished.") % {"d": review.due_on},
                    link=doc.get_absolute_url(), unit=doc.unit)
            review.reminded_on = today
            review.save(update_fields=["reminded_on"])
            done += 1
    cutoff = timezone.now() - dt.timedelta(days=ACK_REMIND_DAYS)
    pending = Acknowledgement.objects.filter(acknowledged_at__isnull=True, reminded_at__isnull=True,
                                             sent_at__lte=cutoff, version__status=VersionStatus.PUBLISHED) \
        .select_related("version", "document", "document__unit", "user")
    by_version: dict[int, list[Acknowledgement]] = {}
    for ack in pending:
        by_version.setdefault(ack.version_id, []).append(ack)
    for acks in by_version.values():
        with transaction.atomic():
            v, doc = acks[0].version, acks[0].document
            _notify(key=f"documents.unread:{v.pk}", recipients=[a.user for a in acks],
                    title=_("Please confirm you have read %(n)s %(t)s") % {"n": doc.number, "t": v.title},
                    body=_("Version %(v)d was sent to you and is not confirmed as read yet.") % {"v": v.number},
                    link=doc.get_absolute_url(), unit=doc.unit)
            Acknowledgement.objects.filter(pk__in=[a.pk for a in acks]).update(reminded_at=timezone.now())
            done += len(acks)
    return done

