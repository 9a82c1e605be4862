"""Indonesian mobile numbers, in one place: how a typed number is read, when it is valid, and
how it is shown masked. One function for a value (forms, API, services) and one expression
for a column (list imports) apply the same rule, and a test feeds both the same cases."""

from __future__ import annotations

import re

import polars as pl

from cakupan.digits import ascii_digits

# Separators people type inside a number: spaces, dashes, brackets, dots.
_SEPARATORS = r"[\s\-().]"
# After normalising: 08 then 7 to 12 digits (10 to 14 digits in all).
VALID = r"^08[0-9]{7,12}$"
_VALID = re.compile(VALID)


def normalise_phone(raw: str) -> str:
    """'+62 812-3456-7890' → '081234567890'; '62812…' and a leading zero lost in a spreadsheet
    ('812…') are read as '0812…'. Other text is returned without separators, to be refused."""
    digits = re.sub(_SEPARATORS, "", ascii_digits(raw or ""))
    if digits.startswith("+62"):
        return "0" + digits[3:]
    if digits.startswith("628"):
        return "0" + digits[2:]
    if re.fullmatch(r"8[0-9]{8,12}", digits):
        return "0" + digits
    return digits


def is_valid_phone(phone: str) -> bool:
    """A normalised number is an Indonesian mobile number."""
    return bool(_VALID.match(phone))


def phone_expr(column: str) -> pl.Expr:
    """`normalise_phone` for a String column (digits already ASCII); null reads as ''."""
    raw = pl.col(column).fill_null("").str.replace_all(_SEPARATORS, "")
    return (
        pl.when(raw.str.starts_with("+62"))
        .then(pl.lit("0") + raw.str.slice(3))
        .when(raw.str.starts_with("628"))
        .then(pl.lit("0") + raw.str.slice(2))
        .when(raw.str.contains(r"^8[0-9]{8,12}$"))
        .then(pl.lit("0") + raw)
        .otherwise(raw)
        .alias(column)
    )


def mask_phone(phone: str) -> str:
    """'081234567890' → '0812••••••90': the operator prefix and two last digits, enough to
    recognise a number the worker reads out, not enough to call it."""
    if len(phone) < 8:
        return "•" * len(phone)
    return phone[:4] + "•" * (len(phone) - 6) + phone[-2:]
