"""Forms for uploads, column mapping and review decisions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cakupan.membership.imports import COLUMNS

MAX_UPLOAD_MB = 200


class UploadForm(forms.Form):
    file = forms.FileField(label=_("List of workers (CSV or XLSX)"))
    partial = forms.BooleanField(
        label=_("Save the valid rows even if some are rejected"),
        required=False,
        help_text=_("Without this, one rejected row means nothing is saved"),
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file (use the template)."))
        if f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_UPLOAD_MB}
            )
        return f


class MappingForm(forms.Form):
    """One select per header of the file: which cakupan column it holds."""

    def __init__(self, *args, headers: list[str], guesses: dict[str, str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore)")), *((c, c) for c in COLUMNS)]
        inverse = {header: column for column, header in guesses.items()}
        for i, header in enumerate(headers):
            self.fields[f"h{i}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=inverse.get(header, "")
            )
        self.headers = headers

    def column_map(self) -> dict[str, str]:
        return {
            h: self.cleaned_data[f"h{i}"]
            for i, h in enumerate(self.headers)
            if self.cleaned_data.get(f"h{i}")
        }
