"""{% load rect %}: the rectification pages' own helpers — the section tabs, the deadline chip."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pbqms import scope
from pbqms.core import clock

register = template.Library()


@register.inclusion_tag("rectification/_nav.html", takes_context=True)
def rect_nav(context: Any, tab: str = "") -> dict[str, Any]:
    """The tabs of the rectification section; the ledger and the dashboard only for those who read
    a whole subtree (the scope is cached on the user: no query)."""
    user = context["request"].user
    s = scope.get_scope(user)
    return {"tab": tab, "boards": bool(s.is_superuser or s.read_paths)}


@register.simple_tag
def deadline_chip(deadline: dt.date | None, owed: bool = True, today: dt.date | None = None) -> dict[str, Any]:
    """{% deadline_chip notice.deadline notice.is_owed as chip %} → {text, css}: days left or overdue."""
    if deadline is None:
        return {"text": "", "css": ""}
    today = today or clock.today()
    left = (deadline - today).days
    if not owed:
        return {"text": deadline.isoformat(), "css": "due-none"}
    if left < 0:
        return {"text": ngettext("%(n)d day overdue", "%(n)d days overdue", -left) % {"n": -left}, "css": "due-late"}
    if left == 0:
        return {"text": _("due today"), "css": "due-soon"}
    return {"text": ngettext("%(n)d day left", "%(n)d days left", left) % {"n": left},
            "css": "due-soon" if left <= 3 else "due-ok"}
