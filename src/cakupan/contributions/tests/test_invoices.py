"""Sponsor invoices (CSV, XLSX, PDF in Indonesian office form), their scoping, the programme
page's money, and the committed column stored on funding assignments."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
import zlib

import pytest
from django.apps import apps
from django.test import Client

from cakupan.contributions.billing import billing_run
from cakupan.contributions.invoices import invoice_totals
from cakupan.contributions.models import Invoice
from cakupan.contributions.services import account_of_sponsor, payment_record
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.funding.selectors import cost_of, programme_budget
from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import FundingAssignment
from cakupan.membership.services import funding_assign, membership_enrol
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def billed(malang):
    """A CSR programme with three ojol drivers billed for 2026-11 (8,400 each, the PP 50/2025
    discount), one paid by the sponsor for two of them (16,800)."""
    csr = make_programme(type="csr")
    names = ["Siti Aminah", "Dewi Lestari", "Budi Santoso"]
    members = [make_membership(fundings=[(csr, "2026-01", "2026-12")], name=n) for n in names]
    billing_run(month="2026-11")
    invoice = Invoice.objects.get(programme=csr, month=M("2026-11"))
    payment_record(
        reference="CSR-NOV-1",
        amount=16_800,
        paid_on=D(2026, 11, 10),
        source="form",
        user=None,
        account=account_of_sponsor(csr.sponsor),
        target=invoice.number,
    )
    return csr, members, invoice


def sponsor_client(make_user, sponsor, username: str) -> Client:
    user = make_user("sponsor", username)
    user.sponsor = sponsor
    user.save(update_fields=["sponsor"])
    client = Client()
    client.force_login(user)
    return client


def test_invoice_totals_count_lines_paid_and_outstanding(billed):
    _csr, _members, invoice = billed
    t = invoice_totals([invoice.pk])[invoice.pk]
    assert (t.lines, t.gross, t.discount, t.amount) == (3, 3 * 16_800, 3 * 8_400, 3 * 8_400)
    assert (t.paid, t.outstanding) == (16_800, 8_400)


def test_invoice_csv_is_in_indonesian_office_form(billed, officer):
    _csr, members, invoice = billed
    r = officer.get(f"/iuran/invoice/{invoice.pk}/unduh/csv/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "INV-202611-" in r["Content-Disposition"]
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert f"Nomor invoice,{invoice.number}" in text
    assert f"Jatuh tempo,{invoice.due_on:%d/%m/%Y}" in text
    assert "Rp 16.800,Rp 8.400,Rp 8.400" in text  # gross, discount, amount of one line
    assert "Total tagihan,Rp 25.200" in text
    assert "Sudah dibayar,Rp 16.800" in text and "Sisa tagihan,Rp 8.400" in text
    assert "11/2026" in text
    nik = members[0].worker.nik
    assert nik not in text and nik[:4] + "•" * 12 in text
    assert text.index("Budi Santoso") < text.index("Dewi Lestari") or "Siti Aminah" in text


def test_invoice_headings_follow_the_language(billed, officer):
    _csr, _members, invoice = billed
    officer.cookies["django_language"] = "en"
    text = b"".join(officer.get(f"/iuran/invoice/{invoice.pk}/unduh/csv/").streaming_content)
    text = text.decode("utf-8-sig")
    assert f"Invoice number,{invoice.number}" in text and "Outstanding,Rp 8.400" in text


def test_invoice_xlsx_has_numbers_shown_as_rupiah_and_dates(billed, officer):
    from openpyxl import load_workbook

    _csr, _members, invoice = billed
    r = officer.get(f"/iuran/invoice/{invoice.pk}/unduh/xlsx/")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = [[c for c in row] for row in sheet.iter_rows()]
    by_label = {row[0].value: row for row in rows if row and row[0].value}
    assert by_label["Nomor invoice"][1].value == invoice.number
    due = by_label["Jatuh tempo"][1]
    assert due.value.date() == invoice.due_on and due.number_format == "DD/MM/YYYY"
    total = by_label["Total tagihan"][1]
    assert total.value == 25_200 and "Rp" in total.number_format
    lines = [row for row in rows if isinstance(row[0].value, int) and row[0].value >= 1]
    assert [row[7].value for row in lines] == [8_400, 8_400, 8_400]
    assert {row[2].value for row in lines} == {"Siti Aminah", "Dewi Lestari", "Budi Santoso"}
    assert all(row[3].value.endswith("•" * 12) for row in lines)


def pdf_text(data: bytes) -> str:
    """The text of a PDF's (zlib-compressed) content streams, enough to find words in."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "\n".join(out)


