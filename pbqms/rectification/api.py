"""Rectification API — 整改 API: findings, notices, feedback and verification, scoped like the web UI."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut
from pbqms.files import idempotency

from . import selectors, services
from .models import CauseCategory, FindingStatus, Notice, NoticeStatus
from .schemas import (
    CloseIn,
    FeedbackIn,
    FindingDetail,
    FindingIn,
    FindingList,
    NoticeDetail,
    NoticeIn,
    NoticeList,
    PreventiveList,
    ReturnIn,
    VerifyIn,
)

router = Router(tags=["rectification"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _notice(request: HttpRequest, notice: Notice) -> Notice:
    notice = Notice.objects.select_related("unit", "issuing_unit").get(pk=notice.pk)
    detail = selectors.notice_detail(notice)
    notice.finding_rows = detail["findings"]
    notice.step_rows = detail["steps"]
    return notice


def _finding(user: Any, pk: int) -> Any:
    f = selectors.finding_or_404(user, pk)
    f = selectors.findings(user).select_related("unit").prefetch_related("feedback__cause_category",
                                                                         "verifications").get(pk=f.pk)
    f.rounds = list(f.feedback.all())
    f.checks = list(f.verifications.all())
    return f


@router.get("/findings", response={200: FindingList, **READ_ERRORS}, operation_id="rect_findings_list",
            summary="List findings")
def findings_list(request: HttpRequest, unit: str | None = Query(None, description="A unit's code: its subtree."),
                  status: FindingStatus | None = None, overdue: bool = False, item: str = "",
                  limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """The findings of the caller's scope (整改台账), newest first."""
    user = actor(request)
    if unit:
        qs = selectors.ledger(user, scope.unit_or_404(user, unit), status=status.value if status else "",
                              overdue=overdue, item=item)
    else:
        qs = selectors.findings(user).select_related("unit").order_by("-found_on", "-id")
        if status:
            qs = qs.filter(status=status.value)
        if overdue:
            qs = qs.filter(overdue=True)
        if item:
            qs = qs.filter(item_code=item)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("/findings", response={201: FindingDetail, **WRITE_ERRORS}, operation_id="rect_findings_create",
             summary="Record a finding")
def findings_create(request: HttpRequest, payload: FindingIn) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    data = payload.dict(exclude={"unit"})
    outcome = idempotency.once(user, idempotency.header_key(request), "rectification.finding",
                               lambda: services.record_finding(user, services.FindingInput(unit=unit, **data)))
    return Status(201, _finding(user, outcome.pk))


@router.get("/findings/{id}", response={200: FindingDetail, **READ_ERRORS}, operation_id="rect_findings_get",
            summary="Get a finding")
def findings_get(request: HttpRequest, id: int) -> Any:
    return _finding(actor(request), id)


@router.post("/findings/{id}/verify", response={200: FindingDetail, **WRITE_ERRORS},
             operation_id="rect_findings_verify", summary="Verify a fix (复查验收)")
def findings_verify(request: HttpRequest, id: int, payload: VerifyIn) -> Any:
    """Effective closes the finding; not effective reopens it."""
    user = actor(request)
    services.verify_finding(user, selectors.finding_or_404(user, id), effective=payload.effective,
                            note=payload.note)
    return _finding(user, id)


@router.get("/notices", response={200: NoticeList, **READ_ERRORS}, operation_id="rect_notices_list",
            summary="List notices")
