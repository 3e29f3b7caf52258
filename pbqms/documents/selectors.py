"""Scoped reads of controlled documents: the list, a document's versions, the readable diff,
acknowledgement status, the to-do list and the search. Every read starts from pbqms.scope."""

from __future__ import annotations

import datetime as dt
import difflib
import html
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from pbqms import scope

from . import search as search_engine
from .circulation import REVIEW_LEAD_DAYS
from .models import (
    CONTENT_FIELDS,
    Acknowledgement,
    ApprovalStep,
    Document,
    DocumentLink,
    DocumentVersion,
    PeriodicReview,
    StepDecision,
    StepKind,
    VersionStatus,
    section_labels,
)
from .services import OPEN_STATUSES

LIST_STATES = ("in_force", "pending", "draft", "abolished")


def document_list(user: Any, *, tier: str = "", state: str = "", unit: Any = None, q: str = "",
                  book_part: str = "") -> QuerySet[Document]:
    """Documents the user reads, filtered. `unit` covers its subtree (owned there); `q` matches the
    number or title; `state`: in_force, pending (published, not yet in force), draft (a version
    in the works), abolished."""
    qs = scope.documents(user)
    if tier:
        qs = qs.filter(tier=tier)
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if book_part:
        qs = qs.filter(book_part=book_part)
    if q := q.strip():
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q))
    if state == "in_force":
        qs = qs.filter(current__isnull=False, abolished_on__isnull=True)
    elif state == "abolished":
        qs = qs.filter(abolished_on__isnull=False)
    elif state == "draft":
        qs = qs.filter(Exists(DocumentVersion.objects.filter(document=OuterRef("pk"), status__in=OPEN_STATUSES)))
    elif state == "pending":
        qs = qs.filter(Exists(DocumentVersion.objects.filter(
            document=OuterRef("pk"), status=VersionStatus.PUBLISHED, effective_from__gt=timezone.localdate())))
    return qs.select_related("unit", "current").order_by("org_path", "tier", "order", "number")


def versions_for(user: Any, document: Document) -> list[DocumentVersion]:
    """The versions the user may see, newest first: editors see drafts, readers published ones."""
    qs = document.versions.select_related("author", "published_by").order_by("-number")
    if not scope.can_see_drafts(user, document):
        qs = qs.exclude(status__in=OPEN_STATUSES)
    return list(qs)


def version_or_404(user: Any, document: Document, number: int | str) -> DocumentVersion:
    from django.http import Http404

    try:
        n = int(number)
    except (TypeError, ValueError):
        raise Http404
    for v in versions_for(user, document):
        if v.number == n:
            return v
    raise Http404


def hands(version: DocumentVersion | None, steps: list[Any] | None = None) -> dict[str, Any] | None:
    """编制、审核、批准 of a version: from its `steps` if fetched already, else one query."""
    if version is None:
        return None
    return version.hands(steps_of(version) if steps is None else steps)


def steps_of(version: DocumentVersion) -> list[Any]:
    return list(version.steps.select_related("actor").order_by("at", "id"))


def links_of(user: Any, document: Document) -> tuple[list[DocumentLink], list[DocumentLink]]:
    """(outgoing, incoming) links whose other end the user may read (one query)."""
    readable = scope.documents(user).values("pk")
    rows = DocumentLink.objects.filter(Q(source=document, target__in=readable) | Q(target=document,
                                                                                source__in=readable)) \
        .select_related("source", "target").order_by("kind", "target__number", "source__number")
    out, inc = [], []
    for link in rows:
        (out if link.source_id == document.pk else inc).append(link)
    return out, inc


@dataclass
class AssessmentItem:
    code: str
    label: str
    url: str | None


def assessment_items(document: Document) -> list[AssessmentItem]:
    """The assessment items the document serves, linked to the newest published scheme holding
    each code (pbqms.assessment.selectors.item_lookup); a code no scheme holds shows as entered."""
    from pbqms.assessment import selectors as assessment

    codes = [c for c in document.assessment_items.split() if c]
    if not codes:
        return []
    found = assessment.item_lookup(codes)
    return [AssessmentItem(c, *(found.get(c) or ("", None))) for c in codes]


# ---- the diff -------------------------------------------------------------------------------

@dataclass
class SectionDiff:
    field: str
    label: str
    before: SafeString
    after: SafeString
    inline: SafeString
    changed: bool


