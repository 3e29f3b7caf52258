"""Reads of import jobs: a job belongs to whoever uploaded it (and is visible to superusers)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from pbqms import scope

from .models import ImportJob

RECENT_JOBS = 20


def jobs(user: Any) -> QuerySet[ImportJob]:
    if scope.get_scope(user).is_superuser:
        return ImportJob.objects.all()
    if not getattr(user, "pk", None):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


def recent_jobs(user: Any) -> list[ImportJob]:
    """The user's latest imports, without their (possibly long) error lists."""
    return list(ImportJob.objects.filter(created_by=user).defer("errors").order_by("-created_at", "-id")
                [:RECENT_JOBS]) if getattr(user, "pk", None) else []


def job_or_404(user: Any, pk: int | str) -> ImportJob:
    try:
        return jobs(user).select_related("created_by").get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404
