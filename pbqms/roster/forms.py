"""The upload form of the roster import page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from pbqms.core import uploads

MAX_UPLOAD_MB = getattr(settings, "PBQMS_ROSTER_MAX_UPLOAD_MB", 100)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Roster workbook (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))
    dry_run = forms.BooleanField(
        label=_("Check only (dry run): list the problems, change nothing"), required=False,
        # the stylesheet makes form inputs full-width blocks; a checkbox sits beside its text
        widget=forms.CheckboxInput(attrs={"style": "display:inline-block;width:auto;margin:0 .4rem 0 0"}))

    def clean_file(self) -> UploadedFile:
        f: UploadedFile = self.cleaned_data["file"]
        if not (f.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx workbook (Excel 2007 or later)."))
        if f.size and f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(n)s MB.") % {"n": MAX_UPLOAD_MB})
        head = f.read(4)
        f.seek(0)
        if head != b"PK\x03\x04":
            raise forms.ValidationError(_("The file is not an .xlsx workbook."))
        uploads.check_archive(f)  # a zip bomb is refused here, before anything opens it
        return f
