"""The system's notion of today — 当前日期. Services ask here rather than the wall clock, so the demo
builder can lay down a year of history "as of" past dates and tests can move time forward.
Outside an `as_of` block this is simply timezone.now() / timezone.localdate().
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_as_of: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("pbqms_as_of", default=None)


def now() -> dt.datetime:
    fixed = _as_of.get()
    return fixed if fixed is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def as_of(when: dt.date | dt.datetime) -> Iterator[None]:
    """Run the block as if it were `when` (a date means 10:00 local time that day)."""
    if not isinstance(when, dt.datetime):
        when = timezone.make_aware(dt.datetime.combine(when, dt.time(10, 0)))
    token = _as_of.set(when)
    try:
        yield
    finally:
        _as_of.reset(token)
