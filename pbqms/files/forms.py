"""File inputs other apps' forms use. They only collect the uploads: files.services checks them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleaned_data is a list of UploadedFile (empty when none).

    `kinds` narrows the FileKinds offered by the browser's picker (the `accept` attribute); pass
    the same `kinds` to files.services.store_many, which decides."""

    def __init__(self, *args: Any, kinds: Iterable[str] | None = None, **kwargs: Any) -> None:
        self.kinds = list(kinds) if kinds is not None else None
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": services.accept_attribute(self.kinds)}))
        kwargs.setdefault("label", _("Attachments"))
        kwargs.setdefault("allow_empty_file", True)  # services refuse it, naming the file
        super().__init__(*args, **kwargs)

    @property
    def accepted(self) -> str:
        """The accepted extensions, for the hint under the input: ".jpg .png .pdf …"."""
        return " ".join(f".{e}" for e in services.extensions(self.kinds))

    @property
    def limit_mb(self) -> int:
        return services.max_upload_mb()

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single_file_clean = super().clean
        if isinstance(data, list | tuple) and data:
            result = [single_file_clean(d, initial) for d in data]
        else:
            result = [single_file_clean(data or None, initial)]  # an empty list still meets `required`
        return [f for f in result if f]


class UploadForm(forms.Form):
    """files:upload — files sent ahead of their record, for a unit given by its code."""

    unit = forms.CharField(max_length=40)
    upload = MultipleFileField(required=True)
    kinds = forms.CharField(required=False, max_length=100)

    def clean_kinds(self) -> list[str] | None:
        raw = [k.strip() for k in self.cleaned_data.get("kinds", "").split(",") if k.strip()]
        if not raw:
            return None
        try:
            services.extensions(raw)
        except ValueError:
            raise forms.ValidationError(_("Unknown file kind."))
        return raw
