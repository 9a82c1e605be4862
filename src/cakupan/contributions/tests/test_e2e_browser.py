"""One officer's month in a real browser, end to end: bill the month from the page (the
background worker runs it), upload the sponsor's bank statement and save it, download the
sponsor invoice, print a worker's card; then the hospital desk sees the worker protected, and
the ledger check finds nothing wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cakupan.contributions.check import ledger_check
from cakupan.contributions.models import Bill, Invoice
from cakupan.contributions.tests.factories import make_membership, make_programme
from cakupan.membership.tests.test_pages import run_worker

PASSWORD = "Rahasia-kuat-2026"


def login(page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}{then}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{then}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bill_a_month_pay_it_by_statement_download_the_invoice_and_print_a_card(
    malang, page, live_server, tmp_path
):
    from cakupan.accounts.services import user_create

    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    drivers = [make_membership(fundings=[(csr, "2026-01", "2026-12")]) for _ in range(2)]
    user_create(username="petugas", role="bpjs_officer", password=PASSWORD)
    user_create(username="rs", role="hospital", password=PASSWORD)
    base = live_server.url

    # 1. bill November from the ledger page
    login(page, base, "petugas", "/iuran/")
    page.click("[data-testid=bill-a-month]")
    page.fill("input[name=month]", "2026-11")
    page.click("[data-testid=billing-start]")
    page.wait_for_url(re.compile(r"/iuran/penagihan/\d+/$"))
    run_worker()
    page.locator("[data-testid=run-bills]").wait_for()
    assert page.locator("[data-testid=run-bills]").inner_text() == "2"
    invoice = Invoice.objects.get(programme=csr)
    assert sum(b.amount for b in invoice.bills.all()) == 2 * 8_400

    # 2. the sponsor's transfer arrives on a bank statement naming the invoice
    statement = tmp_path / "mutasi-bank.csv"
    statement.write_text(
        "Referensi;Pembayar;Jumlah;Tanggal;No Invoice\n"
        f"BNI-77001;{csr.sponsor.name};Rp 16.800;20/11/2026;{invoice.number}\n",
        encoding="utf-8",
    )
    page.goto(f"{base}/iuran/mutasi/")
    page.set_input_files("#id_file", str(statement))
    page.click("[data-testid=statement-upload] button[type=submit]")
    page.locator("[data-testid=statement-counts]").wait_for()
    page.click("[data-testid=save-all]")
    page.locator("[data-testid=count-recorded]").wait_for()
    assert page.inner_text("[data-testid=count-recorded]") == "1"
    assert all(b.paid_on for b in Bill.objects.filter(invoice=invoice))

    # 3. the sponsor invoice, as the PDF the sponsor's office files
    page.goto(f"{base}/iuran/invoice/{invoice.pk}/")
    with page.expect_download() as download:
        page.click("[data-testid=invoice-pdf]")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    # 4. the first driver's membership card, from the worker page
    worker = drivers[0].worker
    page.goto(f"{base}/pekerja/{worker.pk}/")
    with page.expect_download() as download:
        page.click("[data-testid=print-card]")
    card = Path(download.value.path()).read_bytes()
    assert card.startswith(b"%PDF-") and drivers[0].cards.count() == 1

    # 5. the hospital desk asks about the driver: protected, from the ledger
    page.context.clear_cookies()
    login(page, base, "rs", "/verifikasi/")
    page.fill("#id_nik", worker.nik)
    page.click("button[type=submit]")
    assert "YA" in page.locator("[data-testid=verdict]").inner_text()

    assert ledger_check() == []
