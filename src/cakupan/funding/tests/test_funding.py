"""Eligibility as data, and what a programme's cohort costs over its months."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cakupan.funding.eligibility import ineligible_reason, validate_eligibility
from cakupan.funding.forms import ProgrammeForm
from cakupan.funding.selectors import cost_of, eligibility_summary
from cakupan.funding.services import FundingInvalid, programme_create, sponsor_create
from cakupan.months import add_months, month_range, months_between, parse_month

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
def test_cost_follows_the_discount_months_sector_and_funder(malang) -> None:
    def programme(kind: str):
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
def test_eligibility_summary_in_words(malang) -> None:
    assert eligibility_summary({"sectors": ["transport"], "min_age": 18}) == [
        "Sektor: Transportasi (ojol, opang, sopir, kurir)",
        "Usia minimal 18 tahun",
    ]


def test_eligibility_ages_must_be_in_order() -> None:
    assert validate_eligibility({"min_age": 18, "max_age": 60}) == []
    (problem,) = validate_eligibility({"min_age": 60, "max_age": 18})
    assert "Usia minimal (60) lebih besar dari usia maksimal (18)" in problem
    assert validate_eligibility({"min_age": True}) == [
        "'min_age' harus bilangan bulat 0 sampai 120."
    ]


def test_eligibility_codes_must_be_text() -> None:
    (problem,) = validate_eligibility({"occupations": ["ojol", 7]})
    assert "'occupations' harus berupa daftar kode teks" in problem


def _create(**changes):
    from cakupan.funding.models import Sponsor

    values = {
        "sponsor": Sponsor.objects.filter(name="RS").first()
        or sponsor_create(type="csr", name="RS"),
        "name": "P",
        "fiscal_year": 2027,
        "first_month": dt.date(2027, 1, 1),
        "last_month": dt.date(2027, 12, 1),
        "budget": 10**9,
        **changes,
    }
    return programme_create(**values)


@pytest.mark.django_db
def test_a_programme_lasts_at_most_60_months(malang) -> None:
    assert _create(last_month=dt.date(2031, 12, 1)).last_month == dt.date(2031, 12, 1)
    with pytest.raises(FundingInvalid) as exc:
        _create(name="Q", last_month=dt.date(2032, 1, 1))
    (message,) = exc.value.errors["last_month"]
    assert "paling lama 60 bulan" in message and "2031-12" in message


@pytest.mark.django_db
def test_min_age_above_max_age_is_refused(malang) -> None:
    with pytest.raises(FundingInvalid) as exc:
        _create(eligibility={"min_age": 60, "max_age": 18})
    assert "lebih besar dari usia maksimal" in exc.value.errors["eligibility"][0]


@pytest.mark.django_db
def test_eligibility_codes_must_be_in_the_catalogues(malang) -> None:
    from cakupan.registry.models import Occupation

    Occupation.objects.filter(code="petani").update(active=False)
    with pytest.raises(FundingInvalid) as exc:
        _create(
            eligibility={
                "occupations": ["ojol", "astronot", "petani"],
                "sectors": ["transport", "luar_angkasa"],
                "kecamatan": ["35.73.05", "35.73.05.1011", "35.73.99"],
                "kelurahan": ["35.73.05.1011", "35.73.05"],
            }
        )
    problems = exc.value.errors["eligibility"]
    assert problems == [
        "Kode pekerjaan tidak dikenal: astronot, petani. "
        "Pilih kode pekerjaan aktif dari katalog, mis. ojol.",
        "Kode sektor tidak dikenal: luar_angkasa. Pilih kode sektor, mis. transport.",
        "Kode kecamatan tidak dikenal: 35.73.05.1011, 35.73.99. "
        "Pilih kode kecamatan dari daftar wilayah, mis. 35.73.05.",
        "Kode kelurahan tidak dikenal: 35.73.05. "
        "Pilih kode kelurahan dari daftar wilayah, mis. 35.73.05.1011.",
    ]
    ok = _create(
        eligibility={
            "occupations": ["ojol"],
            "sectors": ["transport"],
            "kecamatan": ["35.73.05"],
            "kelurahan": ["35.73.05.1011"],
        }
    )
    assert ok.eligibility["kelurahan"] == ["35.73.05.1011"]


@pytest.mark.django_db
def test_cohort_cap_has_an_upper_bound(malang) -> None:
    sponsor = sponsor_create(type="csr", name="RS")
    form = ProgrammeForm(
        {
            "sponsor": sponsor.pk,
            "name": "P",
            "fiscal_year": 2027,
            "first_month": "2027-01",
            "last_month": "2027-12",
            "budget": 10**9,
            "declared_income": 1_000_000,
            "cohort_cap": 3_000_000_000,
        }
    )
    assert not form.is_valid() and "cohort_cap" in form.errors
    with pytest.raises(FundingInvalid) as exc:
        _create(cohort_cap=3_000_000_000)
    assert "cohort_cap" in exc.value.errors
