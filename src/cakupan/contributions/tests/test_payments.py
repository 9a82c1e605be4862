"""Payments through the pages and the API: the form (allocation order, prepayment, credit,
shortfall, errors on the field), the reversal, the unmatched queue with maker-checker, the API
contract (also over real HTTP against the live server, token and session/CSRF), and a browser
uploading a statement."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse

from cakupan.contributions.billing import billing_run
from cakupan.contributions.check import ledger_check
from cakupan.contributions.models import Bill, Invoice, Payment, PaymentAssignment
from cakupan.contributions.services import account_of_membership
from cakupan.contributions.tests.factories import M, make_membership, make_programme

pytestmark = pytest.mark.django_db

D = dt.date


def bill_of(membership, month: str) -> Bill:
    return Bill.objects.get(membership=membership, month=M(month), voided_at__isnull=True)


@pytest.fixture
def farmer(malang):
    """A petani paying for himself, billed Sep–Nov 2026 at 8,400 a month."""
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    for month in ("2026-09", "2026-10", "2026-11"):
        billing_run(month=month)
    return m


def record(client, **fields):
    data = {
        "reference": "TRX-1",
        "sponsor": "",
        "member_payer": "",
        "amount": "",
        "paid_on": "20/11/2026",
        "invoice": "",
        "membership": "",
        "prepay_months": "0",
        "note": "",
    }
    data.update(fields)
    return client.post(reverse("contributions:payment_create"), data)


# -- the form and the payment page -------------------------------------------------------------


def test_the_form_pays_the_oldest_month_first_and_shows_the_shortfall(officer, farmer):
    response = record(officer, member_payer=farmer.number, amount="Rp 13.400")
    payment = Payment.objects.get(reference="TRX-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("contributions:payment_detail", args=[payment.pk])
    assert payment.source == "form" and payment.account == account_of_membership(farmer)
    assert bill_of(farmer, "2026-09").paid_on == D(2026, 11, 20)
    assert bill_of(farmer, "2026-10").paid_on is None
    page = officer.get(response["Location"]).content.decode()
    assert "Rp 13.400" in page
    assert "09/2026" in page and "10/2026" in page
    # October got 5,000 of its 8,400: the page shows it still lacks 3,400
    assert 'data-testid="shortfall">Rp 3.400' in page


def test_an_overpayment_is_credit_and_prepaying_bills_months_ahead(officer, farmer):
    record(officer, reference="T-1", member_payer=farmer.number, amount="30000")
    account = account_of_membership(farmer)
    account.refresh_from_db()
    assert account.credit == 30_000 - 3 * 8_400
    page = officer.get(
        reverse("contributions:payment_detail", args=[Payment.objects.get().pk])
    ).content.decode()
    assert 'data-testid="credit">Rp 4.800' in page
    # nothing owed now: three months ahead, priced by the rules (8,400 each until 2026-12,
    # then the agriculture discount window has ended: 16,800)
    response = record(
        officer,
        reference="T-2",
        member_payer=farmer.number,
        amount=str(8_400 + 16_800 * 2),
        prepay_months="3",
    )
    assert response.status_code == 302
    ahead = Bill.objects.filter(membership=farmer, month__gt=M("2026-11")).order_by("month")
    assert [b.month for b in ahead] == [M("2026-12"), M("2027-01"), M("2027-02")]
    assert all(b.paid_on for b in ahead)
    assert ledger_check() == []


def test_a_sponsor_payment_naming_its_invoice_settles_that_invoice(officer, malang):
    csr = make_programme(type="csr")
    drivers = [make_membership(fundings=[(csr, "2026-01", "2026-12")]) for _ in range(2)]
    billing_run(month="2026-10")
    billing_run(month="2026-11")
    november = Invoice.objects.get(programme=csr, month=M("2026-11"))
    response = record(
        officer, sponsor=str(csr.sponsor.pk), amount="16.800", invoice=november.number
    )
    assert response.status_code == 302
    assert all(bill_of(m, "2026-11").paid_on for m in drivers)
    assert not any(bill_of(m, "2026-10").paid_on for m in drivers)


def test_the_same_reference_twice_credits_nothing_and_says_so(officer, farmer):
    record(officer, member_payer=farmer.number, amount="8400")
    response = record(officer, member_payer=farmer.number, amount="8400", follow=True)
    response = officer.post(
        reverse("contributions:payment_create"),
        {
            "reference": "TRX-1",
            "member_payer": farmer.number,
            "amount": "8400",
            "paid_on": "20/11/2026",
            "prepay_months": "0",
        },
        follow=True,
    )
    assert "sudah dicatat" in response.content.decode()
    assert Payment.objects.count() == 1
    account = account_of_membership(farmer)
    assert account.credit == 0 and bill_of(farmer, "2026-10").paid_on is None


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"amount": "dua ribu"}, "amount", "bukan jumlah Rupiah"),
        ({"amount": "0"}, "amount", "lebih dari 0"),
        ({"amount": "8400", "paid_on": "31/02/2026"}, "paid_on", "DD/MM/YYYY"),
        ({"amount": "8400", "paid_on": "01/01/2099"}, "paid_on", "masa depan"),
        ({"amount": "8400", "member_payer": "BPU-999999999"}, "member_payer", "BPU-999999999"),
        ({"amount": "8400", "member_payer": ""}, "sponsor", "Pilih sponsor"),
        ({"amount": "8400", "reference": ""}, "reference", "tidak boleh kosong"),
    ],
)
def test_bad_input_is_told_on_its_field_in_indonesian(officer, farmer, fields, field, words):
    data = {"member_payer": farmer.number, **fields}
    response = record(officer, **data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()
    assert Payment.objects.count() == 0


def test_a_reversal_through_the_page_reopens_the_months(officer, farmer):
    record(officer, member_payer=farmer.number, amount="8400")
    payment = Payment.objects.get()
    url = reverse("contributions:payment_reverse", args=[payment.pk])
    assert officer.post(url, {"reason": ""}).status_code == 302
    assert not Payment.objects.filter(reverses=payment).exists()  # a reason is required
    response = officer.post(url, {"reason": "Salah input"}, follow=True)
    reversal = Payment.objects.get(reverses=payment)
    assert reversal.amount == -8_400 and reversal.note == "Salah input"
    assert bill_of(farmer, "2026-09").unpaid_from is not None
    assert Payment.objects.count() == 2  # nothing edited or deleted
    page = officer.get(reverse("contributions:payment_detail", args=[payment.pk])).content
    assert b'data-testid="reversed"' in page and b"reverse-form" not in page
    assert response.status_code == 200 and ledger_check() == []


def test_pages_need_the_payment_permissions_and_a_csrf_token(make_user, farmer):
    city = Client()
    city.force_login(make_user("city_officer", "kota"))
    for name in ("payment_list", "payment_create", "statement_upload", "unmatched_list"):
        assert city.get(reverse(f"contributions:{name}")).status_code == 403
    assert b"/iuran/pembayaran/" not in city.get("/").content
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("bpjs_officer", "petugas"))
    assert b"/iuran/pembayaran/" in strict.get(reverse("contributions:payment_list")).content
    response = strict.post(
        reverse("contributions:payment_create"),
        {
            "reference": "X",
            "member_payer": farmer.number,
            "amount": "8400",
            "paid_on": "20/11/2026",
        },
    )
    assert response.status_code == 403 and Payment.objects.count() == 0


# -- the unmatched queue -----------------------------------------------------------------------


def test_the_unmatched_queue_needs_a_second_officer_to_approve(make_user, farmer):
    from cakupan.contributions.services import payment_record

    waiting = payment_record(
        reference="BRI-77",
        amount=8_400,
        paid_on=D(2026, 11, 5),
        source="statement",
        user=None,
        payer="Pak Tani",
    ).payment
    assert waiting.unmatched_reason == "unknown_payer"
    maker, checker = Client(), Client()
    maker.force_login(make_user("bpjs_officer", "maker"))
    checker.force_login(make_user("bpjs_officer", "checker"))
    page = maker.get(reverse("contributions:unmatched_list")).content.decode()
    assert "BRI-77" in page and "Pembayar tidak dikenal" in page
    # a proposal naming an unknown membership is refused on its field
    propose = reverse("contributions:unmatched_propose", args=[waiting.pk])
    bad = maker.post(propose, {f"p{waiting.pk}-member_payer": "BPU-000000999"})
    assert bad.status_code == 422 and "BPU-000000999" in bad.content.decode()
    maker.post(
        propose, {f"p{waiting.pk}-member_payer": farmer.number, f"p{waiting.pk}-note": "SMS"}
    )
    proposal = PaymentAssignment.objects.get(payment=waiting)
    assert proposal.status == "proposed" and proposal.account == account_of_membership(farmer)
    # the maker sees why he cannot approve, and a forged approval is refused
    page = maker.get(reverse("contributions:unmatched_list")).content.decode()
    assert 'data-testid="four-eyes"' in page and 'data-testid="approve"' not in page
    decide = reverse("contributions:unmatched_decide", args=[proposal.pk])
    refused = maker.post(decide, {"decision": "approve"}, follow=True)
    assert "empat mata" in refused.content.decode()
    waiting.refresh_from_db()
    assert waiting.account is None and bill_of(farmer, "2026-09").paid_on is None
    # the second officer approves: the money is the farmer's and pays his oldest month
    response = checker.post(decide, {"decision": "approve"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    proposal.refresh_from_db()
    assert waiting.account == account_of_membership(farmer)
    assert proposal.status == "approved" and proposal.decided_by.username == "checker"
    assert bill_of(farmer, "2026-09").paid_on == D(2026, 11, 5)
    queue = checker.get(reverse("contributions:unmatched_list")).content.decode()
    assert 'data-reference="BRI-77"' not in queue
    assert ledger_check() == []


def test_a_rejected_proposal_leaves_the_payment_waiting(make_user, malang):
    from cakupan.contributions.services import payment_record

    sponsor = make_programme().sponsor
    waiting = payment_record(
        reference="R-1", amount=5_000, paid_on=D(2026, 11, 5), source="api", user=None, payer="?"
    ).payment
    maker, checker = Client(), Client()
    maker.force_login(make_user("bpjs_officer", "maker"))
    checker.force_login(make_user("bpjs_officer", "checker"))
    maker.post(
        reverse("contributions:unmatched_propose", args=[waiting.pk]),
        {f"p{waiting.pk}-sponsor": str(sponsor.pk)},
    )
    proposal = PaymentAssignment.objects.get()
    checker.post(
        reverse("contributions:unmatched_decide", args=[proposal.pk]), {"decision": "reject"}
    )
    proposal.refresh_from_db()
    waiting.refresh_from_db()
    assert proposal.status == "rejected" and waiting.account is None
    queue = maker.get(reverse("contributions:unmatched_list")).content.decode()
    assert 'data-reference="R-1"' in queue and 'data-testid="proposal"' not in queue


# -- the statement pages -----------------------------------------------------------------------


def test_statement_upload_preview_then_save_good_rows_only(officer, farmer, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = (
        "referensi,pembayar,jumlah,tanggal\n"
        f"S-1,{farmer.number},8400,01/11/2026\n"
        "S-2,Siapa,abc,01/11/2026\n"
    ).encode()
    upload = SimpleUploadedFile("mutasi.csv", text, content_type="text/csv")
    response = officer.post(reverse("contributions:statement_upload"), {"file": upload})
    assert response.status_code == 302
    page = officer.get(response["Location"]).content.decode()
    assert 'data-testid="count-rejected">1<' in page and "abc" in page
    assert 'data-testid="save-all" disabled' in page
    assert Payment.objects.count() == 0  # the preview saves nothing
    save = response["Location"] + "simpan/"
    officer.post(save, {})  # all-or-nothing: refused, nothing saved
    assert Payment.objects.count() == 0
    officer.post(save, {"partial": "1"})
    assert list(Payment.objects.values_list("reference", flat=True)) == ["S-1"]
    assert bill_of(farmer, "2026-09").paid_on == D(2026, 11, 1)
    again = officer.post(save, {"partial": "1"}, follow=True)
    assert "sudah disimpan atau dibuang" in again.content.decode()
    assert Payment.objects.count() == 1


def test_an_unreadable_statement_is_told_on_the_file_field(officer, malang):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("mutasi.csv", b"nama,alamat\nA,B\n", content_type="text/csv")
    response = officer.post(reverse("contributions:statement_upload"), {"file": upload})
    assert response.status_code == 200
    assert "Kolom wajib tidak ditemukan" in " ".join(response.context["form"].errors["file"])


# -- the API -----------------------------------------------------------------------------------


@pytest.fixture
def cashier(api_client):
    return api_client("bpjs_officer")


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_api_records_once_and_says_already_recorded(cashier, farmer):
    body = {
        "reference": "API-1",
        "amount": 10_000,
        "paid_on": "2026-11-03",
        "membership": farmer.number,
    }
    first = post_json(cashier, "/api/v1/payments", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["matched"] and data["already_recorded"] is False and data["source"] == "api"
    assert [(a["month"], a["amount"], a["shortfall"]) for a in data["allocations"]] == [
        ("2026-09-01", 8_400, 0),
        ("2026-10-01", 1_600, 6_800),
    ]
    again = post_json(cashier, "/api/v1/payments", body)
    assert again.status_code == 200 and again.json()["already_recorded"] is True
    assert Payment.objects.count() == 1
    got = cashier.get("/api/v1/payments/API-1")
    assert got.status_code == 200 and got.json()["allocated"] == 10_000
    assert cashier.get("/api/v1/payments/NOPE").status_code == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"amount": 0}, "amount"),
        ({"amount": 10**20}, "amount"),
        ({"paid_on": "2099-01-01"}, "paid_on"),
        ({"reference": "  "}, "reference"),
        ({"invoice": "INV/1", "membership": "BPU-1"}, "membership"),
        ({"prepay_months": 2}, "prepay_months"),
    ],
)
def test_api_refusals_are_422_naming_the_field(cashier, farmer, change, field):
    body = {"reference": "API-2", "amount": 8_400, "paid_on": "2026-11-03", **change}
    response = post_json(cashier, "/api/v1/payments", body)
    assert response.status_code == 422, response.content
    assert field in [loc for d in response.json()["detail"] for loc in d["loc"]]
    assert Payment.objects.count() == 0


def test_api_reversal_and_an_unmatched_payment(cashier, farmer):
    post_json(
        cashier,
        "/api/v1/payments",
        {"reference": "API-3", "amount": 8_400, "paid_on": "2026-11-03", "payer": farmer.number},
    )
    no_reason = post_json(cashier, "/api/v1/payments/API-3/reversal", {"reason": " "})
    assert no_reason.status_code == 422
    reversed_ = post_json(cashier, "/api/v1/payments/API-3/reversal", {"reason": "Dobel"})
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses"] == "API-3" and reversed_.json()["amount"] == -8_400
    assert cashier.get("/api/v1/payments/API-3").json()["reversed_by"] == "API-3/BATAL"
    assert cashier.get("/api/v1/payments/API-3/BATAL").status_code == 200
    twice = post_json(cashier, "/api/v1/payments/API-3/reversal", {"reason": "Lagi"})
    assert twice.status_code == 422
    stranger = post_json(
        cashier,
        "/api/v1/payments",
        {"reference": "API-4", "amount": 50_000, "paid_on": "2026-11-03", "payer": "PT Entah"},
    ).json()
    assert stranger["matched"] is False and stranger["unmatched_reason"] == "unknown_payer"
    assert stranger["unmatched_reason_text"]


def test_api_statement_import_dry_run_then_save_then_again(cashier, farmer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = f"reference,payer,amount,date\nST-1,{farmer.number},8400,01/11/2026\n".encode()

    def send(**form):
        upload = SimpleUploadedFile("mutasi.csv", text, content_type="text/csv")
        return cashier.post("/api/v1/statements", {"file": upload, **form})

    dry = send(dry_run="true")
    assert dry.status_code == 200 and dry.json()["saved"] is False
    assert dry.json()["counts"]["matched"] == 1 and Payment.objects.count() == 0
    saved = send()
    assert saved.status_code == 201 and saved.json()["counts"]["recorded"] == 1
    again = send()
    assert again.status_code == 200 and again.json()["counts"]["already_recorded"] == 1
    assert "sudah tercatat" in again.json()["message"]
    bad = cashier.post(
        "/api/v1/statements",
        {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "file"]


def test_api_refuses_roles_without_record_payment(api_client, farmer):
    hospital = api_client("hospital")
    body = {"reference": "H-1", "amount": 8_400, "paid_on": "2026-11-03"}
    assert post_json(hospital, "/api/v1/payments", body).status_code == 403
    assert hospital.get("/api/v1/payments/H-1").status_code == 403
    assert Client().get("/api/v1/payments/H-1").status_code == 401


# -- over real HTTP against the live server --------------------------------------------------


def _http(url, *, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.mark.django_db(transaction=True)
def test_live_api_token_needs_no_csrf_and_a_session_without_it_is_refused(
    live_server, malang, make_user
):
    from cakupan.accounts.services import token_create

    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    user = make_user("bpjs_officer", "kasir")
    _t, key = token_create(user=user)
    url = f"{live_server.url}/api/v1/payments"
    body = {"reference": "LIVE-1", "amount": 8_400, "paid_on": "2026-11-03", "payer": m.number}
    assert _http(url, method="POST", body=body)[0] == 401
    status, data = _http(url, method="POST", body=body, headers={"Authorization": f"Bearer {key}"})
    assert status == 201 and data["allocated"] == 8_400
    status, data = _http(url, method="POST", body=body, headers={"Authorization": f"Bearer {key}"})
    assert status == 200 and data["already_recorded"] is True
    # a signed-in browser session without the CSRF token cannot record (a forged request)
    session = Client()
    session.force_login(user)
    cookie = f"sessionid={session.cookies['sessionid'].value}"
    other = {**body, "reference": "LIVE-2"}
    status, data = _http(url, method="POST", body=other, headers={"Cookie": cookie})
    assert status == 403
    assert not Payment.objects.filter(reference="LIVE-2").exists()
    assert Payment.objects.filter(reference="LIVE-1").count() == 1
    assert bill_of(m, "2026-11").paid_on == D(2026, 11, 3)


# -- in the browser --------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_uploads_a_statement_sees_the_preview_and_saves(
    page, live_server, malang, make_user, tmp_path
):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    make_user("bpjs_officer", username="rina")
    path = tmp_path / "mutasi.csv"
    path.write_text(
        f"referensi;pembayar;jumlah;tanggal\nB-1;{m.number};Rp 8.400;03/11/2026\nB-2;Entah;5000;03/11/2026\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server.url}/iuran/mutasi/")
    page.fill("#id_username", "rina")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/iuran/mutasi/")
    page.set_input_files("#id_file", str(path))
    page.click("[data-testid=statement-upload] button[type=submit]")
    page.locator("[data-testid=statement-counts]").wait_for()
    assert page.inner_text("[data-testid=count-matched]").startswith("1")
    assert page.inner_text("[data-testid=count-unmatched]").startswith("1")
    assert Payment.objects.count() == 0
    page.click("[data-testid=save-all]")
    page.locator("[data-testid=count-recorded]").wait_for()
    assert page.inner_text("[data-testid=count-recorded]") == "2"
    assert bill_of(m, "2026-11").paid_on == D(2026, 11, 3)
    page.click("text=Antrean belum cocok")
    page.locator("[data-testid=unmatched][data-reference=B-2]").wait_for()


def test_a_discarded_statement_saves_nothing_and_a_repeat_has_nothing_new(officer, farmer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cakupan.contributions.models import PaymentStatement

    text = f"reference,payer,amount,date\nD-1,{farmer.number},8400,01/11/2026\n".encode()

    def upload():
        f = SimpleUploadedFile("mutasi.csv", text, content_type="text/csv")
        return officer.post(reverse("contributions:statement_upload"), {"file": f})["Location"]

    first = upload()
    officer.post(first + "buang/")
    statement = PaymentStatement.objects.get()
    assert statement.status == "discarded" and not statement.file
    assert Payment.objects.count() == 0
    officer.post(upload() + "simpan/")
    assert Payment.objects.count() == 1
    page = officer.get(upload()).content.decode()
    assert 'data-testid="nothing-new"' in page and 'data-testid="count-already">1<' in page
    assert 'data-testid="save-all" disabled' in page
