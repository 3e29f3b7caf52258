"""The printed bulletin as laid out (#20.10): the title breaks between words and never leaves
报 alone; the ranking table's headers and unit names never wrap to a lonely character."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from pbqms.core.officedocs import WORD_JOINER, balanced_lines, keep_tail
from pbqms.core.tests.pdf_layout import lonely_characters, page_lines

CATEGORIES = ["党建工作", "宣传工作", "党风廉政建设", "工会工作", "共青团工作", "社会治安及武装保卫"]
UNITS = ["综采一区党支部", "西翼井巷改造工程临时党支部", "安全监察处党支部", "机关第一党支部"]


def bulletin(title: str) -> SimpleNamespace:
    paragraphs = {"intro": "根据《钱营孜矿党委基层党支部“六考一评”考核细则》，钱营孜矿党委对15个党组织进行了考核。",
                  "overview": "平均总分88.11分，最高92.8分，最低79.36分。", "more": "", "top": "", "improvers": "",
                  "items": "DJ03 “三会一课”质量：扣分3次，共失1.5分", "vetoes": "", "next": "抓记录规范。"}
    return SimpleNamespace(owner=SimpleNamespace(name="钱营孜矿党委"), title=title, paragraphs=paragraphs, top=[],
                           improvers=[], items=[1], vetoes=[], issued_on="2026年10月8日")


def rendered(title: str):
    from weasyprint import HTML

    headers = ["排名", "所属组织", "总分", *CATEGORIES, "较上期", "否决"]
    rows = [[str(i), u, "91.4", "40.4", "13", "10.5", "9", "8", "9", "+2.3", ""] for i, u in enumerate(UNITS, 1)]
    html = render_to_string("assessment/bulletin_print.html", {
        "b": bulletin(title), "h": {k: k for k in ("overview", "ranking", "highlights", "items", "vetoes", "next")},
        "rows": rows, "headers": headers})
    return HTML(string=html).render()


@pytest.mark.parametrize("period", ["2026年第3季度", "2026年上半年", "2025年度"])
def test_the_title_keeps_tongbao_together(period):
    title = f"关于{period}党建工作考核结果的通报"
    document = rendered(title)
    lines = page_lines(document)[0]
    assert lonely_characters(document) == []
    assert "通报" in "".join(lines) and "报" not in [line.strip() for line in lines]
    start = next(i for i, line in enumerate(lines) if line.startswith("关于"))
    title_lines = lines[start:start + 2] if lines[start] != title else [title]
    assert "".join(title_lines).replace(WORD_JOINER, "") == title
    assert all(len(line) >= 6 for line in title_lines)


def test_balanced_lines_and_kept_tails():
    assert balanced_lines("关于2026年度党建工作考核结果的通报", 19) == ["关于2026年度党建工作考核结果的通报"]
    first, second = balanced_lines("关于2026年第3季度党建工作考核结果的通报", 19)
    assert first.startswith("关于2026年第3季度") and second.endswith("通报") and len(second) >= 8
    assert keep_tail("按期反馈整改通知书并提交佐证材料").endswith(f"材{WORD_JOINER}料")
    assert keep_tail("是") == "是" and keep_tail("排名") == f"排{WORD_JOINER}名"
