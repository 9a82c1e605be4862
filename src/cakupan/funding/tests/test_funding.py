"""Eligibility as data, and what a programme's cohort costs over its months."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cakupan.funding.eligibility import ineligible_reason, validate_eligibility
from cakupan.funding.months import add_months, month_range, months_between, parse_month
from cakupan.funding.selectors import cost_of, eligibility_summary
from cakupan.funding.services import programme_create, sponsor_create

WORKERS = pl.DataFrame(
    {
        "occupation": ["ojol", "petani", "ojol"],
        "sector": ["transport", "agriculture", "transport"],
        "kecamatan": ["35.73.05", "35.73.01", "35.73.01"],
        "kelurahan": ["35.73.05.1011", "35.73.01.1001", None],
        "vulnerable": [True, True, False],
        "birth_date": [dt.date(1990, 1, 1), dt.date(1950, 6, 1), dt.date(2000, 1, 1)],
    }
)


def test_eligibility_reasons_per_worker() -> None:
    reasons = ineligible_reason(
        WORKERS,
        {"occupations": ["ojol"], "max_age": 60, "vulnerable_only": True},
        as_of=dt.date(2026, 11, 1),
    )
    assert reasons.to_list() == [
        None,
        "pekerjaan di luar sasaran program; usia di atas 60 tahun",
        "bukan pekerja rentan",
    ]
    assert ineligible_reason(WORKERS, {}, as_of=dt.date(2026, 1, 1)).to_list() == [None, None, None]


def test_eligibility_definition_is_checked() -> None:
    assert validate_eligibility({"occupations": ["ojol"], "min_age": 18}) == []
    problems = validate_eligibility({"colour": "blue", "sectors": "transport", "max_age": 200})
    assert len(problems) == 3 and "colour" in problems[0]


def test_month_arithmetic() -> None:
    assert add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)
    assert months_between(dt.date(2026, 11, 1), dt.date(2027, 2, 1)) == 4
    assert months_between(dt.date(2026, 11, 1), dt.date(2026, 10, 1)) == 0
    assert list(month_range(dt.date(2026, 12, 1), dt.date(2027, 1, 1))) == [
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]
    assert parse_month("2026-11") == dt.date(2026, 11, 1)
    with pytest.raises(ValueError, match="2026-11"):
        parse_month("November")


@pytest.mark.django_db
def test_cost_follows_the_discount_months_sector_and_funder(malang) -> None:  # type: ignore[no-untyped-def]
    def programme(kind: str):  # type: ignore[no-untyped-def]
        return programme_create(
            sponsor=sponsor_create(type=kind, name=kind),
            name="P",
            fiscal_year=2027,
            first_month=dt.date(2027, 1, 1),
            last_month=dt.date(2027, 12, 1),
            budget=10**9,
        )

    csr, apbd = programme("csr"), programme("apbd")
    args = {
        "incomes": [1_000_000, 1_000_000],
        "sectors": ["transport", "trade"],
        "first_months": [dt.date(2027, 1, 1)] * 2,
        "last_months": [dt.date(2027, 12, 1)] * 2,
    }
    # PP 50/2025: transport discounted through 2027-03, other sectors only in 2026
    assert cost_of(programme=csr, **args).tolist() == [3 * 8_400 + 9 * 16_800, 12 * 16_800]
    assert cost_of(programme=apbd, **args).tolist() == [12 * 16_800, 12 * 16_800]


@pytest.mark.django_db
def test_eligibility_summary_in_words(malang) -> None:  # type: ignore[no-untyped-def]
    assert eligibility_summary({"sectors": ["transport"], "min_age": 18}) == [
        "Sektor: Transportasi",
        "Usia minimal 18 tahun",
    ]
