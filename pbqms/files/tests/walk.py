"""Teaches the scope walks about attachments (see pbqms/core/tests/walk_registry.py).

files:download takes a <uuid:token>: inside it is a file of a unit the role reads (the group's
file for a group leader, B01's for everyone else), outside a file of B03. The rows are made
directly, without bytes on disk, so the walk writes nothing into the file root: an inside
download then answers 404 (the walk only needs < 500 there); tests/test_views.py downloads real
bytes as every role.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pbqms.accounts.models import Role
from pbqms.files.models import FileKind, StoredFile

WEB_PARAMS = {"token"}
OUTSIDE_WORDS = ["越界附件-第三支部.pdf"]


def _row(unit: Any, name: str) -> StoredFile:
    return StoredFile.objects.create(original_name=name, kind=FileKind.PDF, content_type="application/pdf",
                                     size=10, sha256=hashlib.sha256(name.encode()).hexdigest(),
                                     path="walk/none", unit=unit, org_path=unit.path, owner="walk.record:1")


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    return {"files_b01": str(_row(tree.b01, "第一支部附件.pdf").token),
            "files_g1": str(_row(tree.g1, "党小组附件.pdf").token),
            "files_b03": str(_row(tree.b03, OUTSIDE_WORDS[0]).token)}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    if not inside:
        return {"files:token": extra["files_b03"]}
    return {"files:token": extra["files_g1"] if role == Role.GROUP_LEADER else extra["files_b01"]}


def fingerprint() -> tuple[Any, ...]:
    return tuple(StoredFile.objects.order_by("pk").values_list("pk", "token", "owner", "org_path", "path"))


def outside_state(path: str) -> tuple[Any, ...]:
    return tuple(StoredFile.objects.filter(org_path__startswith=path).order_by("pk").values_list(
        "pk", "token", "owner", "org_path", "path", "size"))
