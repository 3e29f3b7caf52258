"""Every table of the objectives pages as .xlsx (openpyxl, write-only: rows stream, memory stays flat)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

from pbqms.core import xlsx

XLSX = xlsx.XLSX
MAX_ROWS = 200_000


def wants_xlsx(request: Any) -> bool:
    return request.GET.get("export") == "xlsx"


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """A table through the one writer (pbqms.core.xlsx); named by its translated title, with
    `filename` as the ASCII fallback ("targets-B01-2026" → "目标-B01-2026.xlsx")."""
    content = xlsx.table_bytes(title, list(headers), (
        ["" if v is None else (str(v) if not isinstance(v, int | float) else v) for v in row] for row in rows),
        max_rows=MAX_ROWS)
    rest = re.sub(r"-[a-z]+$", "", re.sub(r"^[a-z]+(?:-[a-z]+)*-", "", filename))
    name = f"{title}-{rest}" if rest != filename else str(title)
    return xlsx.xlsx_response(content, name, fallback=f"{filename}.xlsx")  # type: ignore[return-value]
