"""Every table of the objectives pages as .xlsx (openpyxl, write-only: rows stream, memory stays flat)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000


def wants_xlsx(request: Any) -> bool:
    return request.GET.get("export") == "xlsx"


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for i, h in enumerate(headers):
        ws.column_dimensions[chr(ord("A") + i) if i < 26 else "A"].width = max(12, min(48, len(str(h)) * 2 + 4))
    head = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B71C1C")
        head.append(cell)
    ws.append(head)
    for n, row in enumerate(rows):
        if n >= MAX_ROWS:
            break
        ws.append(["" if v is None else (str(v) if not isinstance(v, int | float) else v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.xlsx"
    return response
