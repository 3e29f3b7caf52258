"""Building small roster workbooks for the tests, in either language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pbqms.audit.models import AuditEntry
from pbqms.members.models import Member, StatusStep
from pbqms.orgs.models import Unit
from pbqms.roster import columns as C
from pbqms.roster.exporter import new_workbook


def unit_row(code: str, name: str, kind: str, parent: str | None, **extra: Any) -> list[Any]:
    values = {"code": code, "name": name, "kind": kind, "parent": parent, **extra}
    return [values.get(c.key) for c in C.UNIT_COLUMNS]


def member_row(**values: Any) -> list[Any]:
    return [values.get(c.key) for c in C.MEMBER_COLUMNS]


def person(name: str, id_number: str | None, unit: str, status: str = "正式党员",
           status_date: dt.date | None = dt.date(2010, 7, 1), gender: str = "男", **extra: Any) -> list[Any]:
    return member_row(name=name, gender=gender, id_number=id_number, unit=unit, status=status,
                      status_date=status_date, **extra)


def workbook(path: Path, units: list[list[Any]] = (), members: list[list[Any]] = (),  # type: ignore[assignment]
             lang: str = "zh-hans") -> Path:
    wb, ws_units, ws_members = new_workbook(lang, instructions=False)
    for row in units:
        ws_units.append(row)
    for row in members:
        ws_members.append(row)
    wb.save(path)
    return path


def state() -> dict[str, Any]:
    """Everything an import may change, to prove it changed nothing."""
    return {
        "units": list(Unit.objects.order_by("pk").values_list()),
        "members": list(Member.objects.order_by("pk").values_list()),
        "steps": list(StatusStep.objects.order_by("pk").values_list()),
        "audit": AuditEntry.objects.count(),
    }


def errors_at(result: Any) -> set[tuple[str, int | None, str]]:
    """(sheet, row, column) of every reported problem."""
    return {(e["sheet"], e["row"], e["column"]) for e in result.errors}
