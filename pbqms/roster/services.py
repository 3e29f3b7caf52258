"""Roster import and export — 花名册导入导出: the entry points the UI, the CLI, the task and the
benchmarks call.

`import_roster` checks a whole workbook and writes all of it or nothing (see importer.py for the
rules); `export_members` writes any member list the actor may read, masked, in the template's
format; `run_job` is what the background task runs for an upload from the web.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.members.models import Member
from pbqms.members.selectors import filtered_members
from pbqms.orgs.models import Unit

from . import exporter
from .importer import CHECKING, READING, WRITING, Importer, Progress
from .models import ImportJob
from .writer import Writer

logger = logging.getLogger("pbqms.roster")

PHASES = {READING, CHECKING, WRITING}


@dataclass
class ImportResult:
    ok: bool
    dry_run: bool
    errors: list[dict[str, Any]]
    summary: dict[str, int]
    ignored_columns: list[str] = field(default_factory=list)
    total_rows: int = 0
    job_id: int | None = None

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


def _source_name(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        return os.path.basename(os.fspath(source))
    return os.path.basename(str(getattr(source, "name", "") or ""))


def _scope_path(actor: Any) -> str:
    """The deepest path covering all of the actor's write scope (for the import's audit entry)."""
    paths = scope.get_scope(actor).member_write_paths if actor is not None else ("",)
    if not paths or "" in paths:
        return ""
    common = os.path.commonprefix(list(paths))
    return common[: common.rfind("/") + 1]


def import_roster(path_or_file: str | os.PathLike[str] | IO[bytes], actor: Any, dry_run: bool = False,
                  progress: Progress | None = None, *, job: ImportJob | None = None,
                  language: str | None = None) -> ImportResult:
    """Check a roster workbook and, unless `dry_run` or anything is wrong, import all of it.

    `actor` None is the system (full scope); otherwise every row must lie in the actor's write
    scope. `progress(phase, done, total)` is called about every 1,000 rows. Messages are in
    `language` (default: the active one).
    """
    with translation.override(language) if language else contextlib.nullcontext(), _frozen_heap():
        imp = Importer(actor, progress)
        imp.read(path_or_file)
        gc.freeze()
        if imp.sheets:
            imp.check()
        ok = not imp.errors
        job_id = job.pk if job is not None else None
        if ok and not dry_run:
            gc.freeze()
            with transaction.atomic():
                Writer(imp).run()
                job_id = _log_import(actor, job, _source_name(path_or_file), imp.summary, imp.total_rows).pk
        return ImportResult(ok=ok, dry_run=dry_run, errors=imp.sorted_errors(), summary=dict(imp.summary),
                            ignored_columns=imp.ignored, total_rows=imp.total_rows, job_id=job_id)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """The rows read stay alive until the import ends: spare the garbage collector from walking
    them again and again (gc.freeze) while the next phase allocates."""
    try:
        yield
    finally:
        gc.unfreeze()


def _log_import(actor: Any, job: ImportJob | None, name: str, summary: Mapping[str, int], rows: int) -> ImportJob:
    """The import's own audit entry, on its job (the CLI's imports get a job record too)."""
    if job is None:
        job = ImportJob.objects.create(
            created_by=actor if getattr(actor, "pk", None) else None, original_name=name[:255],
            state=ImportJob.State.DONE, language=translation.get_language() or "", org_path=_scope_path(actor),
            done_rows=rows, total_rows=rows, summary=dict(summary), finished_at=timezone.now())
    audit.record(actor, AuditAction.IMPORT, job, {k: [None, v] for k, v in summary.items()}, note=name)
    return job


# ---- jobs from the web ---------------------------------------------------------------------

def create_job(actor: Any, upload: UploadedFile, *, dry_run: bool, language: str) -> ImportJob:
    """Store an uploaded workbook and queue its import; the task starts once this commits."""
    if not scope.can_import_roster(actor):
        raise PermissionDenied
    job = ImportJob(created_by=actor, original_name=os.path.basename(upload.name or "")[:255],
                    dry_run=dry_run, language=language, org_path=_scope_path(actor))
    job.file.save(f"roster-{timezone.now():%Y%m%d%H%M%S}.xlsx", upload, save=False)
    job.save()

    from .tasks import run_import_job

    transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    return job


class JobProgress:
    """Writes a job's progress with small UPDATEs. Inside the import's write transaction these go
    through a second connection so the job page sees them; SQLite, locked by that transaction,
    shows the write phase without a count."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last: tuple[str, int] = ("", -1)
        self.side: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if (phase, done) == self.last:
            return
        self.last = (phase, done)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(phase=phase, done_rows=done, total_rows=total)
            return
        if connection.vendor == "sqlite":
            return
        if self.side is None:
            self.side = connections.create_connection("default")
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        with self.side.cursor() as cur:
            cur.execute(f"UPDATE {table} SET phase = %s, done_rows = %s, total_rows = %s WHERE id = %s",
                        [phase, done, total, self.job_id])

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def run_job(job_id: int) -> None:
    """Run a queued web import (called by the background task)."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.state != ImportJob.State.QUEUED:
        return  # already run (a retried task) or gone
    jobs = ImportJob.objects.filter(pk=job.pk)
    language = job.language or settings.LANGUAGE_CODE
    if job.created_by is None:  # never import with the system's full scope on a missing uploader's behalf
        with translation.override(language):
            jobs.update(state=ImportJob.State.CRASHED, finished_at=timezone.now(),
                        errors=[_error(_("The account that uploaded the file no longer exists."))])
        return
    jobs.update(state=ImportJob.State.RUNNING, phase=READING)
    reporter = JobProgress(job.pk)
    try:
        with job.file.open("rb") as fh:
            result = import_roster(fh, job.created_by, dry_run=job.dry_run, progress=reporter, job=job,
                                   language=language)
    except Exception:
        logger.exception("roster import job %s crashed", job.pk)
        with translation.override(language):
            jobs.update(state=ImportJob.State.CRASHED, finished_at=timezone.now(), phase="",
                        errors=[_error(_("The import stopped on an internal error; nothing was changed."))])
        return
    finally:
        reporter.close()
        # The workbook holds ID numbers in clear; once read, only the report is kept.
        job.file.delete(save=False)
        jobs.update(file="")
    if not result.ok:
        state = ImportJob.State.FAILED
    else:
        state = ImportJob.State.CHECKED if job.dry_run else ImportJob.State.DONE
    jobs.update(state=state, phase="", errors=result.errors, finished_at=timezone.now(),
                summary={**result.summary, "ignored_columns": result.ignored_columns},
                done_rows=result.total_rows, total_rows=result.total_rows)


def _error(message: str) -> dict[str, Any]:
    return {"sheet": "", "row": None, "column": "", "cell": "", "message": message}


# ---- export --------------------------------------------------------------------------------

class _System:
    """The system as a reader: full scope (CLI exports without --as)."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    member_id = None

    def __str__(self) -> str:
        return "system"