def test_invoice_pdf_is_a_pdf_with_its_number_and_amounts(billed, officer):
    _csr, _members, invoice = billed
    r = officer.get(f"/iuran/invoice/{invoice.pk}/unduh/pdf/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    data = b"".join(r.streaming_content)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert invoice.number in text
    assert "Rp 25.200" in text and invoice.due_on.strftime("%d/%m/%Y") in text


def test_a_sponsor_sees_only_its_own_invoices(billed, make_user):
    csr, _members, invoice = billed
    other = make_programme(type="csr")
    own = sponsor_client(make_user, csr.sponsor, "sponsor_own")
    stranger = sponsor_client(make_user, other.sponsor, "sponsor_other")
    assert own.get(f"/iuran/invoice/{invoice.pk}/").status_code == 200
    assert own.get(f"/iuran/invoice/{invoice.pk}/unduh/pdf/").status_code == 200
    for url in (f"/iuran/invoice/{invoice.pk}/", f"/iuran/invoice/{invoice.pk}/unduh/csv/"):
        assert stranger.get(url).status_code == 404
    assert invoice.number not in stranger.get("/iuran/invoice/").content.decode()
    assert invoice.number in own.get("/iuran/invoice/").content.decode()


def test_the_hospital_cannot_list_or_download_invoices(billed, make_user):
    _csr, _members, invoice = billed
    client = Client()
    client.force_login(make_user("hospital", "rs1"))
    for url in (
        "/iuran/",
        "/iuran/invoice/",
        f"/iuran/invoice/{invoice.pk}/unduh/csv/",
        "/iuran/prakiraan/",
        "/iuran/prakiraan/unduh/csv/",
        "/iuran/prakiraan/ringkas/",
        "/iuran/penagihan/",
    ):
        assert client.get(url).status_code == 403, url


def test_invoices_api_is_scoped_and_has_totals(billed, api_client, make_user):
    csr, _members, invoice = billed
    officer = api_client("bpjs_officer")
    r = officer.get(f"/api/v1/invoices?programme={csr.pk}&month=2026-11")
    assert r.status_code == 200
    (row,) = r.json()
    assert (row["number"], row["amount"], row["paid"], row["outstanding"]) == (
        invoice.number,
        25_200,
        16_800,
        8_400,
    )
    assert officer.get("/api/v1/invoices?month=2026-13").status_code == 422
    sponsor = api_client("sponsor")
    sponsor.user.sponsor = make_programme(type="csr").sponsor
    sponsor.user.save(update_fields=["sponsor"])
    assert sponsor.get("/api/v1/invoices").json() == []
    assert api_client("hospital").get("/api/v1/invoices").status_code == 403


def test_programme_page_shows_billed_paid_outstanding_and_its_invoices(billed, officer):
    csr, _members, invoice = billed
    page = officer.get(f"/program/{csr.pk}/").content.decode()
    assert re.search(r'data-testid="billed">Rp 25.200<', page)
    assert re.search(r'data-testid="paid">Rp 16.800<', page)
    assert re.search(r'data-testid="outstanding">Rp 8.400<', page)
    assert invoice.number in page and f"/iuran/invoice/{invoice.pk}/unduh/pdf/" in page
    listing = officer.get("/program/").content.decode()
    assert "Rp 25.200" in listing and "Rp 8.400" in listing


# -- committed ------------------------------------------------------------------------------


def _old_committed(programme) -> int:
    """What programme_budget computed before the column: the cohort re-priced."""
    rows = list(
        programme.assignments.values_list(
            "membership__worker__occupation__sector", "first_month", "last_month"
        )
    )
    sectors, firsts, lasts = zip(*rows, strict=True)
    return int(
        cost_of(
            programme=programme,
            incomes=[programme.declared_income] * len(rows),
            sectors=sectors,
            first_months=firsts,
            last_months=[last or programme.last_month for last in lasts],
        ).sum()
    )


@pytest.fixture
def cohort(malang):
    """A golden cohort: ojol (transport: discounted Nov 2026–Mar 2027), petani and a shop
    worker, enrolled from different months, into a CSR programme 2026-09..2027-06 with JHT."""
    sponsor = sponsor_create(type="csr", name="CSR Golden")
    programme = programme_create(
        sponsor=sponsor,
        name="Golden",
        fiscal_year=2026,
        first_month=M("2026-09"),
        last_month=M("2027-06"),
        budget=50_000_000,
        programmes=["jkk", "jkm", "jht"],
        declared_income=1_500_000,
    )
    enrolled = [
        membership_enrol(worker=make_worker(occupation="ojol"), programme=programme, start=start)
        for start in (D(2026, 9, 1), D(2026, 12, 5))
    ]
    enrolled.append(
        membership_enrol(
            worker=make_worker(occupation="petani"), programme=programme, start=D(2027, 2, 1)
        )
    )
    other = make_membership(fundings=[(None, "2026-01", None)], occupation="pedagang_pasar")
    funding_assign(
        membership=other, programme=programme, first_month=M("2027-01"), last_month=M("2027-03")
    )
    return programme, enrolled


def test_committed_is_stored_equal_to_the_cohort_priced_again(cohort):
    programme, _enrolled = cohort
    rows = FundingAssignment.objects.filter(programme=programme)
    assert rows.count() == 4 and all(r.committed > 0 for r in rows)
    assert programme_budget(programme=programme).committed == _old_committed(programme)
    # an open self-payment row commits no programme money
    assert not FundingAssignment.objects.filter(programme__isnull=True, committed__gt=0).exists()


def test_the_data_migration_fills_committed_for_existing_rows(cohort):
    programme, _enrolled = cohort
    expected = dict(FundingAssignment.objects.values_list("pk", "committed"))
    FundingAssignment.objects.update(committed=0)
    migration = importlib.import_module("cakupan.membership.migrations.0005_funding_committed")
    migration.fill_committed(apps, None)
    assert dict(FundingAssignment.objects.values_list("pk", "committed")) == expected
    assert programme_budget(programme=programme).committed == _old_committed(programme)
