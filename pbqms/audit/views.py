"""The audit log search — 操作日志查询, for the roles scope.can_read_audit_log allows."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from pbqms import scope
from pbqms.core.codes import model_name
from pbqms.core.views import paginate

from . import selectors
from .models import AuditAction, AuditEntry

PER_PAGE = 50


def record_type_choices() -> list[tuple[str, str]]:
    """Every PBQMS record type that can appear in the log."""
    models = [m for m in apps.get_models() if m.__module__.startswith("pbqms.") and m is not AuditEntry]
    return sorted(((m._meta.label_lower, model_name(m)) for m in models), key=lambda c: c[1])


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Record"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name of the record")}))
    model = forms.ChoiceField(label=_("Record type"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Any"))] + AuditAction.choices)
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("Any"))] + record_type_choices()


@login_required
@require_GET
def log(request: HttpRequest) -> HttpResponse:
    if not scope.can_read_audit_log(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    entries = selectors.search(request.user, q=(data.get("q") or "").strip(), model=data.get("model") or "",
                               action=data.get("action") or "", actor=(data.get("actor") or "").strip())
    context = {"form": form, "page": paginate(request, entries, PER_PAGE)}
    if request.htmx and request.htmx.target == "audit-results":
        return render(request, "audit/_results.html", context)
    return render(request, "audit/log.html", context)
