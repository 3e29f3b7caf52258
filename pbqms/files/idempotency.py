"""Submitting once — 防重复提交: a one-time key on create forms and API POSTs, so that a double
click, a resent request or two simultaneous submissions make one record, and the second answers
with the first's result.

A create form mixes in `OnceFormMixin` (a hidden field `submission_key` holding a fresh random
key each time the empty form is shown; a form shown again after an error keeps its key). An API
client sends the header `Idempotency-Key: <up to 64 letters, digits, - _ . :>` with a POST that
creates. The view or endpoint wraps its service call:

    outcome = idempotency.once(user, idempotency.form_key(form), "rectification.finding",
                               lambda: services.record_finding(...))
    outcome.pk        # the new record's pk, or the first submission's on a replay
    outcome.created   # False on a replay: nothing was made this time

`once` records the key and runs the creation in one transaction: when the creation fails (a
ValidationError, a refused file), the key is not spent and the corrected form may be sent again.
Two submissions arriving together serialise on the key's unique row: the second waits for the
first to commit, then finds its result. A key used for another kind of record is refused. Keys
are per user and kept KEEP_DAYS days (purged by the daily schedule).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SubmissionKey

FIELD = "submission_key"
HEADER = "Idempotency-Key"
KEEP_DAYS = 7
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


def new_key() -> str:
    return uuid.uuid4().hex


class OnceFormMixin(forms.Form):
    """Adds the hidden one-time `submission_key` to a create form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[FIELD] = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput,
                                             initial=new_key)

    def clean_submission_key(self) -> str:
        value = (self.cleaned_data.get(FIELD) or "").strip()
        return value if KEY_RE.match(value) else ""  # a tampered key is as good as none


def form_key(form: forms.Form) -> str:
    """The form's one-time key ("" when it has none)."""
    return str(getattr(form, "cleaned_data", {}).get(FIELD) or "")


def post_key(request: Any) -> str:
    """The one-time key a hand-made form posted in `submission_key` ("" when none or malformed)."""
    value = (request.POST.get(FIELD) or "").strip() if request.method == "POST" else ""
    return value if KEY_RE.match(value) else ""


def replayed_message() -> str:
    return _("This form had already been sent; nothing new was made. Here is what the first submission made.")


def header_key(request: Any) -> str:
    """The request's Idempotency-Key header ("" when absent); a malformed one is refused."""
    value = (request.headers.get(HEADER) or "").strip()
    if value and not KEY_RE.match(value):
        raise ValidationError(_("The Idempotency-Key header must be 8 to 64 letters, digits or - _ . :"),
                              code="idempotency_key")
    return value


@dataclass(frozen=True)
class Outcome:
    pk: int
    created: bool
    obj: Any = None  # the record made now (None on a replay)


def once(user: Any, key: str, kind: str, create: Callable[[], Any]) -> Outcome:
    """Run `create()` (which returns the record it made) once per (user, key); see the module's
    docstring. Without a key, or for an anonymous caller, simply runs it."""
    if not key or user is None or not getattr(user, "pk", None):
        obj = create()
        return Outcome(obj.pk, True, obj)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = SubmissionKey.objects.create(user_id=user.pk, key=key, kind=kind)
        except IntegrityError:
            first = SubmissionKey.objects.filter(user_id=user.pk, key=key).first()
            if first is None or first.kind != kind or first.object_id is None:
                raise ValidationError(_("This submission key was already used for another request; "
                                        "reload the form and try again."), code="idempotency_key") from None
            return Outcome(first.object_id, False)
        obj = create()
        SubmissionKey.objects.filter(pk=row.pk).update(object_id=obj.pk)
    return Outcome(obj.pk, True, obj)


def previous(user: Any, key: str, kind: str) -> int | None:
    """The pk of what an earlier submission with this key made, if any: for a form whose second
    submission can no longer pass its own checks (the first already used up its choices)."""
    if not key or user is None or not getattr(user, "pk", None):
        return None
    return SubmissionKey.objects.filter(user_id=user.pk, key=key, kind=kind).values_list(
        "object_id", flat=True).first()


def purge(now: dt.datetime | None = None) -> int:
    """Forget keys older than KEEP_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=KEEP_DAYS)
    return SubmissionKey.objects.filter(created_at__lt=cutoff).delete()[0]
