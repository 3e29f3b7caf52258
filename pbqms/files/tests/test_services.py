"""Storing attachments: every accepted kind kept exactly; every bad file refused with a clear
message and nothing written (no row, no bytes, no audit entry)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from pbqms import scope
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.files import services
from pbqms.files.models import StoredFile

from . import samples
from .conftest import files_on_disk

PNG = samples.image("PNG")


def nothing_written(root) -> None:
    assert StoredFile.objects.count() == 0
    assert files_on_disk(root) == []
    assert not AuditEntry.objects.filter(model="files.storedfile").exists()


@pytest.mark.parametrize("name", list(samples.GOOD))
def test_each_accepted_kind_is_stored_exactly(tree, users, file_root, name):
    content, kind, content_type = samples.GOOD[name]
    actor = users[Role.BRANCH_SECRETARY]
    f = services.store_upload(actor, samples.upload(name), unit=tree.b01, owner="rectification.finding:12")
    f.refresh_from_db()
    assert (f.original_name, f.kind, f.content_type, f.size) == (name, kind, content_type, len(content))
    assert f.sha256 == hashlib.sha256(content).hexdigest()
    assert (f.org_path, f.unit, f.owner, f.uploaded_by) == (tree.b01.path, tree.b01, "rectification.finding:12", actor)
    assert re.fullmatch(rf"\d{{4}}/\d{{2}}/{f.token.hex}", f.path)  # nothing of the user's name on disk
    assert files_on_disk(file_root) == [file_root / f.path]
    with services.open_file(f) as fh:
        assert fh.read() == content
    entry = AuditEntry.objects.get(model="files.storedfile", object_id=str(f.pk))
    assert (entry.action, entry.org_path, entry.actor) == (AuditAction.CREATE, tree.b01.path, actor)
    assert entry.changes["original_name"] == [None, name]


def test_file_url_is_the_download_link(tree, file_root):
    f = services.store_upload(None, samples.upload("照片.png"), unit=tree.b01)
    assert services.file_url(f) == f"/files/{f.token}/" == f.get_absolute_url()


LIAR = "“%s”的文件内容与扩展名不符。"
BAD = [
    # (name, content, kinds, message)
    ("报告.pdf", PNG, None, LIAR % "报告.pdf"),
    ("setup.pdf", samples.EXE, None, LIAR % "setup.pdf"),
    ("照片.jpg", PNG, None, LIAR % "照片.jpg"),
    ("假表.xlsx", samples.docx(), None, LIAR % "假表.xlsx"),
    ("压缩包.docx", samples.plain_zip(), None, LIAR % "压缩包.docx"),
    ("坏文件.docx", b"PK\x03\x04" + b"\x00" * 200, None, LIAR % "坏文件.docx"),
    ("旧台账.xls", samples.ole("WordDocument"), None, LIAR % "旧台账.xls"),
    ("旧演示.doc", samples.ole("PowerPoint Document"), None, LIAR % "旧演示.doc"),
    ("乱码.pdf", b"just some text, no PDF at all", None, LIAR % "乱码.pdf"),
    ("setup.exe", samples.EXE, None,
     "“setup.exe”无法接收：此处只允许以下类型的文件：.jpg .jpeg .png .gif .webp .pdf .docx .doc .xlsx .xls .pptx。"),
    ("没有扩展名", PNG, None,
     "“没有扩展名”无法接收：此处只允许以下类型的文件：.jpg .jpeg .png .gif .webp .pdf .docx .doc .xlsx .xls .pptx。"),
    ("照片.png", PNG, ["pdf", "word"], "“照片.png”无法接收：此处只允许以下类型的文件：.pdf .docx .doc。"),
    ("目标.xlsx", samples.xlsx(), ["pdf", "word"], "“目标.xlsx”无法接收：此处只允许以下类型的文件：.pdf .docx .doc。"),
    ("空的.pdf", b"", None, "“空的.pdf”是空文件。"),
]


@pytest.mark.parametrize(("name", "content", "kinds", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_refused_and_nothing_written(tree, file_root, name, content, kinds, message):
    with pytest.raises(ValidationError) as exc:
        services.store_upload(None, samples.upload(name, content), unit=tree.b01, kinds=kinds)
    assert exc.value.messages == [message]
    nothing_written(file_root)


def test_too_big_is_refused_with_the_limit(tree, file_root, settings):
    settings.PBQMS_MAX_UPLOAD_MB = 1
    big = samples.PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as exc:
        services.store_upload(None, samples.upload("大文件.pdf", big), unit=tree.b01)
    assert exc.value.messages == ["“大文件.pdf”超过了 1 MB 的大小限制。"]
    nothing_written(file_root)
    exactly = samples.PDF + b"0" * (1024 * 1024 - len(samples.PDF))
    assert services.store_upload(None, samples.upload("刚好.pdf", exactly), unit=tree.b01).size == 1024 * 1024


class LyingUpload:
    """Claims to be small; streams more than the limit (the size is counted while streaming)."""

    name = "骗子.pdf"
    size = 100

    def chunks(self, chunk_size=None):
        yield samples.PDF
        for _ in range(20):
            yield b"0" * (64 * 1024)


def test_a_file_lying_about_its_size_is_stopped_while_streaming(tree, file_root, settings):
    settings.PBQMS_MAX_UPLOAD_MB = 1
    with pytest.raises(ValidationError) as exc:
        services.store_upload(None, LyingUpload(), unit=tree.b01)
    assert exc.value.messages == ["“骗子.pdf”超过了 1 MB 的大小限制。"]
    nothing_written(file_root)


class ReadOnly:
    """Not a Django upload: only a name and read()."""

    def __init__(self, name, content):
        import io

        self.name, self._buf = name, io.BytesIO(content)

    def read(self, n=-1):
        return self._buf.read(n)


def test_any_object_with_read_is_accepted(tree, file_root):
    f = services.store_upload(None, ReadOnly("扫描件.pdf", samples.PDF), unit=tree.b01)
    assert (f.kind, f.size) == ("pdf", len(samples.PDF))


def test_big_file_hash_is_streamed_right(tree, file_root):
    content = samples.PDF + bytes(range(256)) * 12_000  # ~3 MB: Django would spool it to disk
    f = services.store_upload(None, samples.upload("大报告.pdf", content), unit=tree.b01)
    assert (f.size, f.sha256) == (len(content), hashlib.sha256(content).hexdigest())


def test_messages_in_english(tree, file_root):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.store_upload(None, samples.upload("report.pdf", PNG), unit=tree.b01)
    assert exc.value.messages == ["The content of “report.pdf” does not match its extension."]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.store_upload(None, samples.upload("photo.png", PNG), unit=tree.b01, kinds=["pdf"])
    assert exc.value.messages == ["“photo.png” cannot be accepted: only these file types are allowed here: .pdf."]
    nothing_written(file_root)


def test_names_lose_folders_and_control_characters(tree, file_root):
    f = services.store_upload(None, samples.upload("../../etc/报告\x00\n.pdf", samples.PDF), unit=tree.b01)
    assert f.original_name == "报告.pdf"
    assert ".." not in f.path and "报告" not in f.path
    long = "长" * 300 + ".pdf"
    assert services.store_upload(None, samples.upload(long, samples.PDF), unit=tree.b01).original_name == \
        "长" * 251 + ".pdf"


def test_failure_after_the_row_leaves_nothing(tree, file_root, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.audit, "record", boom)
    with pytest.raises(RuntimeError):
        services.store_upload(None, samples.upload("照片.png"), unit=tree.b01)
    nothing_written(file_root)


def test_failure_at_the_rename_leaves_nothing(tree, file_root, monkeypatch):
    real = services.os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(services.os, "replace", second_fails)
    with pytest.raises(OSError):
        services.store_many(None, [samples.upload("照片.png"), samples.upload("整改报告.pdf")], unit=tree.b01)
    nothing_written(file_root)


def test_store_many_is_all_or_nothing_and_names_every_bad_file(tree, file_root):
    uploads = [samples.upload("照片.png"), samples.upload("报告.pdf", PNG), samples.upload("整改报告.pdf"),
               samples.upload("空的.docx", b"")]
    with pytest.raises(ValidationError) as exc:
        services.store_many(None, uploads, unit=tree.b01, owner="documents.document:1")
    assert exc.value.messages == [LIAR % "报告.pdf", "“空的.docx”是空文件。"]
    nothing_written(file_root)
    rows = services.store_many(None, [samples.upload("照片.png"), samples.upload("整改报告.pdf")], unit=tree.b01,
                               owner="documents.document:1", kinds=["image", "pdf"])
    assert [(r.original_name, r.owner) for r in rows] == [("照片.png", "documents.document:1"),
                                                          ("整改报告.pdf", "documents.document:1")]
    assert len(files_on_disk(file_root)) == 2
    assert services.store_many(None, [], unit=tree.b01) == []


def test_unknown_kind_is_a_programming_error(tree, file_root):
    with pytest.raises(ValueError):
        services.store_upload(None, samples.upload("照片.png"), unit=tree.b01, kinds=["video"])
    nothing_written(file_root)


def test_attach_gives_uploads_to_their_record(tree, users, file_root):
    actor = users[Role.BRANCH_SECRETARY]
    first = services.store_upload(actor, samples.upload("照片.png"), unit=tree.b01)
    second = services.store_upload(actor, samples.upload("整改报告.pdf"), unit=tree.b01)
    assert first.owner == ""
    pending = scope.pending_files(actor, [str(first.token), second.token.hex, "not-a-token", None])
    assert set(pending) == {first, second}
    assert not scope.pending_files(users[Role.COMMITTEE_ADMIN], [str(first.token)]).exists()  # not theirs
    services.attach(pending, owner="rectification.feedback:7", unit=tree.b02)
    first.refresh_from_db()
    assert (first.owner, first.unit, first.org_path) == ("rectification.feedback:7", tree.b02, tree.b02.path)
    assert not scope.pending_files(actor, [str(first.token)]).exists()  # attached: no longer pending
    entry = AuditEntry.objects.get(model="files.storedfile", object_id=str(first.pk), action=AuditAction.UPDATE)
    assert entry.changes["owner"] == ["", "rectification.feedback:7"]
    services.attach([first], owner="rectification.feedback:7", unit=tree.b02)  # again: no change
    with pytest.raises(ValidationError) as exc:
        services.attach([first], owner="rectification.feedback:8", unit=tree.b03)
    assert exc.value.messages == ["“照片.png”已属于另一条记录。"]
    first.refresh_from_db()
    assert first.owner == "rectification.feedback:7" and first.org_path == tree.b02.path


# Which fixture files each role reads: B01's, the group's, B03's.
READS = {
    Role.COMMITTEE_SECRETARY: {"b01", "g1"},
    Role.COMMITTEE_ADMIN: {"b01", "g1"},
    Role.DEPARTMENT_STAFF: {"b01", "g1"},
    Role.INTERNAL_AUDITOR: {"b01", "g1"},
    Role.BRANCH_SECRETARY: {"b01", "g1"},
    Role.BRANCH_COMMITTEE: {"b01", "g1"},
    Role.GROUP_LEADER: {"g1"},
    Role.MEMBER: {"b01"},
}


def test_can_read_file_as_every_role(any_role, stored, admin_user):
    role, user = any_role
    assert {k for k, f in stored.items() if scope.can_read_file(user, f)} == READS[role]
    assert all(scope.can_read_file(admin_user, f) for f in stored.values())
    assert not any(scope.can_read_file(None, f) for f in stored.values())


def test_own_unattached_upload_is_readable_until_attached(tree, users, file_root):
    leader = users[Role.GROUP_LEADER]
    f = services.store_upload(leader, samples.upload("照片.png"), unit=tree.b01)
    assert scope.can_read_file(leader, f)
    assert not scope.can_read_file(users[Role.MEMBER], StoredFile(org_path=tree.b03.path, unit=tree.b03,
                                                                   uploaded_by=leader))
    # before it is attached, nobody else reads it, even those who read B01
    assert not any(scope.can_read_file(u, f) for r, u in users.items() if r != Role.GROUP_LEADER)
    services.attach([f], owner="meetings.record:1", unit=tree.b01)
    assert not scope.can_read_file(leader, f)  # now it is B01's, which a group leader does not read
    assert scope.can_read_file(users[Role.MEMBER], f) and scope.can_read_file(users[Role.BRANCH_SECRETARY], f)
