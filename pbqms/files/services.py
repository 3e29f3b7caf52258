"""Storing attachments — 附件. Every capability keeps its evidence files through these functions.

How to use it from another app (its own service checks who may act first):

    stored = files.store_upload(actor, request.FILES["file"], unit=notice.unit,
                                owner=f"rectification.notice:{notice.pk}")
    rows = files.store_many(actor, form.cleaned_data["files"], unit=unit, owner=owner,
                            kinds=[FileKind.PDF, FileKind.WORD])
    files.attach(scope.pending_files(actor, request.POST.getlist("files")), owner=owner, unit=unit)
    url = files.file_url(stored)          # the scoped download link
    with files.open_file(stored) as fh:   # the bytes, e.g. to zip an evidence pack
        ...

Only images (JPEG, PNG, GIF, WebP), PDF and Office files (DOCX/XLSX/PPTX, legacy DOC/XLS) are
accepted, each up to settings.PBQMS_MAX_UPLOAD_MB. The type is read from the content, and the
name's extension must say the same thing. A refused file leaves nothing behind: no row, no bytes.
Files live under settings.PBQMS_FILE_ROOT (outside static and media, never served directly), as
`<yyyy>/<mm>/<token hex>`: no part of the path comes from the user.

Call these as late as possible in your own service, after your own input is checked: a file
written inside your transaction stays on disk (unreachable, without a row) if your transaction
rolls back afterwards.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.orgs.models import Unit

from .models import FileKind, StoredFile

CHUNK = 64 * 1024
HEAD = 8192  # bytes the type detection looks at (filetype reads as many)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"

# extension → (kind, the content type the content must have)
TYPES: dict[str, tuple[FileKind, str]] = {
    "jpg": (FileKind.IMAGE, "image/jpeg"),
    "jpeg": (FileKind.IMAGE, "image/jpeg"),
    "png": (FileKind.IMAGE, "image/png"),
    "gif": (FileKind.IMAGE, "image/gif"),
    "webp": (FileKind.IMAGE, "image/webp"),
    "pdf": (FileKind.PDF, "application/pdf"),
    "docx": (FileKind.WORD, DOCX),
    "doc": (FileKind.WORD, DOC),
    "xlsx": (FileKind.EXCEL, XLSX),
    "xls": (FileKind.EXCEL, XLS),
    "pptx": (FileKind.PRESENTATION, PPTX),
}
# The first part name of each OOXML kind inside the zip.
OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
# Stream names in an OLE2 directory (UTF-16LE, NUL-terminated) that tell Word from Excel.
OLE_STREAMS = (("WordDocument", DOC), ("Workbook", XLS), ("Book", XLS), ("PowerPoint Document", PPT))
AUDITED_FIELDS = ("original_name", "kind", "size", "sha256", "owner", "unit")


# ---- settings ----------------------------------------------------------------------------

def storage_root() -> Path:
    return Path(getattr(settings, "PBQMS_FILE_ROOT", settings.DATA_DIR / "files"))


def max_upload_mb() -> int:
    return int(getattr(settings, "PBQMS_MAX_UPLOAD_MB", 20))


def max_upload_bytes() -> int:
    return max_upload_mb() * 1024 * 1024


def _kinds(kinds: Iterable[str] | None) -> set[str]:
    if kinds is None:
        return set(FileKind.values)
    chosen = {str(k) for k in kinds}
    unknown = chosen - set(FileKind.values)
    if unknown:
        raise ValueError(f"unknown file kinds: {sorted(unknown)}")
    return chosen


def extensions(kinds: Iterable[str] | None = None) -> list[str]:
    """The file extensions accepted for `kinds` (all kinds when None), e.g. ['pdf', 'docx', 'doc']."""
    chosen = _kinds(kinds)
    return [ext for ext, (kind, _mime) in TYPES.items() if kind in chosen]


def accept_attribute(kinds: Iterable[str] | None = None) -> str:
    """The `accept` attribute of a file input for `kinds`: ".pdf,.docx,…"."""
    return ",".join(f".{ext}" for ext in extensions(kinds))


# ---- type detection ----------------------------------------------------------------------

def _ooxml_type(path: Path) -> str:
    """DOCX/XLSX/PPTX when the zip really holds the parts of one; plain zip otherwise."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/octet-stream"
    if "[Content_Types].xml" not in names:
        return "application/zip"
    for prefix, mime in OOXML_PARTS:
        if any(n.startswith(prefix) for n in names):
            return mime
    return "application/zip"


