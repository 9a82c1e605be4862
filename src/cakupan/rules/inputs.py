"""Input coercion shared by every entry point, so each bad value fails the same way."""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable
from datetime import date, datetime

from cakupan import months
from cakupan.rules.errors import RuleInputError

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_month(value: object, field: str = "month") -> date:
    """A contribution month as the first day of that month, from a date or "YYYY-MM"."""
    try:
        return months.parse_month(value)
    except months.MonthInvalid as e:
        raise RuleInputError(
            field=field, code="invalid_month", message=str(e), message_en=e.message_en
        ) from None


# Dates outside these years are typing mistakes; bounding them also keeps schedules that count
# years forward from overflowing the calendar.
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2100, 12, 31)


def parse_date(value: object, field: str) -> date:
    """A calendar date from a date or "YYYY-MM-DD", between 1900 and 2100."""
    parsed: date | None = None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _DATE.match(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is not None:
        if DATE_MIN <= parsed <= DATE_MAX:
            return parsed
        raise RuleInputError(
            field=field,
            code="date_out_of_range",
            message=f"Tanggal {parsed.isoformat()} di luar rentang 1900–2100; periksa tahunnya.",
            message_en=f"Date {parsed.isoformat()} is outside 1900–2100; check the year.",
        )
    raise RuleInputError(
        field=field,
        code="invalid_date",
        message=f"Tanggal {value!r} tidak dikenali; tulis dalam format TTTT-BB-HH, "
        "mis. 2026-03-15.",
        message_en=f"Date {value!r} not understood; write it as YYYY-MM-DD, e.g. 2026-03-15.",
    )


def parse_int(
    value: object,
    field: str,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    label: str = "",
    label_en: str = "",
) -> int:
    """A whole number within bounds; booleans and fractions are refused, never truncated.

    `label`/`label_en` name the value for the officer ("Penghasilan"); the field path is the
    default.
    """
    name, name_en = label or field, label_en or field
    # numbers.Integral also admits numpy integers, which callers holding arrays pass.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise RuleInputError(
            field=field,
            code="not_an_integer",
            message=f"{name}: isi dengan bilangan bulat (tanpa titik, koma atau desimal).",
            message_en=f"{name_en}: give a whole number (no separators or decimals).",
        )
    value = int(value)
    if value < minimum:
        raise RuleInputError(
            field=field,
            code="negative" if minimum == 0 else "below_minimum",
            message=f"{name} tidak boleh kurang dari {minimum}; isi {minimum} atau lebih.",
            message_en=f"{name_en} must not be below {minimum}; give {minimum} or more.",
        )
    if maximum is not None and value > maximum:
        raise RuleInputError(
            field=field,
            code="above_maximum",
            message=f"{name} tidak boleh lebih dari {maximum}; isi {maximum} atau kurang.",
            message_en=f"{name_en} must not exceed {maximum}; give {maximum} or less.",
        )
    return value


def parse_bool(value: object, field: str) -> bool:
    """A true/false flag; strings like "yes" are refused so a typo cannot flip a benefit."""
    if isinstance(value, bool):
        return value
    raise RuleInputError(
        field=field,
        code="not_a_boolean",
        message=f"Isi {field} dengan true atau false.",
        message_en=f"Give {field} as true or false.",
    )


def parse_choice(
    value: object, field: str, choices: Iterable[str], *, what: str, what_en: str, code: str = ""
) -> str:
    """One code out of a fixed list; the error lists the allowed codes.

    The error code is `code`, by default "unknown_" + the last name in the field path
    ("children[0].level" -> "unknown_level").
    """
    allowed = list(choices)
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    listed = ", ".join(allowed)
    raise RuleInputError(
        field=field,
        code=code or f"unknown_{field.rsplit('.', 1)[-1].split('[', 1)[0]}",
        message=f"{what} {value!r} tidak dikenal; pilih salah satu dari: {listed}.",
        message_en=f"Unknown {what_en} {value!r}; choose one of: {listed}.",
    )


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day` (0 before birth: a posthumous child is still an heir)."""
    years = day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
    return max(years, 0)
