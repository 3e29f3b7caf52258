"""{% load pbqms_files %}{% file_upload unit.code "pdf,word" %}: an input that uploads ahead of its record."""

from __future__ import annotations

from typing import Any

from django import template

from pbqms.files import services

register = template.Library()


@register.inclusion_tag("files/_input.html")
def file_upload(unit_code: str, kinds: str = "") -> dict[str, Any]:
    """The files:upload input for records of the unit `unit_code`; `kinds` narrows the FileKinds
    ("pdf,word"). Each stored file comes back as <input type=hidden name="files" value="<token>">
    inside the form; the form's view hands them to services.attach(scope.pending_files(...))."""
    chosen = [k for k in kinds.split(",") if k] or None
    return {"upload_unit": unit_code, "kinds": kinds, "accept": services.accept_attribute(chosen),
            "accepted": " ".join(f".{e}" for e in services.extensions(chosen)),
            "limit_mb": services.max_upload_mb()}
