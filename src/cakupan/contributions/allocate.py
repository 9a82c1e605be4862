"""Spending money on bills, for any number of payers at once, with numpy: no loop over rows.

Within each key (a payer account, or an invoice a payment names) the funds are spent in their
order on the bills in theirs: every bill is paid in full before the next one gets anything;
the last bill reached may be paid only in part (it stays unpaid, showing the shortfall); money
left when the bills run out stays with the payer as credit.

How: lay each key's funds end to end on a line, and its bills on the same line; both start at
the key's base and stop at min(funds, bills) of the key. Every segment between two consecutive
ends lies in exactly one fund and one bill: that pair gets the segment's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Spent:
    """Allocations as three aligned columns: the fund's row, the bill's row (indexes into the
    arrays given to `allocate`), and the amount (> 0)."""

    fund: IntArray
    bill: IntArray
    amount: IntArray


def _ends(keys: IntArray, amounts: IntArray, index: IntArray, span: IntArray, base: IntArray):
    """Each row's end on the line: its key's base plus the running total within the key,
    clipped to the key's span (what is spent at most)."""
    cum = np.cumsum(amounts)
    starts_of_group = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    group_sizes = np.diff(np.r_[starts_of_group, len(keys)])
    before = np.repeat(cum[starts_of_group] - amounts[starts_of_group], group_sizes)
    within = cum - before
    return base[index] + np.minimum(within, span[index])


def allocate(
    fund_keys: npt.ArrayLike,
    fund_amounts: npt.ArrayLike,
    bill_keys: npt.ArrayLike,
    bill_amounts: npt.ArrayLike,
) -> Spent:
    """Spend each key's funds (in the order given) on the same key's bills (in the order given).

    Amounts must be positive integers (Rupiah). Rows of one key need not be adjacent: the
    order among rows of the same key is kept.
    """
    fk = np.asarray(fund_keys, dtype=np.int64)
    fa = np.asarray(fund_amounts, dtype=np.int64)
    bk = np.asarray(bill_keys, dtype=np.int64)
    ba = np.asarray(bill_amounts, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    if len(fk) == 0 or len(bk) == 0:
        return Spent(empty, empty, empty)
    if (fa <= 0).any() or (ba <= 0).any():
        raise ValueError("allocate: every amount must be positive")
    fo = np.argsort(fk, kind="stable")
    bo = np.argsort(bk, kind="stable")
    fk, fa, bk, ba = fk[fo], fa[fo], bk[bo], ba[bo]

    keys = np.union1d(fk, bk)
    fi = np.searchsorted(keys, fk)
    bi = np.searchsorted(keys, bk)
    funds_total = np.bincount(fi, weights=fa, minlength=len(keys)).astype(np.int64)
    bills_total = np.bincount(bi, weights=ba, minlength=len(keys)).astype(np.int64)
    span = np.minimum(funds_total, bills_total)
    base = np.r_[0, np.cumsum(span)[:-1]].astype(np.int64)

    f_end = _ends(fk, fa, fi, span, base)
    b_end = _ends(bk, ba, bi, span, base)
    total = int(span.sum())
    if total == 0:
        return Spent(empty, empty, empty)
    points = np.unique(np.r_[np.int64(0), f_end, b_end])
    points = points[points <= total]
    starts, lengths = points[:-1], np.diff(points)
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    fund_row = np.searchsorted(f_end, starts, side="right")
    bill_row = np.searchsorted(b_end, starts, side="right")
    return Spent(fo[fund_row], bo[bill_row], lengths.astype(np.int64))