def _ole_type(path: Path) -> str:
    """Legacy Office: which stream the OLE2 compound file holds (its directory names the streams)."""
    wanted = [(name.encode("utf-16-le") + b"\x00\x00", mime) for name, mime in OLE_STREAMS]
    overlap = max(len(w) for w, _m in wanted)
    found: set[str] = set()
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            window = tail + chunk
            found.update(mime for needle, mime in wanted if needle in window)
            tail = window[-overlap:]
    for _name, mime in OLE_STREAMS:
        if mime in found:
            return mime
    return "application/x-ole-storage"


def detect(path: Path, head: bytes) -> str | None:
    """The content type of the file at `path` (whose first bytes are `head`), from its content."""
    if head.startswith(OLE_MAGIC):
        return _ole_type(path)
    if head.startswith(ZIP_MAGIC):
        return _ooxml_type(path)
    guess = filetype.guess(head)
    return guess.mime if guess is not None else None


# ---- storing -----------------------------------------------------------------------------

def _clean_name(name: str | None) -> str:
    """The file's own name, without any folder part or control characters, at most 255 long."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip()
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) < 20 else base[:255]
    return base


def _chunks(upload: Any) -> Iterator[bytes]:
    if hasattr(upload, "chunks"):
        yield from upload.chunks(CHUNK)
        return
    if hasattr(upload, "seek"):
        try:
            upload.seek(0)
        except (OSError, ValueError):
            pass
    while chunk := upload.read(CHUNK):
        yield chunk


@dataclass
class _Staged:
    """A checked upload written to a temporary file beside its final place."""

    token: uuid.UUID
    name: str
    kind: FileKind
    content_type: str
    size: int
    sha256: str
    relative: str
    temp: Path
    final: Path

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


def _refuse_type(name: str, allowed: list[str]) -> ValidationError:
    return ValidationError(
        _("“%(name)s” cannot be accepted: only these file types are allowed here: %(types)s.")
        % {"name": name, "types": " ".join(f".{e}" for e in allowed)}, code="file_type")


def _too_big(name: str) -> ValidationError:
    return ValidationError(_("“%(name)s” is larger than the limit of %(limit)s MB.")
                           % {"name": name, "limit": max_upload_mb()}, code="file_size")


def _stage(upload: Any, kinds: Iterable[str] | None) -> _Staged:
    """Check one upload and write it to a temporary file; raise ValidationError, leaving nothing."""
    name = _clean_name(getattr(upload, "name", ""))
    shown = name or _("(no name)")
    allowed = extensions(kinds)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in allowed:
        raise _refuse_type(shown, allowed)
    limit = max_upload_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise _too_big(shown)
    if declared == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": shown}, code="file_empty")
    kind, expected = TYPES[ext]
    token = uuid.uuid4()
    today = timezone.localdate()
    relative = f"{today:%Y}/{today:%m}/{token.hex}"
    final = storage_root() / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{token.hex}.part")
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(temp, "xb") as out:
            for chunk in _chunks(upload):
                size += len(chunk)
                if size > limit:
                    raise _too_big(shown)
                digest.update(chunk)
                out.write(chunk)
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
        if size == 0:
            raise ValidationError(_("“%(name)s” is empty.") % {"name": shown}, code="file_empty")
        if detect(temp, head) != expected:
            raise ValidationError(_("The content of “%(name)s” does not match its extension.") % {"name": shown},
                                  code="file_mismatch")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return _Staged(token=token, name=name, kind=kind, content_type=expected, size=size,
                   sha256=digest.hexdigest(), relative=relative, temp=temp, final=final)


def _save(actor: Any, staged: list[_Staged], unit: Unit, owner: str) -> list[StoredFile]:
    """Rows and audit entries in one transaction; the files take their place only once the rows
    are saved, and are taken away again if anything fails before the commit."""
    placed: list[Path] = []
    uploader = actor if getattr(actor, "pk", None) else None
    try:
        with transaction.atomic():
            rows = []
            for s in staged:
                row = StoredFile(token=s.token, original_name=s.name, kind=s.kind, content_type=s.content_type,
                                 size=s.size, sha256=s.sha256, path=s.relative, unit=unit, org_path=unit.path,
                                 owner=owner, uploaded_by=uploader)
                row.save()
                audit.record(actor, AuditAction.CREATE, row, audit.created(audit.snapshot(row, AUDITED_FIELDS)))
                rows.append(row)
            for s in staged:
                os.replace(s.temp, s.final)
                placed.append(s.final)
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        raise
    return rows


def _check_owner(owner: str) -> str:
    if len(owner) > StoredFile._meta.get_field("owner").max_length:  # type: ignore[operator]
        raise ValueError(f"owner too long: {owner!r}")
    return owner


def store_upload(actor: Any, upload: Any, *, unit: Unit, owner: str = "",
                 kinds: Iterable[str] | None = None) -> StoredFile:
    """Check and keep one uploaded file for a record of `unit` (owner "<app>.<model>:<pk>", or blank
    until attach()). `kinds` narrows the accepted FileKinds. Refusal: ValidationError, nothing kept.

    The caller has already decided that `actor` may add files to that record."""
    _check_owner(owner)
    staged = _stage(upload, kinds)
    try:
        return _save(actor, [staged], unit, owner)[0]
    finally:
        staged.discard()


def store_many(actor: Any, uploads: Iterable[Any], *, unit: Unit, owner: str = "",
               kinds: Iterable[str] | None = None) -> list[StoredFile]:
    """store_upload for several files, all or nothing: one ValidationError lists every bad file."""
    _check_owner(owner)
    staged: list[_Staged] = []
    errors: list[str] = []
    try:
        for upload in uploads:
            try:
                staged.append(_stage(upload, kinds))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return _save(actor, staged, unit, owner) if staged else []
    finally:
        for s in staged:
            s.discard()


@transaction.atomic
def attach(files: Iterable[StoredFile], *, owner: str, unit: Unit) -> None:
    """Give already stored files (e.g. uploaded before their record existed) to record `owner` of `unit`.

    A file that already belongs to another record is refused: a token seen on one record cannot
    carry a file into another. Take the files from scope.pending_files(user, tokens)."""
    if not owner:
        raise ValueError("attach() needs an owner")
    _check_owner(owner)
    for f in files:
        if f.owner and f.owner != owner:
            raise ValidationError(_("“%(name)s” already belongs to another record.") % {"name": f.original_name},
                                  code="file_taken")
        before = audit.snapshot(f, ("owner", "unit"))
        f.owner, f.unit, f.org_path = owner, unit, unit.path
        f.save(update_fields=["owner", "unit", "org_path"])
        delta = audit.diff(before, audit.snapshot(f, ("owner", "unit")))
        if delta:
            audit.record(None, AuditAction.UPDATE, f, delta, note="attach")


def _disk_path(stored: StoredFile) -> Path:
    root = storage_root().resolve()
    path = (root / stored.path).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"stored path leaves the file root: {stored.path!r}")
    return path


def open_file(stored: StoredFile) -> IO[bytes]:
    """The stored bytes, opened for reading (the caller closes it, or hands it to FileResponse)."""
    return open(_disk_path(stored), "rb")


def file_url(stored: StoredFile) -> str:
    """The download link; it answers only to users whose scope covers the file."""
    return reverse("files:download", args=[stored.token])
