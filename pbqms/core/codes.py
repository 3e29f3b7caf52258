"""Names beside codes — 编码显示名称: a finding or a preventive action carries the code of what it
is about (a compliance rule such as GROUP_M, an assessment item such as DJ04); people read the
rule's name, or the item's code with its title. Two queries for any number of codes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def names(codes: Iterable[str]) -> dict[str, str]:
    """code → what people read: a rule's name; an item's "code title"; codes neither knows are
    left out (the caller shows the code)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    from pbqms.activities.models import ComplianceRule
    from pbqms.assessment.selectors import item_lookup

    out: dict[str, str] = dict(ComplianceRule.objects.filter(code__in=[c for c in wanted if "_" in c])
                               .values_list("code", "name")) if any("_" in c for c in wanted) else {}
    rest = [c for c in wanted if c not in out]
    if rest:
        out.update({code: f"{code} {title}" for code, (title, _link) in item_lookup(rest).items()})
    return out


def label(code: str, found: dict[str, str] | None = None) -> str:
    if not code:
        return ""
    found = names([code]) if found is None else found
    return found.get(code, code)


def name_rows(rows: Iterable[Any], attr: str = "item_code", into: str = "item_label") -> list[Any]:
    """The rows, each with `into` set to the name of its `attr` code."""
    rows = list(rows)
    found = names(getattr(r, attr, "") for r in rows)
    for r in rows:
        code = getattr(r, attr, "") or ""
        setattr(r, into, found.get(code, code))
    return rows


def model_name(model: Any) -> str:
    """A record type as people read it: its verbose name, translated; for the few models that
    give none of their own (Django would make an English one from the class name), ours."""
    from django.utils.translation import gettext as _

    if "verbose_name" in model._meta.original_attrs:
        return str(model._meta.verbose_name)
    own = {
        "assessment.peergroupmember": _("benchmark group member (对标组成员)"),
        "assessment.itemresult": _("item figure (单项得分)"),
        "assessment.starchange": _("star rating change (星级变动)"),
    }
    return own.get(model._meta.label_lower, str(model._meta.verbose_name))
