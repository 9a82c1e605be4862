"""Money is integer Rupiah: parsing what officers type and formatting it the Indonesian way.

Pure Python on Babel's number formats (no Django), so the rules engine, the pages, the exports
and the CLI all write "Rp 16.800" the same way.
"""

from __future__ import annotations

import re

from babel.numbers import format_decimal

from cakupan.digits import ascii_digits

# Amounts above this are typing mistakes (a NIK pasted into an amount, say).
MAX_RUPIAH = 10**13

_NUMBER = re.compile(r"^\d{1,3}(?:([.,\s])\d{3}(?:\1\d{3})*)?(?:[.,]0{1,2})?$|^\d+(?:[.,]0{1,2})?$")


class AmountInvalid(ValueError):
    """A text that is not a whole Rupiah amount; `message_en` is the English twin."""

    def __init__(self, value: object):
        self.value = value
        self.message_en = (
            f"{value!r} is not an amount in Rupiah; write whole Rupiah such as 1.500.000."
        )
        super().__init__(f"{value!r} bukan jumlah Rupiah; tulis Rupiah bulat, mis. 1.500.000.")


def parse_rupiah(value: object) -> int:
    """Whole Rupiah as officers write it: 1500000, 1.500.000, 1,500,000, Rp 1.500.000 or
    1.500.000,00. Cents other than zero, negatives and amounts over MAX_RUPIAH are refused."""
    if isinstance(value, bool):
        raise AmountInvalid(value)
    if isinstance(value, int):
        amount = value
    else:
        text = ascii_digits(str(value)).strip()
        text = re.sub(r"^rp\.?\s*", "", text, flags=re.IGNORECASE).strip()
        if not text.isascii() or not _NUMBER.match(text):
            raise AmountInvalid(value)
        digits = re.sub(r"[.,]0{1,2}$", "", text) if re.search(r"[.,]\d{1,2}$", text) else text
        digits = re.sub(r"[.,\s]", "", digits).lstrip("0") or "0"
        if len(digits) > len(str(MAX_RUPIAH)):  # too big anyway; int() refuses 4,300 digits
            raise AmountInvalid(value)
        amount = int(digits)
    if not 0 <= amount <= MAX_RUPIAH:
        raise AmountInvalid(value)
    return amount


def format_number(n: int, *, locale: str = "id") -> str:
    """16800 → '16.800' (Indonesian) or '16,800' (English)."""
    return format_decimal(n, locale=locale)


def format_rupiah(amount: int, *, locale: str = "id") -> str:
    """16800 → 'Rp 16.800' (Indonesian) or 'Rp 16,800' (English)."""
    return "Rp " + format_number(amount, locale=locale)
