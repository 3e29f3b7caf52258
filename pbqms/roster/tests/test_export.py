"""Member export: scope, masking, the member list's filters, and the round trip through import."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.core import crypto
from pbqms.roster import services

from .helpers import state

pytestmark = pytest.mark.django_db


def read(data: bytes | str) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, read_only=True)
    out = {ws.title: [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
           for ws in wb.worksheets}
    wb.close()
    return out


def export(actor, params=None, **kw) -> dict[str, list[tuple]]:
    buf = io.BytesIO()
    services.export_members(params or {}, actor, buf, **kw)
    return read(buf.getvalue())


def names(sheets) -> set[str]:
    return {row[0] for row in sheets["党员"][1:]}


def test_export_respects_scope(users, tree):
    assert names(export(None)) == {"张三", "李四", "王五"}
    assert names(export(users[Role.COMMITTEE_SECRETARY])) == {"张三", "李四"}
    assert names(export(users[Role.BRANCH_SECRETARY])) == {"张三"}
    assert names(export(users[Role.MEMBER])) == {"张三"}  # a member reads only themself
    units = {row[0] for row in export(users[Role.BRANCH_SECRETARY])["党组织"][1:]}
    assert units == {"B01", "B01G1"}
    with pytest.raises(Http404):
        export(users[Role.BRANCH_SECRETARY], {"unit": "B02"})


def test_export_masks_and_unmasks_only_where_allowed(users, tree):
    sheets = export(users[Role.COMMITTEE_ADMIN])
    header = sheets["党员"][0]
    id_col, phone_col = header.index("身份证号"), header.index("手机")
    row = next(r for r in sheets["党员"][1:] if r[0] == "张三")
    assert row[id_col] == tree.m01.id_number_masked and "*" in row[id_col]
    assert row[phone_col] == "138****1111"
    clear = export(users[Role.COMMITTEE_ADMIN], unmask=True)
    row = next(r for r in clear["党员"][1:] if r[0] == "张三")
    assert row[id_col] == crypto.decrypt(tree.m01.id_number_encrypted) and row[phone_col] == "13800001111"
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("-id").first()
    assert entry.changes["unmasked"] == [None, True] and entry.actor == users[Role.COMMITTEE_ADMIN]
    with pytest.raises(PermissionDenied):
        export(users[Role.BRANCH_SECRETARY], unmask=True)


def test_export_uses_the_member_list_filters(users, tree, tmp_path):
    from pbqms.members import services as members

    members.create_member(None, unit=tree.b01, name="赵群", gender="F", status="masses")
    admin = users[Role.COMMITTEE_ADMIN]
    assert names(export(admin, {"status": "masses"})) == {"赵群"}
    assert names(export(admin, {"unit": "B02"})) == {"李四"}
    assert names(export(admin, {"q": "zs"})) == {"张三"}
    assert names(export(admin, {"unit": "B01G1"})) == {"张三"}  # a group: its own people


@pytest.mark.parametrize("role", [None, Role.COMMITTEE_ADMIN, Role.BRANCH_SECRETARY])
def test_exported_file_imports_again_unchanged(users, tree, tmp_path, role):
    actor = users[role] if role else None
    path = tmp_path / "roundtrip.xlsx"
    count = services.export_members({}, actor, path)
    before = state()
    result = services.import_roster(path, actor)
    assert result.ok, result.errors
    assert result.summary["members_unchanged"] == count and result.summary["members_created"] == 0
    assert result.summary["units_created"] == result.summary["units_updated"] == 0
    after = state()
    assert after["audit"] == before["audit"] + 1  # only the import record
    assert after["members"] == before["members"] and after["steps"] == before["steps"]


def test_unmasked_export_imports_again_unchanged(users, tree, tmp_path):
    path = tmp_path / "clear.xlsx"
    services.export_members({}, None, path, unmask=True)
    result = services.import_roster(path, None)
    assert result.ok, result.errors
    assert result.summary["members_unchanged"] == 3


def test_edited_export_updates_the_person(users, tree, tmp_path):
    path = tmp_path / "edit.xlsx"
    services.export_members({"unit": "B01"}, None, path)
    wb = load_workbook(path)
    ws = wb["党员"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("岗位") + 1, value="支部书记")
    wb.save(path)
    result = services.import_roster(path, None)
    assert result.ok, result.errors
    assert result.summary["members_updated"] == 1
    tree.m01.refresh_from_db()
    assert tree.m01.post == "支部书记"


def test_export_in_english(users, tree):
    buf = io.BytesIO()
    services.export_members({}, None, buf, language="en")
    sheets = read(buf.getvalue())
    assert set(sheets) == {"Units", "Members"}
    assert sheets["Members"][0][:3] == ("Name", "Gender", "Ethnicity")
    row = next(r for r in sheets["Members"][1:] if r[0] == "张三")
    assert row[1] == "Male" and "Full member" in row


def test_full_export_on_the_web_is_for_id_roles_only_and_audited(client, users, tree):
    """#20: a roster export with full ID numbers, to import again — only for roles that may read
    ID numbers, each one an audit entry; refused (403, nothing logged) for the others."""
    from django.urls import reverse

    url = reverse("roster:export") + "?unmask=1"
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.get(url)
    assert r.status_code == 200
    assert 'filename="roster-full-' in r["Content-Disposition"]
    sheets = read(b"".join(r.streaming_content))
    number = crypto.decrypt(tree.m01.id_number_encrypted)
    assert any(number in row for row in sheets["党员"])
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.changes["unmasked"] == [None, True] and entry.actor == users[Role.COMMITTEE_ADMIN]