def _opcodes_html(a: str, b: str) -> tuple[str, str, str]:
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left, right, inline = [], [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        x, y = html.escape(a[i1:i2]), html.escape(b[j1:j2])
        if op == "equal":
            left.append(x)
            right.append(y)
            inline.append(y)
            continue
        if x:
            left.append(f"<del>{x}</del>")
            inline.append(f"<del>{x}</del>")
        if y:
            right.append(f"<ins>{y}</ins>")
            inline.append(f"<ins>{y}</ins>")
    return "".join(left), "".join(right), "".join(inline)


def diff(before: DocumentVersion | None, after: DocumentVersion) -> list[SectionDiff]:
    """Each section of `after` against `before` (character by character, as Chinese has no spaces)."""
    labels = dict(section_labels())
    from django.utils.translation import gettext as _

    labels["title"] = _("Title")
    out = []
    for f in ("title",) + tuple(f for f in CONTENT_FIELDS if f not in ("title", "change_summary")):
        a = getattr(before, f) if before else ""
        b = getattr(after, f)
        if not a and not b:
            continue
        left, right, inline = _opcodes_html(a or "", b or "")
        out.append(SectionDiff(f, str(labels[f]), mark_safe(left), mark_safe(right), mark_safe(inline), a != b))
    return out


def previous_version(user: Any, version: DocumentVersion) -> DocumentVersion | None:
    for v in versions_for(user, version.document):
        if v.number < version.number:
            return v
    return None


# ---- acknowledgement ------------------------------------------------------------------------

def can_see_acknowledgements(user: Any, document: Document) -> bool:
    return scope.can_see_drafts(user, document)


def acknowledgements(version: DocumentVersion, *, unread_only: bool = False) -> QuerySet[Acknowledgement]:
    qs = Acknowledgement.objects.filter(version=version).select_related("user", "unit")
    if unread_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by(F("acknowledged_at").desc(nulls_first=True), "unit__path", "user__username")


def my_acknowledgement(user: Any, version: DocumentVersion | None) -> Acknowledgement | None:
    if version is None or not getattr(user, "pk", None):
        return None
    return Acknowledgement.objects.filter(version=version, user=user).first()


def my_acknowledgements(user: Any, *, unread_only: bool = False) -> QuerySet[Acknowledgement]:
    """What was sent to the user (still in force), newest first."""
    qs = Acknowledgement.objects.filter(user=user, version__status=VersionStatus.PUBLISHED) \
        .select_related("version", "document", "document__unit")
    if unread_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("-sent_at", "-id")


# ---- to-do ----------------------------------------------------------------------------------

@dataclass
class Todo:
    to_read: list[Acknowledgement]
    reviews_due: list[PeriodicReview]
    to_review: list[DocumentVersion]
    to_approve: list[DocumentVersion]
    to_publish: list[DocumentVersion]
    my_drafts: list[DocumentVersion]

    @property
    def count(self) -> int:
        return sum(len(x) for x in (self.to_read, self.reviews_due, self.to_review, self.to_approve,
                                    self.to_publish, self.my_drafts))


def todo(user: Any, today: dt.date | None = None, limit: int = 100) -> Todo:
    today = today or timezone.localdate()
    r = scope.document_reach(user)
    write_q = scope._prefix_q("org_path", r.write) if r.write else Q(pk__in=[])
    review_q = scope._prefix_q("org_path", r.review) if r.review else Q(pk__in=[])
    approve_q = scope._prefix_q("org_path", r.approve) if r.approve else Q(pk__in=[])
    versions = DocumentVersion.objects.select_related("document", "document__unit", "author")
    latest = ApprovalStep.objects.filter(version=OuterRef("pk"), kind=StepKind.REVIEW).order_by("-at", "-id")
    in_review = versions.filter(status=VersionStatus.IN_REVIEW).exclude(author=user).annotate(
        last_review=Subquery(latest.values("decision")[:1]))
    passed = Q(last_review=StepDecision.PASS)
    return Todo(
        to_read=list(my_acknowledgements(user, unread_only=True)[:limit]),
        reviews_due=list(PeriodicReview.objects.filter(write_q, reviewed_on__isnull=True,
                                                       due_on__lte=today + dt.timedelta(days=REVIEW_LEAD_DAYS))
                         .select_related("document", "document__unit").order_by("due_on")[:limit]),
        to_review=list(in_review.filter(review_q).filter(~passed | Q(last_review__isnull=True))
                       .order_by("submitted_at")[:limit]),
        to_approve=list(in_review.filter(approve_q).filter(passed).order_by("submitted_at")[:limit]),
        to_publish=list(versions.filter(write_q | approve_q, status=VersionStatus.APPROVED)
                        .order_by("updated_at")[:limit]),
        my_drafts=list(versions.filter(author=user, status=VersionStatus.DRAFT).order_by("-updated_at")[:limit]),
    )


# ---- search ---------------------------------------------------------------------------------

def search(user: Any, q: str, *, offset: int = 0, limit: int = 20) -> search_engine.Result:
    """Versions in force the user may read, matching every word of `q`, best first."""
    if scope.reads_every_document(user):
        return search_engine.search(None, q, offset=offset, limit=limit)
    return search_engine.search(scope.documents(user), q, offset=offset, limit=limit,
                                allowed_ids=lambda ids: scope.readable_document_ids(user, ids))


def book(user: Any, unit: Any) -> list[Document]:
    """The unit's work-instruction book: its documents in force (owned by the unit itself), in the
    order of the book's parts, with their current versions."""
    return list(scope.documents(user).filter(unit=unit, current__isnull=False, abolished_on__isnull=True)
                .select_related("current__author", "unit").prefetch_related(
                    Prefetch("outgoing", queryset=DocumentLink.objects.select_related("target")),
                    Prefetch("current__steps", queryset=ApprovalStep.objects.select_related("actor")))
                .order_by("tier", "book_part", "order", "number"))


# ---- the home page's work list -------------------------------------------------------------------

def work_items(user: Any) -> list[Any]:
    """Home-page lines (core.work): the to-do page's lists, counted in one query."""
    from django.urls import reverse
    from django.utils.translation import ngettext

    from pbqms.core.work import OVERDUE, SOON, TODO, WorkItem, capped_counts

    today = timezone.localdate()
    r = scope.document_reach(user)
    asks: dict[str, QuerySet[Any]] = {
        "to_read": Acknowledgement.objects.filter(user=user, version__status=VersionStatus.PUBLISHED,
                                                  acknowledged_at__isnull=True)}
    if r.write:
        due = PeriodicReview.objects.filter(scope._prefix_q("org_path", r.write), reviewed_on__isnull=True)
        asks["reviews_late"] = due.filter(due_on__lt=today)
        asks["reviews_due"] = due.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=REVIEW_LEAD_DAYS))
    if r.review or r.approve:
        latest = ApprovalStep.objects.filter(version=OuterRef("pk"), kind=StepKind.REVIEW).order_by("-at", "-id")
        in_review = DocumentVersion.objects.filter(status=VersionStatus.IN_REVIEW).exclude(author=user).annotate(
            last_review=Subquery(latest.values("decision")[:1]))
        passed = Q(last_review=StepDecision.PASS)
        if r.review:
            asks["to_review"] = in_review.filter(scope._prefix_q("org_path", r.review)).filter(
                ~passed | Q(last_review__isnull=True))
        if r.approve:
            asks["to_approve"] = in_review.filter(scope._prefix_q("org_path", r.approve)).filter(passed)
    counted = capped_counts(asks)
    todo_url = reverse("documents:todo")
    lines = {
        "to_read": (SOON, lambda n: ngettext("%(n)d document to read and acknowledge",
                                             "%(n)d documents to read and acknowledge", n)),
        "reviews_late": (OVERDUE, lambda n: ngettext("%(n)d periodic document review is overdue",
                                                     "%(n)d periodic document reviews are overdue", n)),
        "reviews_due": (SOON, lambda n: ngettext("%(n)d periodic document review falls due soon",
                                                 "%(n)d periodic document reviews fall due soon", n)),
        "to_review": (TODO, lambda n: ngettext("%(n)d document version waits for your review",
                                               "%(n)d document versions wait for your review", n)),
        "to_approve": (TODO, lambda n: ngettext("%(n)d document version waits for your approval",
                                                "%(n)d document versions wait for your approval", n)),
    }
    out: list[WorkItem] = []
    for key, (level, text) in lines.items():
        n, more = counted.get(key, (0, False))
        if n:
            out.append(WorkItem(f"docs.{key}", text(n) % {"n": n}, todo_url, level, n, more))
    return out
