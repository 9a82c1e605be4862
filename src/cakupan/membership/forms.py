"""Forms for uploads and column mapping. (Saving the valid rows only, value mappings and review
decisions are buttons and selects of the preview and the review queue.)"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cakupan.membership.imports import COLUMNS, column_label

MAX_UPLOAD_MB = 200


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("List of workers (CSV or XLSX)"),
        help_text=_(
            "Every row is checked first; you see what would be saved and choose before anything is."
        ),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file (use the template)."))
        if f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_UPLOAD_MB}
            )
        return f


class MappingForm(forms.Form):
    """One select per header of the file: which cakupan column it holds, pre-set to what was
    recognised; a column can be taken by one header only."""

    def __init__(
        self,
        *args,
        headers: list[str],
        recognised: dict[str, str],
        guesses: dict[str, str],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore this column)")), *((c, column_label(c)) for c in COLUMNS)]
        guessed = {header: column for column, header in guesses.items()}
        for i, header in enumerate(headers):
            self.fields[f"h{i}"] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=recognised.get(header) or guessed.get(header, ""),
            )
        self.headers = headers

    def clean(self):
        data = super().clean()
        taken: dict[str, str] = {}
        for i, header in enumerate(self.headers):
            column = data.get(f"h{i}")
            if not column:
                continue
            if column in taken:
                self.add_error(
                    f"h{i}",
                    gettext("“%(column)s” is already chosen for the column “%(other)s”.")
                    % {"column": column_label(column), "other": taken[column]},
                )
            taken[column] = header
        return data

    def column_map(self) -> dict[str, str]:
        """{file header: column}; "" for a header the user chose to ignore."""
        return {h: self.cleaned_data.get(f"h{i}") or "" for i, h in enumerate(self.headers)}
