"""Pinyin of names, for sorting (按拼音排序) and searching by initials (拼音首字母)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

# Surnames whose reading differs from the character's most common reading (姓氏多音字):
# 曾 is zēng as a surname, not céng; 单 is shàn, not dān; and so on.
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "朴": "piao", "查": "zha", "区": "ou",
    "乐": "yue", "翟": "zhai", "盖": "ge", "缪": "miao", "种": "chong", "覃": "qin", "召": "shao",
    "员": "yun", "秘": "bi", "尉": "yu", "长": "chang", "重": "chong",
    "万俟": "mo qi", "尉迟": "yu chi", "长孙": "zhang sun",
    "沈": "shen", "柏": "bai", "繁": "po", "句": "gou", "车": "che", "华": "hua", "任": "ren",
}


def _syllables(name: str) -> list[str]:
    for surname in sorted(SURNAME_READINGS, key=len, reverse=True):
        if name.startswith(surname):
            return SURNAME_READINGS[surname].split() + lazy_pinyin(name[len(surname):], errors="default")
    return lazy_pinyin(name, errors="default")


@lru_cache(maxsize=65536)
def full(name: str) -> str:
    """'张三' → 'zhangsan' (lower case, so sorting follows pinyin)."""
    return "".join(_syllables(name)).lower()


@lru_cache(maxsize=65536)
def initials(name: str) -> str:
    """'张三' → 'zs'."""
    return "".join(s[:1] for s in _syllables(name)).lower()