def notices_list(request: HttpRequest, unit: str | None = Query(None, description="A unit's code: its subtree."),
                 status: NoticeStatus | None = None, overdue: bool = False, q: str = "",
                 limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    user = actor(request)
    unit_obj = scope.unit_or_404(user, unit) if unit else None
    qs = selectors.notice_list(user, unit=unit_obj, status=status.value if status else "", overdue=overdue, q=q)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("/notices", response={201: NoticeDetail, **WRITE_ERRORS}, operation_id="rect_notices_create",
             summary="Draft a notice")
def notices_create(request: HttpRequest, payload: NoticeIn) -> Any:
    """Groups open findings of one unit on a draft; issue it with POST /notices/{id}/issue."""
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    chosen = list(selectors.findings(user).filter(pk__in=payload.findings))
    if len(chosen) != len(set(payload.findings)):
        raise Http404  # a finding outside the caller's scope does not exist for them
    outcome = idempotency.once(
        user, idempotency.header_key(request), "rectification.notice",
        lambda: services.draft_notice(user, unit=unit, findings=chosen, title=payload.title,
                                      requirement=payload.requirement, deadline=payload.deadline))
    return Status(201, _notice(request, outcome.obj or selectors.notice_or_404(user, outcome.pk)))


@router.get("/notices/{id}", response={200: NoticeDetail, **READ_ERRORS}, operation_id="rect_notices_get",
            summary="Get a notice with its feedback, verifications and steps")
def notices_get(request: HttpRequest, id: int) -> Any:
    return _notice(request, selectors.notice_or_404(actor(request), id))


@router.post("/notices/{id}/issue", response={200: NoticeDetail, **WRITE_ERRORS},
             operation_id="rect_notices_issue", summary="Issue a draft notice")
def notices_issue(request: HttpRequest, id: int) -> Any:
    user = actor(request)
    return _notice(request, services.issue_notice(user, selectors.notice_or_404(user, id)))


@router.post("/notices/{id}/receive", response={200: NoticeDetail, **WRITE_ERRORS},
             operation_id="rect_notices_receive", summary="Receive a notice (签收)")
def notices_receive(request: HttpRequest, id: int) -> Any:
    user = actor(request)
    return _notice(request, services.receive_notice(user, selectors.notice_or_404(user, id)))


@router.post("/notices/{id}/feedback", response={200: NoticeDetail, **WRITE_ERRORS},
             operation_id="rect_notices_feedback", summary="Submit feedback (整改反馈单)")
def notices_feedback(request: HttpRequest, id: int, payload: FeedbackIn) -> Any:
    """One answer per finding still owed: cause category, cause, measures, completion date."""
    user = actor(request)
    notice = selectors.notice_or_404(user, id)
    categories = {c.code: c for c in CauseCategory.objects.filter(active=True)}
    answers = {a.finding: services.Answer(cause_category=categories.get(a.cause_category), cause=a.cause,
                                          measures=a.measures, completed_on=a.completed_on)
               for a in payload.answers}
    idempotency.once(user, idempotency.header_key(request), f"rectification.feedback:{notice.pk}",
                     lambda: (services.submit_feedback(user, notice, answers), notice)[1])
    notice.refresh_from_db()
    return _notice(request, notice)


@router.post("/notices/{id}/return", response={200: NoticeDetail, **WRITE_ERRORS},
             operation_id="rect_notices_return", summary="Return a notice with a reason and a new deadline")
def notices_return(request: HttpRequest, id: int, payload: ReturnIn) -> Any:
    user = actor(request)
    notice = services.return_notice(user, selectors.notice_or_404(user, id), reason=payload.reason,
                                    deadline=payload.deadline)
    return _notice(request, notice)


@router.post("/notices/{id}/close", response={200: NoticeDetail, **WRITE_ERRORS},
             operation_id="rect_notices_close", summary="Close a notice (every fix verified)")
def notices_close(request: HttpRequest, id: int, payload: CloseIn) -> Any:
    user = actor(request)
    return _notice(request, services.close_notice(user, selectors.notice_or_404(user, id), note=payload.note))


@router.get("/preventive", response={200: PreventiveList, **READ_ERRORS}, operation_id="rect_preventive_list",
            summary="List preventive actions")
def preventive_list(request: HttpRequest, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    qs = selectors.preventive_actions(actor(request)).select_related("unit").order_by("-created_at", "-id")
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}
