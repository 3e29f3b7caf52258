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


# ---- printed forms: no character left alone on a line (#20.10) --------------------------------

WORD_JOINER = "\u2060"  # no line break here (Pango, Word and browsers honour it)
_PUNCT = set("，。、；：！？”’）》〉】」』,.;:!?)")


def keep_tail(text: str, n: int = 2) -> str:
    """Join the last `n` characters of a text (and any punctuation after them) with word joiners,
    so a wrapped cell or title never leaves one character alone on its last line (通/报)."""
    text = str(text or "")
    chars = [i for i, c in enumerate(text) if not c.isspace() and c not in _PUNCT]
    if len(chars) <= 1:
        return text
    if len(chars) <= n + 1 and not any(c.isspace() for c in text):
        return WORD_JOINER.join(text)  # a short word (排名, 较上期) stays whole
    start = chars[-n]
    if " " in text[start:]:
        return text
    tail = WORD_JOINER.join(text[start:])
    return text[:start] + tail


def _em(c: str) -> float:
    return 0.55 if ord(c) < 0x2E80 else 1.0


def balanced_lines(text: str, per_line: float) -> list[str]:
    """A title as lines of about equal width (in ems) when it does not fit one line of `per_line`
    ems, broken between words (jieba), never inside a number or a Latin word:
    "关于2026年第3季度党建工作考核结果的通报" → "关于2026年第3季度党建 / 工作考核结果的通报"."""
    import jieba

    text = str(text or "")
    total = sum(_em(c) for c in text)
    if total <= per_line or " " in text.strip():
        return [text]
    lines_n = int(-(-total // per_line))
    words = [w for w in jieba.cut(text, HMM=False) if w]
    lines: list[str] = []
    current, width = "", 0.0
    remaining = total
    for k, w in enumerate(words):
        ww = sum(_em(c) for c in w)
        goal = remaining / (lines_n - len(lines)) if len(lines) < lines_n else remaining
        nxt = words[k + 1] if k + 1 < len(words) else ""
        # close the line here when adding this word lands nearer the goal than stopping before it
        if current and len(lines) < lines_n - 1 and abs(width + ww - goal) > abs(width - goal) \
                and w[0] not in _PUNCT:
            lines.append(current)
            remaining -= width
            current, width = "", 0.0
        current += w
        width += ww
        del nxt
    lines.append(current)
    return lines
