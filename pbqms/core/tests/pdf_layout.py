"""Checks of a printed form as WeasyPrint lays it out (#20.10): its pages and the text of each
laid-out line, so a test can say "one page", "the signatures sit with the text" or "no line holds a
single character" (a column squeezed to one character a line, a title leaving 报 alone) without
an external PDF reader.

    doc = weasyprint.HTML(string=html).render()   # or a form's own `…_print()` Document
    assert len(doc.pages) == 1
    assert not lonely_characters(doc)
"""

from __future__ import annotations

import re
from typing import Any

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _texts(box: Any) -> list[str]:
    out: list[str] = []
    if getattr(box, "text", None):
        out.append(box.text)
    for child in getattr(box, "children", None) or ():
        out.extend(_texts(child))
    return out


def _blocks(document: Any) -> list[list[list[str]]]:
    """Per page, per block of text (a paragraph, a table cell), the text of each laid-out line."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any, out: list[list[str]]) -> None:
        children = list(getattr(box, "children", None) or ())
        lines = [c for c in children if isinstance(c, boxes.LineBox)]
        if lines:
            out.append(["".join(_texts(line)) for line in lines])
        for child in children:
            if not isinstance(child, boxes.LineBox):
                walk(child, out)

    pages = []
    for page in document.pages:
        blocks: list[list[str]] = []
        walk(page._page_box, blocks)
        pages.append(blocks)
    return pages


def page_lines(document: Any) -> list[list[str]]:
    """Per page, the text of every laid-out line (a line of a table cell is a line too)."""
    return [[line for block in blocks for line in block] for blocks in _blocks(document)]


def lonely_characters(document: Any) -> list[str]:
    """Lines a block's text wrapped to leaving one Chinese character alone (perhaps with
    punctuation): a squeezed column, or a title broken before its last character. A cell whose
    whole text is one character (是) is not lonely."""
    lonely = []
    for blocks in _blocks(document):
        for lines in blocks:
            if len(lines) < 2:
                continue
            for line in lines:
                bare = re.sub(r"[\s，。、；：！？“”（）《》—\-.,;:()]", "", line)
                if len(bare) == 1 and CJK.match(bare):
                    lonely.append("|".join(lines))
    return lonely


def page_of(document: Any, text: str) -> int | None:
    """The 1-based page whose lines hold `text` (None when no page does)."""
    for number, lines in enumerate(page_lines(document), 1):
        if text in "".join(lines).replace("\u2060", ""):
            return number
    return None


def cell_width_mm(document: Any, text: str) -> float | None:
    """The width (mm) of the first table cell whose text holds `text`."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any) -> float | None:
        if isinstance(box, boxes.TableCellBox) and text in "".join(_texts(box)):
            return float(box.width) * 25.4 / 96
        for child in getattr(box, "children", None) or ():
            found = walk(child)
            if found is not None:
                return found
        return None

    for page in document.pages:
        found = walk(page._page_box)
        if found is not None:
            return found
    return None
