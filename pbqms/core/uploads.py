"""Uploaded Office files (.xlsx, .docx) are zip archives: the one guard run before any of them is
opened with openpyxl or python-docx (#21.5).

A 300 KB workbook whose sheet XML expands to 300 MB took a worker from 190 MB to 1.08 GB. Before
parsing, `check_archive` reads the archive's central directory only (no decompression) and refuses
a file whose entries together expand beyond `MAX_UNCOMPRESSED`, any large entry that expands more
than `MAX_RATIO` times, or more than `MAX_ENTRIES` entries. The declared sizes are a real bound:
Python's zipfile never yields more than an entry declares. The readers then cap rows and columns
(`MAX_ROWS`, `MAX_COLUMNS`).

A roster of 10,000 people exported by PBQMS is about 10 MB of sheet XML at a ratio of about 15,
so the limits leave room for a quarter of a million rows.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MB = 1024 * 1024
MAX_UNCOMPRESSED = getattr(settings, "PBQMS_UPLOAD_MAX_UNCOMPRESSED", 256 * MB)
MAX_RATIO = getattr(settings, "PBQMS_UPLOAD_MAX_RATIO", 100)
RATIO_FROM = 1 * MB  # small entries (styles, themes) may compress very well and cost nothing
MAX_ENTRIES = getattr(settings, "PBQMS_UPLOAD_MAX_ENTRIES", 2000)
MAX_ROWS = getattr(settings, "PBQMS_UPLOAD_MAX_ROWS", 250_000)
MAX_COLUMNS = getattr(settings, "PBQMS_UPLOAD_MAX_COLUMNS", 200)


class ArchiveRefused(ValidationError):
    """The upload is not opened: it would expand too much."""


def check_archive(source: str | os.PathLike[str] | bytes | IO[bytes] | Any) -> None:
    """Refuse (ArchiveRefused, a translated message) an .xlsx/.docx that would expand too much.

    `source` is a path, bytes or a binary file; a file is left at the position it had. A file that
    is not a zip archive passes: the reader that opens it next says what is wrong with it."""
    position: int | None = None
    f: Any = source
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    elif hasattr(source, "seek") and hasattr(source, "tell"):
        position = source.tell()
    try:
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return
        with archive:
            entries = archive.infolist()
    finally:
        if position is not None:
            f.seek(position)
    if len(entries) > MAX_ENTRIES:
        raise ArchiveRefused(_("The file holds %(n)s parts, more than the %(max)s an Office file needs; it was "
                               "not opened.") % {"n": len(entries), "max": MAX_ENTRIES}, code="archive_entries")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        raise ArchiveRefused(_("The file would expand to %(size)s MB when opened, more than the %(max)s MB allowed; "
                               "it was not opened. Split it into smaller files.")
                             % {"size": total // MB, "max": MAX_UNCOMPRESSED // MB}, code="archive_size")
    for e in entries:
        if e.file_size > RATIO_FROM and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise ArchiveRefused(_("A part of the file (%(part)s) expands %(ratio)s times when opened, which no "
                                   "real workbook or document does; it was not opened.")
                                 % {"part": e.filename, "ratio": e.file_size // max(e.compress_size, 1)},
                                 code="archive_ratio")


def too_many_rows(row: int) -> str | None:
    """The message refusing a sheet whose row number passed MAX_ROWS, else None."""
    if row > MAX_ROWS:
        return _("The sheet has more than %(max)s rows; split the file.") % {"max": f"{MAX_ROWS:,}"}
    return None


def too_many_columns(count: int) -> str | None:
    if count > MAX_COLUMNS:
        return _("A row has more than %(max)s columns; this is not a roster or scheme file.") % {"max": MAX_COLUMNS}
    return None
