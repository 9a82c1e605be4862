"""Problems found in a list: one row per (row, column, problem), the column carried as data.

A problem has a machine code (kept in the report CSV for tools and in tests) and a message in
words; a person never reads the code: pages show the message and `problem_label`, the name of
the problem in the reader's language.
"""

from __future__ import annotations

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PROBLEM_SCHEMA = {
    "row": pl.Int64,
    "column": pl.String,  # the cakupan column the problem is about (nik, pekerjaan, ...)
    "severity": pl.String,  # rejected, not_eligible, review or warning
    "code": pl.String,
    "message": pl.String,
    "suggestion": pl.String,  # the fix in words
    "value": pl.String,  # the cell as the file has it, for grouping rows by value
    "suggested": pl.String,  # the value the suggestion stands for (a code), pre-selected
}

# Severities: a rejected row has bad data; a not_eligible row is sound but outside the
# programme's target; a review row waits for an officer; a warning keeps the row.
REJECTED, NOT_ELIGIBLE, REVIEW, WARNING = "rejected", "not_eligible", "review", "warning"
CORRECTED = "corrected"  # not a problem: a NIK typo the linkage corrected on its own
REFUSED = (REJECTED, NOT_ELIGIBLE)  # rows that are not saved

# Columns whose unknown values a person can map to a catalogue value in the preview.
MAPPABLE = ("pekerjaan", "kelurahan", "jenis_kelamin")
VALUE_CODES = ("unknown_occupation", "unknown_kelurahan", "invalid_sex")

_LABELS: dict[str, Promise] = {
    "required": _("Empty"),
    "too_long": _("Too long"),
    "invalid_date": _("Date not readable"),
    "invalid_sex": _("Sex not recognised"),
    "unknown_kelurahan": _("Kelurahan not recognised"),
    "unknown_occupation": _("Occupation not in the catalogue"),
    "invalid_income": _("Income is not an amount"),
    "invalid_phone": _("Phone number not usable"),
    "scientific_notation": _("NIK changed by Excel into a number like 3.57E+15"),
    "not_16_digits": _("NIK is not 16 digits"),
    "unknown_region": _("NIK names no kecamatan"),
    "unknown_province": _("NIK names no province"),
    "unknown_regency": _("NIK names no regency/city"),
    "retired_region": _("Kecamatan of the NIK retired"),
    "region_not_loaded": _("Kecamatan of the NIK not checkable yet"),
    "serial_zero": _("NIK serial is 0000"),
    "sex_mismatch": _("Sex does not match the NIK"),
    "birth_date_mismatch": _("Birth date does not match the NIK"),
    "century_ambiguous": _("Birth year of the NIK unclear"),
    "too_young": _("Too young"),
    "future_date": _("Birth date in the future"),
    "duplicate_in_file": _("Same person twice in the file"),
    "duplicate_typo": _("Same person again, with a NIK typo"),
    "corrected_typo": _("NIK corrected automatically"),
    "probable": _("Probably someone registered"),
    "nik_conflict": _("Same NIK, another person"),
    "same_name_birth_other_nik": _("Same name and birth date, another NIK"),
    "double_funding": _("Already funded by another payer"),
    "not_eligible": _("Outside the programme's target"),
}
# The same code can mean different things in different columns.
_COLUMN_LABELS: dict[tuple[str, str], Promise] = {
    ("nik", "invalid_date"): _("NIK holds no possible birth date"),
}


def problem_label(code: str, column: str = "") -> str:
    """The problem's name for a person, in the active language; never the code itself."""
    label = _COLUMN_LABELS.get((column, code)) or _LABELS.get(code)
    return str(label) if label is not None else str(_("Needs checking"))


def problems(
    rows: list[int] | pl.Series,
    column: str | list[str],
    severity: str,
    code: str | list[str],
    message: str | list[str],
    suggestion: str = "",
    *,
    value: list[str | None] | None = None,
    suggested: str | None = None,
) -> pl.DataFrame:
    """Problem rows for many rows at once; `column`, `code` and `message` are one for all or one
    per row."""
    rows = list(rows)
    n = len(rows)

    def each(v: str | list[str]) -> list[str]:
        return v if isinstance(v, list) else [v] * n

    return pl.DataFrame(
        {
            "row": rows,
            "column": each(column),
            "severity": [severity] * n,
            "code": each(code),
            "message": each(message),
            "suggestion": [suggestion] * n,
            "value": value if value is not None else [None] * n,
            "suggested": [suggested] * n,
        },
        schema=PROBLEM_SCHEMA,
    )


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)