MEMBER_FILTERS = ("q", "status", "state", "gender", "education", "sort")


def export_members(queryset_or_params: QuerySet[Member] | Mapping[str, Any], actor: Any,
                   out: str | os.PathLike[str] | IO[bytes], *, unmask: bool = False,
                   language: str | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the people of a member list (a queryset, or the member list's parameters: unit code,
    q, status, state, gender, education, sort) that `actor` may read to an .xlsx, masked, with
    headers and labels in `language` (default: the site's).

    `unmask` writes ID numbers and phones in clear only where scope.can_see_id_number allows,
    and is refused outright to an actor who may see none. Returns the number of people written.
    Raises Http404 for a unit outside the actor's scope.
    """
    reader = actor if actor is not None else _System()
    if unmask and actor is not None and not scope.get_scope(actor).id_paths:
        raise PermissionDenied
    unit: Unit | None = None
    if isinstance(queryset_or_params, QuerySet):
        people = queryset_or_params & scope.members(reader)
    else:
        params = {k: str(queryset_or_params.get(k) or "") for k in MEMBER_FILTERS}
        params["sort"] = params["sort"] or "name"
        code = str(queryset_or_params.get("unit") or "").strip()
        unit = scope.unit_or_404(reader, code) if code else None
        people = filtered_members(reader, unit=unit, **params)
    # The units sheet: the chosen unit's subtree, else the units (and groups) of the people listed.
    units = scope.units(reader).filter(dissolved_on__isnull=True)
    if unit is not None:
        units = units.filter(path__startswith=unit.path)
    else:
        units = units.filter(Q(pk__in=people.values("unit_id")) | Q(pk__in=people.values("group_id")))
    with translation.override(language or settings.LANGUAGE_CODE):
        lang = translation.get_language()
        count = exporter.write_export(out, exporter.unit_rows(units.order_by("path"), lang),
                                      exporter.member_rows(people, actor, lang, unmask=unmask, progress=progress),
                                      lang)
    _log_export(actor, unit, count, unmask, queryset_or_params)
    return count


def _log_export(actor: Any, unit: Unit | None, count: int, unmasked: bool, params: Any) -> None:
    target: Any = unit or (actor if getattr(actor, "pk", None) else None)
    if target is None:
        target = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
    if target is None:
        return
    filters = {} if isinstance(params, QuerySet) else {k: str(params.get(k)) for k in ("unit", *MEMBER_FILTERS)
                                                         if params.get(k)}
    audit.record(actor, AuditAction.EXPORT, target, {"count": [None, count], "unmasked": [None, unmasked]},
                 note=" ".join(f"{k}={v}" for k, v in filters.items())[:255])


def write_template(out: str | os.PathLike[str] | IO[bytes], language: str | None = None) -> None:
    """The empty workbook to fill in, in `language` (default: the site's)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        exporter.write_template(out, translation.get_language())


def write_error_report(job: ImportJob, out: str | os.PathLike[str] | IO[bytes]) -> None:
    with translation.override(job.language or None):
        exporter.write_error_report(out, job.errors)
