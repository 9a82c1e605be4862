"""Calendar-month arithmetic: contribution periods are months, stored as their first day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, n: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> int:
    """Number of months first..last inclusive (0 when last is before first)."""
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def month_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for i in range(months_between(first, last)):
        yield add_months(first, i)


def parse_month(text: str) -> dt.date:
    """'2026-11' → date(2026, 11, 1); raises ValueError with an Indonesian message."""
    try:
        year, month = (int(p) for p in str(text).strip().split("-")[:2])
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"Bulan '{text}' tidak sah; tulis seperti 2026-11.") from None


def fmt_month(d: dt.date | None) -> str:
    return d.strftime("%Y-%m") if d else "…"
