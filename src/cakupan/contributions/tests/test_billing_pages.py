"""Billing from the web and the API: the run queued for the real task worker, its page polling
then showing the result, the refusal while another run holds the lock, the worker page's
months grid, and a browser that bills a month and downloads the sponsor invoice."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client

from cakupan.contributions.billing import billing_run, run_start
from cakupan.contributions.models import Bill, BillingRun, Invoice
from cakupan.contributions.services import account_of_membership, payment_record
from cakupan.contributions.tasks import TASK_GONE, billing_runs_reap
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.membership.tests.test_pages import run_worker, worker_test

D = dt.date


@pytest.fixture
def members(malang):
    csr, apbd = make_programme(type="csr"), make_programme(type="apbd")
    return [
        make_membership(fundings=[(csr, "2026-01", "2026-12")]),
        make_membership(fundings=[(csr, "2026-01", "2026-12")]),
        make_membership(fundings=[(apbd, "2026-01", "2026-12")]),
    ]


@worker_test
def test_billing_a_month_from_the_page_runs_in_the_background(members, officer):
    r = officer.post("/iuran/penagihan/", {"month": "2026-11"})
    run = BillingRun.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/iuran/penagihan/{run.pk}/"
    # queued, not run in the request; the lock is already held
    assert run.status == BillingRun.Status.QUEUED and run.lock is True and run.task_id
    assert not Bill.objects.exists()
    page = officer.get(f"/iuran/penagihan/{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    run_worker()
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE and run.lock is None
    assert (run.bills_added, run.amount_added, run.invoices_added) == (3, 2 * 8_400 + 16_800, 2)
    status = officer.get(f"/iuran/penagihan/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in status
    assert re.search(r'data-testid="run-bills">3<', status)
    assert re.search(r'data-testid="run-amount">Rp 33.600<', status)
    assert Invoice.objects.count() == 2 and "INV/202611/" in status
    # the run is in the list of past runs
    assert f"/iuran/penagihan/{run.pk}/" in officer.get("/iuran/penagihan/").content.decode()


@pytest.mark.django_db
def test_a_second_start_is_told_who_runs_and_since_when(members, officer, make_user):
    other = make_user("bpjs_officer", "petugas_lain")
    held = run_start(month=M("2026-11"), user=other)
    r = officer.post("/iuran/penagihan/", {"month": "2026-12"})
    assert r.status_code == 409
    page = r.content.decode()
    assert "petugas_lain" in page and "sedang berjalan" in page
    assert held.created_at.astimezone().strftime("%d/%m/%Y") in page
    assert BillingRun.objects.count() == 1
    # the start page says so before anyone clicks, too
    assert 'data-testid="billing-running"' in officer.get("/iuran/penagihan/").content.decode()


@pytest.mark.django_db
def test_a_month_not_understood_is_refused_on_the_page(members, officer):
    r = officer.post("/iuran/penagihan/", {"month": "November"})
    assert r.status_code == 400 and "TTTT-BB" in r.content.decode()
    assert not BillingRun.objects.exists()


@pytest.mark.django_db
def test_only_billing_officers_start_billing(members, make_user):
    city = Client()
    city.force_login(make_user("city_officer", "kota1"))
    assert city.get("/iuran/").status_code == 200  # VIEW_LEDGER
    assert city.post("/iuran/penagihan/", {"month": "2026-11"}).status_code == 403
    assert not BillingRun.objects.exists()


@pytest.mark.django_db
def test_the_nav_links_the_ledger_for_those_who_may_see_it(members, officer, make_user):
    assert 'href="/iuran/"' in officer.get("/").content.decode()
    hospital = Client()
    hospital.force_login(make_user("hospital", "rs1"))
    assert 'href="/iuran/"' not in hospital.get("/verifikasi/").content.decode()


@pytest.mark.django_db
def test_a_queued_run_whose_task_is_gone_is_marked_failed(members, officer):
    officer.post("/iuran/penagihan/", {"month": "2026-11"})
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    assert billing_runs_reap() == 1
    run = BillingRun.objects.get()
    assert run.status == BillingRun.Status.FAILED and run.lock is None
    assert run.message == TASK_GONE
    page = officer.get(f"/iuran/penagihan/{run.pk}/").content.decode()
    assert "Pekerja latar tidak menjalankan penagihan ini" in page
    # and the month can be billed again
    assert officer.post("/iuran/penagihan/", {"month": "2026-11"}).status_code == 302


# -- API -----------------------------------------------------------------------------------


@worker_test
def test_the_api_queues_a_run_answers_409_meanwhile_then_the_result(members, api_client):
    client = api_client("bpjs_officer")
    r = client.post("/api/v1/billing-runs", {"month": "2026-11"}, content_type="application/json")
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "queued" and body["month"] == "2026-11"
    again = client.post(
        "/api/v1/billing-runs", {"month": "2026-11"}, content_type="application/json"
    )
    assert again.status_code == 409
    assert "api_bpjs_officer" in again.json()["detail"][0]["msg"]
    run_worker()
    done = client.get(f"/api/v1/billing-runs/{body['id']}").json()
    assert (done["status"], done["bills_added"], done["invoices_added"]) == ("done", 3, 2)
    assert client.get("/api/v1/billing-runs/999999").status_code == 404


@pytest.mark.django_db
def test_the_api_refuses_a_bad_month_and_other_roles(members, api_client):
    client = api_client("bpjs_officer")
    r = client.post("/api/v1/billing-runs", {"month": "2026-13"}, content_type="application/json")
    assert r.status_code == 422
    sponsor = api_client("sponsor")
    r = sponsor.post("/api/v1/billing-runs", {"month": "2026-11"}, content_type="application/json")
    assert r.status_code == 403
    assert not BillingRun.objects.exists()


# -- the worker page's months grid -------------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_page_shows_the_months_grid_and_the_state(malang, officer):
    m = make_membership(fundings=[(None, "2026-03", None)], occupation="petani")
    for month in range(3, 12):
        billing_run(month=f"2026-{month:02d}")
    account = account_of_membership(m)
    # March..June paid, then a partial payment; nothing since: in arrears on 01/12/2026
    paid = sum(b.amount for b in Bill.objects.filter(membership=m, month__lte=M("2026-06")))
    july = Bill.objects.get(membership=m, month=M("2026-07")).amount
    payment_record(
        reference="SELF-1",
        amount=paid + 5_000,
        paid_on=D(2026, 7, 1),
        source="form",
        user=None,
        account=account,
    )
    page = officer.get(f"/pekerja/{m.worker_id}/?tahun=2026").content.decode()
    cells = dict(re.findall(r'data-testid="month-(2026-\d\d)" data-status="([^"]+)"', page))
    assert cells["2026-01"] == "not_billed" and cells["2026-02"] == "not_billed"
    assert {cells[f"2026-0{i}"] for i in (3, 4, 5, 6)} == {"paid"}
    assert cells["2026-07"].startswith("partial")
    assert cells["2026-11"].startswith("unpaid")
    assert cells["2026-12"].startswith("not_billed")
    assert f"kurang Rp {july - 5_000:,}".replace(",", ".") in page
    assert 'data-testid="membership-state"' in page
    assert "?tahun=2025" in page and "?tahun=2027" in page
    assert "dibayar di muka (saldo)" in page  # the legend
    other = officer.get(f"/pekerja/{m.worker_id}/?tahun=2025").content.decode()
    assert set(re.findall(r'data-status="([a-z_]+)', other)) == {"not_billed"}


# -- browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_browser_bills_a_month_and_downloads_the_sponsor_invoice(members, page, live_server):
    from cakupan.accounts.services import user_create

    user_create(username="penagih", role="bpjs_officer", password="Rahasia-kuat-2026")
    page.goto(f"{live_server.url}/iuran/")  # the login page, then back here
    page.fill("#id_username", "penagih")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/iuran/")
    page.click("[data-testid=bill-a-month]")
    page.fill("input[name=month]", "2026-11")
    page.click("[data-testid=billing-start]")
    page.wait_for_url(re.compile(r"/iuran/penagihan/\d+/$"))
    assert page.locator("[data-testid=run-status]").inner_text() in ("Menunggu", "Menagih")
    run_worker()  # the background worker, as `cakupan serve` runs it
    page.locator("[data-testid=run-bills]").wait_for()  # the page polled and shows the result
    assert page.locator("[data-testid=run-bills]").inner_text() == "3"
    number = Invoice.objects.filter(programme__sponsor__type="csr").get().number
    page.click(f"text={number}")
    with page.expect_download() as download:
        page.click("[data-testid=invoice-pdf]")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    assert download.value.suggested_filename == "invoice-" + number.replace("/", "-") + ".pdf"


@pytest.mark.django_db
def test_the_overview_lists_runs_and_invoices_and_fetches_the_forecast(members, officer):
    billing_run(month="2026-11")
    page = officer.get("/iuran/").content.decode()
    assert 'data-testid="billing-runs"' in page and "INV/202611/" in page
    assert 'hx-get="/iuran/prakiraan/ringkas/"' in page
    summary = officer.get("/iuran/prakiraan/ringkas/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="forecast-total"' in summary


@worker_test
def test_the_stage_is_seen_by_others_while_the_billing_transaction_runs(members):
    """PostgreSQL: the page polls another connection; the stage written from inside the
    billing transaction must be visible there before it commits."""
    from django.db import connection, transaction

    from cakupan.contributions.tasks import _stage_write

    if connection.vendor != "postgresql":
        pytest.skip("SQLite holds one write lock: the stage is not written during the billing")
    run = run_start(month=M("2026-11"), user=None)
    seen = []

    def look() -> None:
        from django.db import connections

        try:
            seen.append(BillingRun.objects.get(pk=run.pk).stage)
        finally:
            connections.close_all()

    import threading

    with transaction.atomic():
        Invoice.objects.create(
            programme=members[0].fundings.get().programme,
            month=M("2026-11"),
            number="INV/TEST",
            issued_on=D(2026, 11, 1),
            due_on=D(2026, 11, 15),
            run=run,  # the billing's writes hold a key-share lock on the run's row
        )
        _stage_write(run.pk, "bills")
        reader = threading.Thread(target=look)
        reader.start()
        reader.join()
        transaction.set_rollback(True)
    assert seen == ["bills"]
