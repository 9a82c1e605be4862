"""Contributions: the docs/regulations.md §3 golden figures, every bracket row, bad input, properties."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.rules import ContributionResult, RuleInputError, contribution

# docs/regulations.md §3 bracket table: (row, income_from, income_to, base); built by hand from the
# table's prose so a wrong TOML row cannot agree with itself.
ROWS: list[tuple[int, int, int | None, int]] = [
    (1, 0, 1_099_999, 1_000_000),
    (2, 1_100_000, 1_299_999, 1_200_000),
]
ROWS += [
    (3 + i, 1_300_000 + 200_000 * i, 1_499_999 + 200_000 * i, 1_400_000 + 200_000 * i)
    for i in range(7)
]
ROWS += [(10, 2_700_000, 3_199_999, 2_950_000)]
ROWS += [
    (11 + i, 3_200_000 + 500_000 * i, 3_699_999 + 500_000 * i, 3_450_000 + 500_000 * i)
    for i in range(10)
]
ROWS += [(21, 8_200_000, 9_199_999, 8_700_000)]
ROWS += [
    (22 + i, 9_200_000 + 1_000_000 * i, 10_199_999 + 1_000_000 * i, 9_700_000 + 1_000_000 * i)
    for i in range(11)
]
ROWS += [(33, 20_200_000, None, 20_700_000)]

SECTORS = [
    "transport",
    "construction",
    "agriculture",
    "trade",
    "services",
    "domestic",
    "community",
    "creative",
    "other",
]
FUNDERS = ["apbd", "apbn", "apbdes", "dbhcht", "csr", "self", "other"]


def bpu(
    income: int = 1_000_000, month: str | date = "2025-06", **kwargs: Any
) -> ContributionResult:
    return contribution(category="bpu", income=income, month=month, **kwargs)


def test_domain_table_has_33_rows_top_base_20_7_million() -> None:
    """docs/regulations.md §3: 33 rows, the top row's base is Rp 20,700,000."""
    assert len(ROWS) == 33
    assert ROWS[-1][3] == 20_700_000
    assert ROWS[9] == (10, 2_700_000, 3_199_999, 2_950_000)
    assert ROWS[31][2] == 20_199_999


@pytest.mark.parametrize(("row", "income_from", "income_to", "base"), ROWS)
def test_every_bracket_row_and_its_boundaries(
    row: int, income_from: int, income_to: int | None, base: int
) -> None:
    """docs/regulations.md §3: each row's lower and upper income map to that row's base."""
    for income in (income_from, income_to if income_to is not None else 10**10):
        result = bpu(income, programmes=["jht"])
        assert (result.bracket, result.base) == (row, base)
        assert (result.income_from, result.income_to) == (income_from, income_to)
        assert result.line("jkk").gross == base // 100
        assert result.line("jkm").gross == 6_800
        assert result.line("jht").gross == base * 2 // 100
    if income_to is not None:
        assert bpu(income_to + 1).bracket == row + 1


def test_lowest_bracket_16_800() -> None:
    """docs/regulations.md §3: JKK 10,000 + JKM 6,800 = Rp 16,800."""
    result = bpu(1_000_000)
    assert [(line.programme, line.net) for line in result.lines] == [
        ("jkk", 10_000),
        ("jkm", 6_800),
    ]
    assert result.total == 16_800
    assert result.rule_ids == ("bpu-contribution-pp44-2015",)


def test_lowest_bracket_with_jht_36_800() -> None:
    """docs/regulations.md §3: with optional JHT 2% × 1,000,000 = 20,000 → Rp 36,800."""
    result = bpu(500_000, programmes=["jht"])
    assert result.line("jht").net == 20_000
    assert result.line("jht").mandatory is False
    assert result.total == 36_800


def test_top_bracket_213_800_and_627_800() -> None:
    """docs/regulations.md §3: top row 207,000 + 6,800 = Rp 213,800; with JHT Rp 627,800."""
    assert bpu(20_200_000).total == 213_800
    assert bpu(75_000_000, programmes=["jht"]).total == 627_800


def test_business_owner_must_take_jht() -> None:
    """docs/regulations.md §2 [M]: a BPU business owner must also take JHT."""
    result = bpu(1_000_000, business_owner=True)
    assert result.line("jht").mandatory is True
    assert result.total == 36_800
    assert "business_owner_mandatory" in [note.code for note in result.notes]


def test_csr_funded_ojol_november_2026_pays_8_400() -> None:
    """docs/regulations.md §3 PP 50/2025: a CSR-funded ojol driver gets 50% off JKK and JKM."""
    result = bpu(1_000_000, month="2026-11", sector="transport", funding="csr")
    assert [(line.gross, line.discount, line.net) for line in result.lines] == [
        (10_000, 5_000, 5_000),
        (6_800, 3_400, 3_400),
    ]
    assert result.total == 8_400
    assert result.line("jkk").discount_rule_id == "discount-pp50-2025"
    assert result.rule_ids == ("bpu-contribution-pp44-2015", "discount-pp50-2025")


@pytest.mark.parametrize("funding", ["apbd", "apbn"])
def test_government_funded_ojol_november_2026_pays_16_800(funding: str) -> None:
    """docs/regulations.md §3: no discount when the contribution is paid from APBD/APBN."""
    result = bpu(1_000_000, month="2026-11", sector="transport", funding=funding)
    assert result.total == 16_800
    assert result.total_discount == 0
    assert [note.code for note in result.notes] == ["discount_government_funded"]


