"""Contribution months: parsing and arithmetic. A month is stored as its first day.

Pure Python (no Django): the rules engine, funding, membership, the calculators and the CLI
all read and count months here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class MonthInvalid(ValueError):
    """A text that is not a month; `message_en` is the English twin of the message."""

    def __init__(self, value: object):
        self.value = value
        self.message_en = f"Month {value!r} not understood; write it as YYYY-MM, e.g. 2026-11."
        super().__init__(
            f"Bulan {value!r} tidak dikenali; tulis dalam format TTTT-BB, mis. 2026-11."
        )


def parse_month(value: object) -> dt.date:
    """'2026-11', a date or a datetime → date(2026, 11, 1); MonthInvalid otherwise."""
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, str):
        match = _MONTH.match(value.strip())
        if match and 1 <= int(match.group(2)) <= 12 and match.group(1).isascii():
            return dt.date(int(match.group(1)), int(match.group(2)), 1)
    raise MonthInvalid(value)


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, n: int) -> dt.date:
    """The first day of the month `n` months after `d`'s (before, when n < 0)."""
    index = d.year * 12 + d.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> int:
    """Number of months first..last inclusive (0 when last is before first)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def month_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every month first..last inclusive."""
    for i in range(months_between(first, last)):
        yield add_months(first, i)


def fmt_month(d: dt.date | None) -> str:
    """'2026-11'; an open end is '…'."""
    return d.strftime("%Y-%m") if d else "…"
