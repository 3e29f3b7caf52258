"""Pinyin of names, for sorting (按拼音排序) and searching by initials (拼音首字母)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def full(name: str) -> str:
    """'张三' → 'zhangsan' (lower case, so sorting follows pinyin)."""
    return "".join(lazy_pinyin(name, errors="default")).lower()


@lru_cache(maxsize=65536)
def initials(name: str) -> str:
    """'张三' → 'zs'."""
    return "".join(p[:1] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()
