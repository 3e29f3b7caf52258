"""#21.5: an .xlsx that expands enormously (a zip bomb) is refused before it is parsed, quickly and
without blowing the memory: roster import (upload form and the import itself) and scheme import."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.roster import services as roster
from pbqms.roster.models import ImportJob

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def bomb(path: Path, expands_to: int = 300 * MB) -> Path:
    """A real roster workbook whose members sheet is replaced by ~300 MB of rows, deflated."""
    base = io.BytesIO()
    roster.write_template(base, "zh-hans")
    src = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    row = (b'<row><c t="inlineStr"><is><t>' + b"A" * 200 + b"</t></is></c></row>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet2.xml":
                with out.open(info.filename, "w", force_zip64=True) as sheet:
                    sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                                b'spreadsheetml/2006/main"><sheetData>')
                    chunk = row * (MB // len(row))
                    written = 0
                    while written < expands_to:
                        sheet.write(chunk)
                        written += len(chunk)
                    sheet.write(b"</sheetData></worksheet>")
            else:
                out.writestr(info, src.read(info.filename))
    return path


@pytest.fixture(scope="module")
def bomb_file(tmp_path_factory) -> Path:
    path = bomb(tmp_path_factory.mktemp("bomb") / "roster.xlsx")
    assert path.stat().st_size < 3 * MB  # small on disk
    return path


def test_roster_import_refuses_a_zip_bomb_quickly_without_memory(bomb_file, tree):
    tracemalloc.start()
    started = time.monotonic()
    result = roster.import_roster(bomb_file, None)
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    messages = " ".join(e["message"] for e in result.errors)
    assert "MB" in messages and "未打开" in messages, messages
    assert elapsed < 5 and peak < 20 * MB, (elapsed, peak)


def test_upload_form_refuses_the_bomb_with_a_message(client, users, bomb_file, tree):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    upload = SimpleUploadedFile("roster.xlsx", bomb_file.read_bytes(), content_type="application/octet-stream")
    r = client.post(reverse("roster:import"), {"file": upload})
    assert r.status_code == 200
    assert "未打开" in r.content.decode()
    assert not ImportJob.objects.exists()


def test_english_message(english, users, bomb_file, tree):
    english.force_login(users[Role.COMMITTEE_ADMIN])
    upload = SimpleUploadedFile("roster.xlsx", bomb_file.read_bytes())
    r = english.post(reverse("roster:import"), {"file": upload})
    assert "it was not opened" in r.content.decode()


def test_scheme_import_refuses_the_bomb(bomb_file):
    from pbqms.assessment import xlsx as scheme_xlsx

    started = time.monotonic()
    data, errors = scheme_xlsx.read_scheme(bomb_file.read_bytes())
    assert data == {} and "MB" in errors[0].message and time.monotonic() - started < 5


def test_an_ordinary_workbook_passes(tmp_path):
    from pbqms.core import uploads

    buf = io.BytesIO()
    roster.write_template(buf, "zh-hans")
    uploads.check_archive(buf.getvalue())
    buf.seek(7)
    uploads.check_archive(buf)
    assert buf.tell() == 7
