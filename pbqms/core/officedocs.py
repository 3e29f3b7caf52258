"""Shared helpers for official forms in .docx (python-docx): Chinese fonts set the way Word reads them."""

from __future__ import annotations

from typing import Any


def font(run: Any, name: str, size: float | None = None, bold: bool = False) -> Any:
    """Give a run a font for Latin and East Asian text alike (Word keeps them apart: w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = r_pr.makeelement(qn("w:rFonts"), {})
        r_pr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    run.bold = bold
    return run
