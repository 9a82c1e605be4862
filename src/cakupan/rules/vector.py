"""The month's contributions of many memberships at once, as numpy columns, equal to the scalar.

Each bracket's gross and discounted amount per programme is computed once with the very
functions `contribution()` uses, then looked up per row; so the vectorised path cannot drift
from the scalar one, and a million rows take a few numpy passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from cakupan.rules.contribution import MonthPlan, month_plan
from cakupan.rules.errors import RuleInputError
from cakupan.rules.loader import RuleBook

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class VectorContributions:
    """Per-membership results, row-aligned with the input columns; amounts in whole Rupiah.

    `gross`, `discount` and `net` map each programme of the category to a column (0 where
    the membership does not take it). `sector_codes`/`funding_codes` give the meaning of
    integer codes: code i is `sector_codes[i]`.
    """

    month: date
    category: str
    bracket: IntArray
    base: IntArray
    gross: Mapping[str, IntArray]
    discount: Mapping[str, IntArray]
    net: Mapping[str, IntArray]
    total: IntArray
    rule_ids: tuple[str, ...]
    sector_codes: tuple[str, ...]
    funding_codes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.total)

    def to_polars(self) -> Any:
        """One row per membership: bracket, base, <programme>_gross/_discount/_net, total."""
        import polars as pl

        columns: dict[str, Any] = {"bracket": self.bracket, "base": self.base}
        for code in self.gross:
            columns[f"{code}_gross"] = self.gross[code]
            columns[f"{code}_discount"] = self.discount[code]
            columns[f"{code}_net"] = self.net[code]
        columns["total"] = self.total
        return pl.DataFrame(columns)


def codes(
    *, month: date | str, rules: RuleBook | None = None, category: str = "bpu"
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sector codes, funding codes) in the order integer codes refer to, for that month."""
    plan = month_plan(category=category, month=month, rules=rules)
    return tuple(plan.vocabulary.sectors), tuple(plan.vocabulary.funding)


def _is_polars(values: object) -> bool:
    return type(values).__module__.split(".", 1)[0] == "polars"


def _integers(values: object, field: str) -> IntArray:
    array = np.asarray(values.to_numpy() if _is_polars(values) else values)
    if array.dtype.kind not in "iu":
        raise RuleInputError(
            field=field,
            code="not_an_integer",
            message=f"Kolom {field} harus berisi bilangan bulat.",
            message_en=f"Column {field} must hold whole numbers.",
        )
    return array.astype(np.int64, copy=False)


def _flags(values: object | None, n: int, field: str) -> BoolArray:
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    array = np.asarray(values.to_numpy() if _is_polars(values) else values)
    if array.dtype.kind not in "biu" or array.shape != (n,):
        raise RuleInputError(
            field=field,
            code="not_a_boolean",
            message=f"Kolom {field} harus berisi true/false sebanyak baris penghasilan.",
            message_en=f"Column {field} must hold one true/false per income row.",
        )
    return array.astype(np.bool_, copy=False)


def _unknown(field: str, row: int, value: object, allowed: tuple[str, ...]) -> RuleInputError:
    listed = ", ".join(allowed)
    return RuleInputError(
        field=f"{field}[{row}]",
        code=f"unknown_{field}",
        message=f"Kode {value!r} pada baris {row} tidak dikenal; pilih salah satu dari: {listed}.",
        message_en=f"Code {value!r} in row {row} is unknown; choose one of: {listed}.",
    )


def _encode(values: object, allowed: tuple[str, ...], field: str) -> IntArray:
    """Integer codes (indexes into `allowed`) from integer codes or strings, checked."""
    if _is_polars(values):
        import polars as pl

        series = values if isinstance(values, pl.Series) else pl.Series(cast(Any, values))
        if series.dtype.is_integer():
            values = series.to_numpy()
        else:
            mapped = series.cast(pl.String).replace_strict(
                {code: i for i, code in enumerate(allowed)}, default=None, return_dtype=pl.Int64
            )
            if mapped.null_count():
                row = int(mapped.is_null().arg_true()[0])
                raise _unknown(field, row, series[row], allowed)
            return mapped.to_numpy().astype(np.int64, copy=False)
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        bad = (array < 0) | (array >= len(allowed))
        if bad.any():
            row = int(np.argmax(bad))
            raise _unknown(field, row, int(array[row]), allowed)
        return array.astype(np.int64, copy=False)
    uniques, inverse = np.unique(array.astype(str), return_inverse=True)
    lookup = {code: i for i, code in enumerate(allowed)}
    for n, value in enumerate(uniques):
        if value not in lookup:
            raise _unknown(field, int(np.argmax(inverse == n)), value, allowed)
    return np.array([lookup[v] for v in uniques], dtype=np.int64)[inverse]


