"""The vectorised month computation equals the scalar contribution() row by row."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.rules import RuleInputError, codes, contribution, contributions_for_month

SECTORS, FUNDERS = codes(month="2026-06")


def scalar_rows(
    month: date,
    incomes: list[int],
    sectors: list[str],
    funders: list[str],
    jht: list[bool],
    owners: list[bool],
) -> list[dict[str, int]]:
    rows = []
    for income, sector, funding, opted, owner in zip(
        incomes, sectors, funders, jht, owners, strict=True
    ):
        result = contribution(
            category="bpu",
            income=income,
            month=month,
            sector=sector,
            funding=funding,
            programmes=["jht"] if opted else None,
            business_owner=owner,
        )
        row = {"total": result.total, "base": result.base, "bracket": result.bracket}
        for line in result.lines:
            row[f"{line.programme}_net"] = line.net
            row[f"{line.programme}_discount"] = line.discount
        rows.append(row)
    return rows


memberships = st.lists(
    st.tuples(
        st.integers(0, 40_000_000),
        st.sampled_from(SECTORS),
        st.sampled_from(FUNDERS),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=memberships, month=st.dates(min_value=date(2015, 7, 1), max_value=date(2028, 12, 31)))
def test_vectorised_equals_scalar(
    rows: list[tuple[int, str, str, bool, bool]], month: date
) -> None:
    incomes, sectors, funders, jht, owners = (list(column) for column in zip(*rows, strict=True))
    vector = contributions_for_month(
        month=month,
        income=np.array(incomes),
        sector=sectors,
        funding=funders,
        jht=np.array(jht),
        business_owner=np.array(owners),
    )
    expected = scalar_rows(month, incomes, sectors, funders, jht, owners)
    for i, row in enumerate(expected):
        assert int(vector.total[i]) == row["total"]
        assert int(vector.base[i]) == row["base"]
        assert int(vector.bracket[i]) == row["bracket"]
        for programme in ("jkk", "jkm", "jht"):
            assert int(vector.net[programme][i]) == row.get(f"{programme}_net", 0)
            assert int(vector.discount[programme][i]) == row.get(f"{programme}_discount", 0)


def test_integer_codes_and_polars_columns_give_the_same_result() -> None:
    """docs/regulations.md §3 figures through the vectorised path: 8,400 / 16,800 / 36,800 / 213,800."""
    incomes = [1_000_000, 1_000_000, 1_000_000, 25_000_000]
    sectors = ["transport", "transport", "trade", "trade"]
    funders = ["csr", "apbd", "self", "self"]
    jht = [False, False, True, False]
    by_string = contributions_for_month(
        month="2026-11", income=incomes, sector=sectors, funding=funders, jht=jht
    )
    by_code = contributions_for_month(
        month="2026-11",
        income=np.array(incomes),
        sector=np.array([SECTORS.index(s) for s in sectors]),
        funding=np.array([FUNDERS.index(f) for f in funders]),
        jht=np.array(jht),
    )
    by_polars = contributions_for_month(
        month="2026-11",
        income=pl.Series(incomes),
        sector=pl.Series(sectors),
        funding=pl.Series(funders),
        jht=pl.Series(jht),
    )
    for result in (by_string, by_code, by_polars):
        # ojol CSR, ojol APBD, trader with JHT (JHT undiscounted), top bracket trader
        assert result.total.tolist() == [8_400, 16_800, 5_000 + 3_400 + 20_000, 103_500 + 3_400]
    frame = by_code.to_polars()
    assert frame["total"].to_list() == by_code.total.tolist()
    assert by_code.rule_ids == ("bpu-contribution-pp44-2015", "discount-pp50-2025")


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"income": [1, -5]}, "income[1]", "negative"),
        ({"sector": ["transport", "boats"]}, "sector[1]", "unknown_sector"),
        ({"sector": pl.Series(["transport", "boats"])}, "sector[1]", "unknown_sector"),
        ({"funding": [0, 99]}, "funding[1]", "unknown_funding"),
        ({"income": [1.5, 2.0]}, "income", "not_an_integer"),
        ({"month": "2014-01"}, "month", "no_rule_set"),
        ({"category": "pmi"}, "category", "category_not_supported"),
    ],
)
def test_bad_columns_name_the_first_bad_row(
    kwargs: dict[str, object], field: str, code: str
) -> None:
    arguments: dict[str, object] = {
        "month": "2026-11",
        "income": [1, 2],
        "sector": ["transport", "trade"],
        "funding": ["csr", "self"],
    }
    arguments.update(kwargs)
    with pytest.raises(RuleInputError) as caught:
        contributions_for_month(**arguments)
    assert (caught.value.field, caught.value.code) == (field, code)