@pytest.mark.parametrize(
    ("sector", "month", "total"),
    [
        ("transport", "2026-01", 8_400),  # docs/regulations.md §3: transport window opens 2026-01
        ("transport", "2027-03", 8_400),  # ... and closes after 2027-03
        ("transport", "2027-04", 16_800),
        ("transport", "2025-12", 16_800),
        ("trade", "2026-03", 16_800),  # other sectors: 2026-04 .. 2026-12
        ("trade", "2026-04", 8_400),
        ("trade", "2026-12", 8_400),
        ("trade", "2027-01", 16_800),
        ("other", "2026-04", 8_400),
        ("construction", "2027-01", 16_800),
    ],
)
def test_discount_windows_by_sector(sector: str, month: str, total: int) -> None:
    """docs/regulations.md §3 PP 50/2025 windows, self-paid."""
    assert bpu(1_000_000, month=month, sector=sector).total == total


def test_jht_is_never_discounted_in_a_discount_month() -> None:
    """docs/regulations.md §3: the PP 50/2025 discount is on JKK and JKM, not JHT."""
    result = bpu(20_200_000, month="2026-06", sector="transport", programmes=["jht"])
    assert result.line("jht").discount == 0
    assert result.line("jkk").net == 103_500
    assert result.total == 103_500 + 3_400 + 414_000


def test_month_accepts_a_date_and_uses_its_month() -> None:
    assert bpu(1_000_000, month=date(2026, 11, 30), sector="transport").total == 8_400
    assert bpu(1_000_000, month=date(2026, 11, 30), sector="transport").month == date(2026, 11, 1)


def test_to_dict_is_plain_json() -> None:
    data = bpu(1_000_000, month="2026-11", sector="transport", funding="csr").to_dict()
    assert data["month"] == "2026-11"
    assert data["total"] == 8_400
    assert data["lines"][0]["discount"] == 5_000
    assert data["income_to"] == 1_099_999


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"income": -1}, "income", "negative"),
        ({"income": 1.5}, "income", "not_an_integer"),
        ({"category": "xyz"}, "category", "unknown_category"),
        ({"category": "pu"}, "category", "category_not_supported"),
        ({"sector": "fishing-boats"}, "sector", "unknown_sector"),
        ({"funding": "zakat"}, "funding", "unknown_funding"),
        ({"month": "2010-01"}, "month", "no_rule_set"),
        ({"month": "2026-13"}, "month", "invalid_month"),
        ({"month": "Nov 2026"}, "month", "invalid_month"),
        ({"programmes": ["jp"]}, "programmes[0]", "programme_not_open"),
        ({"programmes": ["jht", "xx"]}, "programmes[1]", "unknown_programmes"),
        ({"business_owner": "yes"}, "business_owner", "not_a_boolean"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str, code: str) -> None:
    arguments: dict[str, object] = {"category": "bpu", "income": 1_000_000, "month": "2026-11"}
    arguments.update(kwargs)
    with pytest.raises(RuleInputError) as caught:
        contribution(**arguments)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert caught.value.message and caught.value.message_en


def test_unsupported_category_message_says_not_supported_yet() -> None:
    with pytest.raises(RuleInputError) as caught:
        contribution(category="jakon", income=1, month="2026-01")
    assert "not supported yet" in caught.value.message_en
    assert "belum tersedia" in caught.value.message


incomes = st.integers(min_value=0, max_value=60_000_000)
months = st.dates(min_value=date(2015, 7, 1), max_value=date(2030, 12, 31))
case = st.fixed_dictionaries(
    {
        "month": months,
        "sector": st.sampled_from(SECTORS),
        "funding": st.sampled_from(FUNDERS),
        "programmes": st.sampled_from([None, ["jht"]]),
        "business_owner": st.booleans(),
    }
)


@settings(max_examples=150, deadline=None)
@given(income=incomes, kwargs=case)
def test_total_is_the_sum_of_lines(income: int, kwargs: dict[str, Any]) -> None:
    result = bpu(income, **kwargs)
    assert result.total == sum(line.net for line in result.lines)
    assert result.total == result.total_gross - result.total_discount
    for line in result.lines:
        assert line.net == line.gross - line.discount
        assert 0 <= line.discount <= line.gross  # a discount never raises a line
        assert all(isinstance(v, int) for v in (line.gross, line.discount, line.net))


@settings(max_examples=150, deadline=None)
@given(low=incomes, high=incomes, kwargs=case)
def test_contribution_never_falls_as_income_rises(
    low: int, high: int, kwargs: dict[str, Any]
) -> None:
    low, high = sorted((low, high))
    assert bpu(low, **kwargs).total <= bpu(high, **kwargs).total


@settings(max_examples=150, deadline=None)
@given(income=incomes, kwargs=case)
def test_jht_never_discounted_and_government_never_discounted(
    income: int, kwargs: dict[str, Any]
) -> None:
    result = bpu(income, **kwargs)
    for line in result.lines:
        if line.programme == "jht":
            assert line.discount == 0
    if kwargs["funding"] in ("apbd", "apbn"):
        assert result.total_discount == 0
    undiscounted = bpu(income, **{**kwargs, "funding": "apbn"})
    assert result.total <= undiscounted.total
