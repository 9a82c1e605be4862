"""The small city coverage tests share: five workers in two kecamatan, October 2026, whose
figures are computed by hand in the tests (test_snapshots.py, test_dashboard.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.claims.tests.factories import bill_and_pay, pay_bill
from cakupan.contributions.billing import billing_run
from cakupan.contributions.models import Bill
from cakupan.contributions.services import account_of_sponsor
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.coverage.tests.factories import aggregate, denominator
from cakupan.registry.models import Worker
from cakupan.registry.tests.factories import make_worker

LOWOKWARU, BLIMBING, CITY = "35.73.05", "35.73.01", "35.73"
TODAY = dt.date(2026, 12, 2)


def client_as(make_user, role: str):
    """A Django test client logged in as a new user of `role`."""
    from django.test import Client

    client = Client()
    client.force_login(make_user(role, username=f"c_{role}"))
    return client


@pytest.fixture
def city(malang) -> dict:
    return build_city()


def build_city() -> dict:
    """Five workers in two kecamatan, October 2026:
    - Ani (Lowokwaru, self-paid, Sep and Oct paid): active;
    - Budi (Lowokwaru, another CSR programme, Oct billed, not paid): a member, not active;
    - Citra (Blimbing, CSR, Oct paid): active, funded by the programme;
    - Dedi (Blimbing, registered in September, no membership): registered only;
    - Eko (Blimbing, registered in December): not yet registered in October."""
    programme = make_programme(type="csr", first="2026-09", last="2027-12", budget=10**9)
    other = make_programme(type="csr", first="2026-09", last="2027-12", budget=10**9)
    ani = make_membership(fundings=[(None, "2026-09", None)], name="Ani")
    Worker.objects.filter(pk=ani.worker_id).update(kelurahan_id="35.73.05.1011", sex="P")
    budi = make_membership(fundings=[(other, "2026-10", None)], name="Budi")
    citra = make_membership(fundings=[(programme, "2026-10", None)], name="Citra")
    Worker.objects.filter(pk=citra.worker_id).update(kelurahan_id="35.73.01.1005")
    dedi = make_worker(full_name="Dedi", kelurahan="35.73.01.1005", occupation="petani")
    Worker.objects.filter(pk=dedi.pk).update(created_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    make_worker(full_name="Eko", kelurahan="35.73.01.1005")
    bill_and_pay(ani, "2026-09", "2026-10")
    billing_run(month=M("2026-10"))
    bill = Bill.objects.get(membership=citra, month=M("2026-10"), voided_at__isnull=True)
    pay_bill(account_of_sponsor(programme.sponsor), bill, dt.date(2026, 10, 20))
    denominator(CITY, 40)
    denominator(LOWOKWARU, 10)
    aggregate(CITY, M("2026-10"), "pu", 5)
    aggregate(CITY, M("2026-09"), "pmi", 1)  # the latest count before the month is used
    return {
        "ani": ani,
        "budi": budi,
        "citra": citra,
        "dedi": dedi,
        "programme": programme,
        "other": other,
    }
