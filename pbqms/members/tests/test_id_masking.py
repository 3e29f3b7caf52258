"""Decision 0011: what a role without the right to read ID numbers sees of a member — pages, API,
export, audit trail — must leave at least a million ID numbers consistent with it."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import re

import pytest
from django.apps import apps
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.conftest import make_id_number
from pbqms.members import idnumber, services
from pbqms.members.models import Member
from pbqms.scope import ID_NUMBER_ROLES

pytestmark = pytest.mark.django_db

UNPRIVILEGED = [r for r in (Role.COMMITTEE_SECRETARY, Role.INTERNAL_AUDITOR, Role.BRANCH_SECRETARY,
                            Role.BRANCH_COMMITTEE, Role.GROUP_LEADER, Role.MEMBER) if r not in ID_NUMBER_ROLES]
TOKEN = re.compile(r"(?<![0-9Xx*])[0-9Xx*]{18}(?![0-9Xx*])")


def _text(value) -> str:  # type: ignore[no-untyped-def]
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def everything_seen(client, user, member: Member) -> str:  # type: ignore[no-untyped-def]
    """All a user can read of `member` through the product: web pages, API, export, audit log."""
    client.force_login(user)
    seen: list[str] = []
    for url in (reverse("members:detail", args=[member.pk]), reverse("members:history", args=[member.pk]),
                reverse("members:list"), reverse("members:edit", args=[member.pk]),
                reverse("audit:log") + "?model=members.member"):
        r = client.get(url)
        if r.status_code == 200:
            seen.append(r.content.decode())
    r = client.get(reverse("roster:export"))
    if r.status_code == 200:
        wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                seen.append(" ".join(_text(v) for v in row))
    headers = {"Authorization": f"Bearer {accounts.issue_token(user)}"}
    for path in (f"/api/v1/members/{member.pk}", "/api/v1/members"):
        r = client.get(path, headers=headers)
        if r.status_code == 200:
            seen.append(json.dumps(r.json(), ensure_ascii=False))
    return "\n".join(seen)


def consistent_numbers(number: str, seen: str) -> int:
    """How many valid ID numbers agree with everything in `seen` that agrees with `number`.

    Conservative: a character is known wherever any masked copy shows it; the birth date is known
    if it appears in any usual format (else its year and month, else nothing); the gender (digit
    17's parity) is always assumed known. Counted exactly with the check digit (mod 11).
    """
    assert number not in seen.upper()
    known = [False] * 18
    for token in TOKEN.findall(seen):
        token = token.upper()
        if all(c == "*" or c == number[i] for i, c in enumerate(token)):
            for i, c in enumerate(token):
                known[i] = known[i] or c != "*"
    born = idnumber.birth_date_of(number)
    if any(f in seen for f in (born.isoformat(), f"{born:%Y/%m/%d}", f"{born:%Y%m%d}",
                               f"{born.year}年{born.month}月{born.day}日")):
        dates = [f"{born:%Y%m%d}"]
    elif any(f in seen for f in (f"{born:%Y-%m}", f"{born.year}年{born.month}月")):
        dates = [f"{born:%Y%m}{d:02d}" for d in range(1, 32) if _valid(born.year, born.month, d)]
    else:
        dates = [d.strftime("%Y%m%d") for d in _all_dates()]
    # blocks of positions, each with the strings it may hold
    blocks: list[tuple[int, list[str]]] = []
    for i in range(6):
        blocks.append((i, [number[i]] if known[i] else list("0123456789")))
    blocks.append((6, [d for d in dates if all(not known[6 + k] or d[k] == number[6 + k] for k in range(8))]))
    for i in (14, 15):
        blocks.append((i, [number[i]] if known[i] else list("0123456789")))
    parity = int(number[16]) % 2
    blocks.append((16, [number[16]] if known[16] else [str(d) for d in range(10) if d % 2 == parity]))
    counts = {0: 1}
    for start, options in blocks:
        nxt: dict[int, int] = {}
        for opt in options:
            w = sum(int(c) * idnumber.WEIGHTS[start + k] for k, c in enumerate(opt)) % 11
            for mod, n in counts.items():
                nxt[(mod + w) % 11] = nxt.get((mod + w) % 11, 0) + n
        counts = nxt
    if known[17]:
        return sum(n for mod, n in counts.items() if idnumber.CHECK_CHARS[mod] == number[17])
    return sum(counts.values())


def _valid(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _all_dates():  # type: ignore[no-untyped-def]
    d = dt.date(1900, 1, 1)
    while d <= dt.date.today():
        yield d
        d += dt.timedelta(days=1)


@pytest.mark.parametrize("role", UNPRIVILEGED)
def test_what_an_unprivileged_role_sees_leaves_a_million_numbers(client, users, tree, role):
    """The member's page, history, edit form, list, export, API and audit log together."""
    admin = users[Role.COMMITTEE_ADMIN]
    old = tree.m01
    new_number = make_id_number(7, old.birth_date)
    services.update_member(admin, old, id_number=new_number)  # the audit trail holds two masks now
    member = Member.objects.get(pk=old.pk)
    seen = everything_seen(client, users[role], member)
    assert str(member.birth_date.year) in seen  # the pages were really read
    assert consistent_numbers(new_number, seen) >= 10**6
    assert consistent_numbers(make_id_number(1, old.birth_date), seen) >= 10**6  # the former one too


def test_the_old_mask_left_about_nine_numbers():
    """Why the mask changed: the first and last four characters plus the birth date gave it away."""
    number = make_id_number(1, dt.date(1985, 3, 12))
    seen = f"{number[:4]}{'*' * 10}{number[-4:]} 1985-03-12"
    assert consistent_numbers(number, seen) < 20
    assert consistent_numbers(number, f"{idnumber.mask(number)} 1985-03-12") >= 10**6


def test_mask_shows_first_and_last_character_only():
    number = make_id_number(5)
    assert idnumber.mask(number) == number[0] + "*" * 16 + number[-1]
    assert idnumber.remask(number[:4] + "*" * 10 + number[-4:]) == idnumber.mask(number)


def test_migration_rewrites_stored_masks_and_audit_copies(tree):
    number = make_id_number(1, tree.m01.birth_date)
    wide = number[:4] + "*" * 10 + number[-4:]
    Member.objects.filter(pk=tree.m01.pk).update(id_number_masked=wide)
    entry = AuditEntry.objects.create(action=AuditAction.UPDATE, model="members.member", object_id=str(tree.m01.pk),
                                      object_repr="张三", changes={"id_number_masked": ["", wide], "name": ["a", "b"]},
                                      org_path=tree.m01.org_path)
    migration = importlib.import_module("pbqms.members.migrations.0003_remask_id_numbers")
    migration.forwards(apps, None)
    assert Member.objects.get(pk=tree.m01.pk).id_number_masked == idnumber.mask(number)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.changes == {"id_number_masked": ["", idnumber.mask(number)], "name": ["a", "b"]}
    assert not AuditEntry.objects.filter(changes__icontains=number[:4] + "*").exists()
