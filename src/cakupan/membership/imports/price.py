"""Stage 4, price: what the rows to save would cost the programme over their funded months,
against its remaining budget and cohort cap. A list that does not fit is refused whole, saying
how many more participants would fit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import cost_of, programme_budget
from cakupan.money import format_rupiah


@dataclass(frozen=True)
class Priced:
    fits: int  # how many of the rows the budget and the cap still take
    refused: bool  # the rows do not all fit: nothing can be saved
    message: str  # why, with the amounts, when refused


def price_rows(
    rows: pl.DataFrame, *, programme: FundingProgramme, first: dt.date, last: dt.date
) -> Priced:
    budget = programme_budget(programme=programme)
    costs = cost_of(
        programme=programme,
        incomes=[programme.declared_income] * rows.height,
        sectors=rows["sector"].to_numpy(),
        first_months=[first] * rows.height,
        last_months=[last] * rows.height,
    )
    fits_budget = int(np.searchsorted(np.cumsum(costs), budget.remaining, side="right"))
    fits = (
        fits_budget if budget.cap is None else min(fits_budget, max(0, budget.cap - budget.members))
    )
    if fits >= rows.height:
        return Priced(fits=fits, refused=False, message="")
    limit = (
        f"batas program {budget.cap} peserta"
        if budget.cap is not None and fits < fits_budget
        else f"sisa anggaran {format_rupiah(budget.remaining)}"
    )
    return Priced(
        fits=fits,
        refused=True,
        message=f"Daftar ini menambah {rows.height} peserta, tetapi {limit} hanya cukup untuk "
        f"{fits} peserta lagi.",
    )
