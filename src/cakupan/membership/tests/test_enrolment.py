"""Single enrolment: eligibility, one payer per person-month, cohort cap, budget, self-payment."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.funding.selectors import programme_budget
from cakupan.funding.services import FundingInvalid, programme_create, sponsor_create
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.membership.services import (
    EnrolmentRefused,
    membership_enrol,
    membership_to_self_payment,
)
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")
NOV = dt.date(2026, 11, 1)


def programme(kind: str = "csr", name: str = "Ojol sehat", budget: int = 10_000_000, **kw):
    sponsor = sponsor_create(type=kind, name=f"{kind.upper()} {name}")
    values = {
        "fiscal_year": 2026,
        "first_month": dt.date(2026, 1, 1),
        "last_month": dt.date(2026, 12, 1),
        "budget": budget,
        **kw,
    }
    return programme_create(sponsor=sponsor, name=name, **values)


def test_csr_funded_ojol_costs_the_discounted_8400_a_month() -> None:
    p = programme("csr")
    w = make_worker(occupation="ojol")
    m = membership_enrol(worker=w, programme=p, start=NOV)
    assert (m.bracket, m.number, m.programmes) == (1, f"BPU-{w.pk:09d}", ["jkk", "jkm"])
    a = FundingAssignment.objects.get()
    assert (a.first_month, a.last_month, a.programme) == (NOV, dt.date(2026, 12, 1), p)
    assert programme_budget(programme=p).committed == 2 * 8_400


def test_apbd_funded_ojol_pays_the_full_16800() -> None:
    p = programme("apbd")
    membership_enrol(worker=make_worker(occupation="ojol"), programme=p, start=NOV)
    assert programme_budget(programme=p).committed == 2 * 16_800


def test_a_second_enrolment_adds_funding_never_a_second_membership() -> None:
    w = make_worker()
    first = programme("csr", name="Semester 1", last_month=dt.date(2026, 6, 1))
    second = programme("apbd", name="Semester 2", first_month=dt.date(2026, 7, 1))
    membership_enrol(worker=w, programme=first, start=dt.date(2026, 1, 1))
    membership_enrol(worker=w, programme=second, start=dt.date(2026, 7, 1))
    assert Membership.objects.count() == 1
    assert [(a.first_month.month, a.last_month.month) for a in FundingAssignment.objects.all()] == [
        (1, 6),
        (7, 12),
    ]


def test_a_second_funder_for_the_same_months_is_refused_naming_the_first() -> None:
    w = make_worker()
    membership_enrol(worker=w, programme=programme("csr", name="RS Hermina"), start=NOV)
    with pytest.raises(EnrolmentRefused) as exc:
        membership_enrol(worker=w, programme=programme("apbd", name="Pemkot"), start=NOV)
    assert exc.value.code == "double_funding"
    assert "CSR RS Hermina" in str(exc.value) and "2026-11..2026-12" in str(exc.value)
    assert FundingAssignment.objects.count() == 1


def test_self_payment_after_the_programme_ends_and_a_later_sponsor_takes_over() -> None:
    w = make_worker()
    m = membership_enrol(worker=w, programme=programme("csr"), start=NOV)
    with pytest.raises(EnrolmentRefused):
        membership_to_self_payment(membership=m, from_month=dt.date(2026, 12, 1))
    a = membership_to_self_payment(membership=m, from_month=dt.date(2027, 1, 1))
    assert (a.programme, a.last_month) == (None, None)
    city_2027 = programme(
        "apbd",
        name="2027",
        fiscal_year=2027,
        first_month=dt.date(2027, 3, 1),
        last_month=dt.date(2027, 12, 1),
    )
    membership_enrol(worker=w, programme=city_2027, start=dt.date(2027, 3, 1))
    payers = [
        (
            f.programme.name if f.programme else "mandiri",
            f"{f.first_month:%Y-%m}",
            f"{f.last_month:%Y-%m}" if f.last_month else "…",
        )
        for f in m.fundings.order_by("first_month")
    ]
    # the worker's own payment yields the sponsor's months and resumes after them
    assert payers == [
        ("Ojol sehat", "2026-11", "2026-12"),
        ("mandiri", "2027-01", "2027-02"),
        ("2027", "2027-03", "2027-12"),
        ("mandiri", "2028-01", "…"),
    ]


def test_cohort_cap_and_budget_refusals() -> None:
    capped = programme("csr", name="Kecil", cohort_cap=1)
    membership_enrol(worker=make_worker(), programme=capped, start=NOV)
    with pytest.raises(EnrolmentRefused) as exc:
        membership_enrol(worker=make_worker(full_name="Ani"), programme=capped, start=NOV)
    assert (exc.value.code, exc.value.fits) == ("cap_reached", 0)
    poor = programme("apbd", name="Hemat", budget=40_000)
    membership_enrol(worker=make_worker(full_name="Tono"), programme=poor, start=NOV)  # 33,600
    with pytest.raises(EnrolmentRefused) as exc:
        membership_enrol(worker=make_worker(full_name="Tini"), programme=poor, start=NOV)
    assert exc.value.code == "over_budget" and "6.400" in str(exc.value)


def test_eligibility_is_data() -> None:
    p = programme("dbhcht", eligibility={"occupations": ["petani"], "max_age": 60})
    with pytest.raises(EnrolmentRefused) as exc:
        membership_enrol(worker=make_worker(occupation="ojol"), programme=p, start=NOV)
    assert "pekerjaan di luar sasaran" in str(exc.value)
    old = make_worker(occupation="petani", birth_date=dt.date(1950, 1, 1))
    with pytest.raises(EnrolmentRefused, match="usia di atas 60"):
        membership_enrol(worker=old, programme=p, start=NOV)
    membership_enrol(
        worker=make_worker(occupation="petani", full_name="Pak Tani"), programme=p, start=NOV
    )


def test_programme_validation_names_fields() -> None:
    sponsor = sponsor_create(type="csr", name="PT Maju")
    with pytest.raises(FundingInvalid) as exc:
        programme_create(
            sponsor=sponsor,
            name="",
            fiscal_year=2026,
            first_month=dt.date(2026, 5, 1),
            last_month=dt.date(2026, 1, 1),
            budget=-1,
            programmes=["jp"],
            eligibility={"warna": "biru"},
        )
    assert set(exc.value.errors) == {"name", "last_month", "budget", "programmes", "eligibility"}