def _discount_table(
    plan: MonthPlan, sector_codes: tuple[str, ...], funding_codes: tuple[str, ...]
) -> npt.NDArray[np.bool_]:
    """discounted[sector, funding] from the same rule the scalar path asks."""
    table = np.zeros((len(sector_codes), len(funding_codes)), dtype=np.bool_)
    for i, sector in enumerate(sector_codes):
        for j, funding in enumerate(funding_codes):
            table[i, j] = plan.discount_refusal(sector, funding) is None
    return table


def contributions_for_month(
    *,
    month: date | str,
    income: object,
    sector: object,
    funding: object,
    jht: object | None = None,
    business_owner: object | None = None,
    category: str = "bpu",
    rules: RuleBook | None = None,
) -> VectorContributions:
    """Contributions of N memberships of one category for one month.

    `income` is an integer column (numpy array, list or polars Series); `sector` and
    `funding` are integer codes (see `codes()`) or strings; `jht` marks memberships that
    opted into JHT and `business_owner` those for whom it is mandatory. Every row equals
    `contribution()` for the same inputs. Raises RuleInputError naming the first bad row.
    """
    plan = month_plan(category=category, month=month, rules=rules)
    incomes = _integers(income, "income")
    n = len(incomes)
    if (incomes < 0).any():
        row = int(np.argmax(incomes < 0))
        raise RuleInputError(
            field=f"income[{row}]",
            code="negative",
            message=f"Penghasilan pada baris {row} negatif; isi 0 atau lebih.",
            message_en=f"Income in row {row} is negative; give 0 or more.",
        )
    sector_codes, funding_codes = tuple(plan.vocabulary.sectors), tuple(plan.vocabulary.funding)
    sectors = _encode(sector, sector_codes, "sector")
    funders = _encode(funding, funding_codes, "funding")
    if len(sectors) != n or len(funders) != n:
        raise RuleInputError(
            field="sector" if len(sectors) != n else "funding",
            code="length_mismatch",
            message="Kolom sektor, sumber dana dan penghasilan harus sama panjang.",
            message_en="The sector, funding and income columns must be equally long.",
        )
    opted = _flags(jht, n, "jht")
    owners = _flags(business_owner, n, "business_owner")

    brackets = plan.rules.brackets
    index = (
        np.searchsorted(np.array(plan.rules.lower_bounds, dtype=np.int64), incomes, side="right")
        - 1
    )
    discounted = _discount_table(plan, sector_codes, funding_codes)[sectors, funders]
    discount = plan.discount
    gross: dict[str, IntArray] = {}
    cut: dict[str, IntArray] = {}
    net: dict[str, IntArray] = {}
    total = np.zeros(n, dtype=np.int64)
    for code, rate in plan.rules.programmes.items():
        if code in plan.programmes.mandatory:
            taking: BoolArray | None = None
        elif code in plan.programmes.optional:
            # Only JHT is optional for BPU today, so it is the only opt-in column.
            taking = opted if code == "jht" else np.zeros(n, dtype=np.bool_)
            if code in plan.programmes.mandatory_for_business_owner:
                taking = taking | owners
        else:
            continue
        per_bracket = np.array([rate.gross(b.base) for b in brackets], dtype=np.int64)
        line_gross = per_bracket[index]
        if taking is not None:
            line_gross = np.where(taking, line_gross, 0)
        if discount is not None and code in discount.programmes:
            per_bracket_cut = np.array(
                [discount.amount(int(g)) for g in per_bracket], dtype=np.int64
            )
            line_cut = np.where(discounted, per_bracket_cut[index], 0)
            if taking is not None:
                line_cut = np.where(taking, line_cut, 0)
        else:
            line_cut = np.zeros(n, dtype=np.int64)
        gross[code], cut[code] = line_gross, line_cut
        net[code] = line_gross - line_cut
        total += net[code]
    return VectorContributions(
        month=plan.month,
        category=plan.category,
        bracket=index + 1,
        base=np.array([b.base for b in brackets], dtype=np.int64)[index],
        gross=gross,
        discount=cut,
        net=net,
        total=total,
        rule_ids=plan.rule_ids,
        sector_codes=sector_codes,
        funding_codes=funding_codes,
    )
