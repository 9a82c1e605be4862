"""Enrolment pages: upload, background check on the real task queue, save, cancel, mapping,
report, review queue, single enrolment, and a sponsor seeing only its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import FundingAssignment, ImportBatch, Membership, ReviewCase
from cakupan.membership.services import membership_enrol
from cakupan.membership.tests.test_imports import HEAD, line
from cakupan.registry.models import Worker
from cakupan.registry.nik import make_nik
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")


def run_worker() -> None:
    """The real task worker, once over the queue. Tests that use it run outside a wrapping
    transaction (transaction=True): the worker recycles database connections between tasks."""
    call_command("db_worker", batch=True, verbosity=0)


worker_test = pytest.mark.django_db(transaction=True)


def upload(client: Client, programme, body: str, name: str = "daftar.csv", partial: bool = False):
    f = SimpleUploadedFile(name, body.encode("utf-8"), content_type="text/csv")
    return client.post(
        f"/pendaftaran/program/{programme.pk}/unggah/", {"file": f, "partial": partial}
    )


@worker_test
def test_upload_check_in_background_then_save(officer, programme) -> None:
    r = upload(officer, programme, HEAD + line(1) + line(2))
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/pendaftaran/impor/{batch.pk}/"
    assert batch.status == ImportBatch.Status.VALIDATING  # queued, not run in the request
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.counts["new"] == 2
    assert not Worker.objects.exists()
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert (
        Membership.objects.count() == 2
        and FundingAssignment.objects.filter(batch=batch).count() == 2
    )
    status = officer.get(f"/pendaftaran/impor/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in status and 'data-testid="count-new">2<' in status


@worker_test
def test_rejected_rows_are_listed_with_a_downloadable_report(officer, programme) -> None:
    upload(officer, programme, HEAD + line(1) + line(2).replace("Lowokwaru", "lowokwarru"))
    run_worker()
    batch = ImportBatch.objects.get()
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert "Lowokwaru (35.73.05.1011)" in page and "disabled" in page
    report = officer.get(f"/pendaftaran/impor/{batch.pk}/laporan.csv").content.decode("utf-8-sig")
    header, row = report.strip().splitlines()
    assert header == "baris,kolom,status,kode,masalah,saran"
    assert (
        row.startswith("3,Kelurahan,Ditolak,unknown_kelurahan,")
        and "Lowokwaru (35.73.05.1011)" in row
    )


@worker_test
def test_cancel_leaves_nothing(officer, programme) -> None:
    upload(officer, programme, HEAD + line(1))
    batch = ImportBatch.objects.get()
    officer.post(f"/pendaftaran/impor/{batch.pk}/batal/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CANCELLED and not Worker.objects.exists()


@worker_test
def test_unknown_headers_go_through_the_mapping_step(officer, programme) -> None:
    body = HEAD.replace("nik,", "Nomor Induk,", 1) + line(1)
    r = upload(officer, programme, body)
    batch = ImportBatch.objects.get()
    assert r["Location"] == f"/pendaftaran/impor/{batch.pk}/kolom/"
    page = officer.get(r["Location"]).content.decode()
    assert "Nomor Induk" in page
    officer.post(
        r["Location"],
        {
            "h0": "nik",
            "h1": "nama",
            "h2": "tanggal_lahir",
            "h3": "jenis_kelamin",
            "h4": "kelurahan",
            "h5": "pekerjaan",
        },
    )
    run_worker()
    batch.refresh_from_db()
    assert batch.column_map["Nomor Induk"] == "nik" and batch.counts["new"] == 1


def test_a_pdf_is_refused_with_a_message(officer, programme) -> None:
    f = SimpleUploadedFile("daftar.pdf", b"%PDF-1.4", content_type="application/pdf")
    r = officer.post(f"/pendaftaran/program/{programme.pk}/unggah/", {"file": f}, follow=True)
    assert ".xlsx" in r.content.decode() and not ImportBatch.objects.exists()


def test_single_enrolment_from_the_worker_page(officer, programme) -> None:
    w = make_worker()
    officer.post(f"/pendaftaran/pekerja/{w.pk}/daftar/", {"programme": programme.pk})
    page = officer.get(f"/pekerja/{w.pk}/").content.decode()
    assert f"BPU-{w.pk:09d}" in page and "Ojol sehat" in page


@worker_test
def test_review_queue_same_person_and_different_people(officer, programme, make_user) -> None:
    upload(officer, programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    known = make_worker(full_name="Pekerja 1")
    incoming = {
        "nik": "3573050101810999",
        "name": "Pekerja 1",
        "birth_date": "1981-01-01",
        "sex": "L",
        "kelurahan": "35.73.05.1011",
        "occupation": "ojol",
    }
    same = ReviewCase.objects.create(
        batch=batch,
        row=2,
        incoming=incoming,
        candidate=known,
        reason="probable",
        evidence="NIK beda 1 angka",
    )
    other = ReviewCase.objects.create(
        batch=batch,
        row=3,
        incoming=incoming,
        candidate=known,
        reason="probable",
        evidence="NIK beda 1 angka",
    )
    page = officer.get("/pendaftaran/tinjauan/").content.decode()
    assert "NIK beda 1 angka" in page and known.nik in page
    officer.post(f"/pendaftaran/tinjauan/{same.pk}/", {"decision": "same"})
    same.refresh_from_db()
    assert same.status == ReviewCase.Status.MERGED and same.decided_by is not None
    assert Membership.objects.filter(worker=known).exists()
    officer.post(f"/pendaftaran/tinjauan/{other.pk}/", {"decision": "different"})
    other.refresh_from_db()
    assert other.status == ReviewCase.Status.KEPT_APART
    assert Worker.objects.filter(nik="3573050101810999").exists()
    # a same-NIK conflict can only be closed by rejecting the row; no decision is no decision
    conflict = ReviewCase.objects.create(
        batch=batch,
        row=4,
        incoming={**incoming, "name": "Bambang"},
        candidate=known,
        reason="nik_conflict",
        evidence="NIK sama, nama beda",
    )
    officer.post(f"/pendaftaran/tinjauan/{conflict.pk}/", {})
    officer.post(f"/pendaftaran/tinjauan/{conflict.pk}/", {"decision": "different"})
    conflict.refresh_from_db()
    assert conflict.status == ReviewCase.Status.OPEN
    officer.post(f"/pendaftaran/tinjauan/{conflict.pk}/", {"decision": "reject"})
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resulting_worker) == (ReviewCase.Status.REJECTED, None)


def test_sponsor_sees_its_own_programme_and_workers_masked(programme, make_user) -> None:
    funded, other = make_worker(full_name="Didanai"), make_worker(full_name="Zulkarnaen Luar")
    membership_enrol(worker=funded, programme=programme)
    user = make_user("sponsor")
    user.sponsor = programme.sponsor
    user.save()
    client = Client()
    client.force_login(user)
    listing = client.get("/pekerja/").content.decode()
    assert "Didanai" in listing and "Zulkarnaen" not in listing
    detail = client.get(f"/pekerja/{funded.pk}/").content.decode()
    assert funded.nik not in detail and funded.nik[:4] + "••" in detail
    assert client.get(f"/pekerja/{other.pk}/").status_code == 404
    assert client.get(f"/program/{programme.pk}/").status_code == 200
    elsewhere = programme_create(
        sponsor=sponsor_create(type="apbd", name="Pemkot"),
        name="APBD",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=1,
    )
    assert client.get(f"/program/{elsewhere.pk}/").status_code == 404
    assert client.get("/program/baru/").status_code == 403


def test_dashboard_counts_members_with_a_payer_this_month(officer, programme) -> None:
    membership_enrol(worker=make_worker(), programme=programme)
    make_worker(full_name="Belum Terdaftar")
    body = officer.get("/").content.decode()
    assert 'data-testid="count-funded">1<' in body and 'data-testid="count-workers">2<' in body


def test_switch_to_self_payment_after_the_programme(officer, programme) -> None:
    w = make_worker()
    m = membership_enrol(worker=w, programme=programme)
    after = programme.last_month.replace(year=programme.last_month.year + 1, month=1)
    officer.post(f"/pendaftaran/kepesertaan/{m.pk}/mandiri/", {"from_month": "2000-01"})
    assert not FundingAssignment.objects.filter(
        programme=None
    ).exists()  # clashes with the programme
    officer.post(f"/pendaftaran/kepesertaan/{m.pk}/mandiri/", {"from_month": f"{after:%Y-%m}"})
    assert FundingAssignment.objects.get(programme=None).first_month == after
    page = officer.get(f"/pekerja/{w.pk}/").content.decode()
    assert "mandiri" in page


def test_programme_page_states_eligibility_in_words(officer) -> None:
    p = programme_create(
        sponsor=sponsor_create(type="dbhcht", name="DBHCHT"),
        name="Rentan",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=1,
        eligibility={"occupations": ["ojol"], "kecamatan": ["35.73.05"], "max_age": 60},
    )
    body = officer.get(f"/program/{p.pk}/").content.decode()
    assert "Pekerjaan: Pengemudi ojek online" in body and "Kecamatan: Lowokwaru" in body
    assert "Usia maksimal 60 tahun" in body


@worker_test
def test_save_twice_and_remap_a_saved_list_change_nothing(officer, programme) -> None:
    upload(officer, programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")  # the double click
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and batch.counts["new"] == 1
    r = officer.post(f"/pendaftaran/impor/{batch.pk}/kolom/", {"h0": ""})
    batch.refresh_from_db()
    assert (
        r.status_code == 302
        and batch.status == ImportBatch.Status.COMMITTED
        and batch.counts["new"] == 1
    )


@worker_test
def test_a_cancel_request_left_over_does_not_stop_the_next_run(officer, programme) -> None:
    from cakupan.membership.tasks import cancel_flag

    upload(officer, programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    flag = cancel_flag(batch.pk)
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()  # clicked too late for the check
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED


@worker_test
def test_an_unexpected_error_marks_the_batch_failed(officer, programme) -> None:
    upload(officer, programme, HEAD + line(1))
    batch = ImportBatch.objects.get()
    batch.file.storage.delete(batch.file.name)  # the upload vanished from the disk
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "kesalahan sistem" in batch.message


def test_the_hospital_clerk_sees_membership_and_this_months_payer(programme, make_user) -> None:
    """The answer comes from the contributions ledger: enrolled is not yet protected; the
    month billed and paid is."""
    from django.utils import timezone

    from cakupan.contributions.billing import billing_run
    from cakupan.contributions.services import account_of_sponsor, payment_record

    funded, unfunded = make_worker(full_name="Didanai"), make_worker(full_name="Tanpa Kepesertaan")
    membership = membership_enrol(worker=funded, programme=programme)
    clerk = Client()
    clerk.force_login(make_user("hospital"))
    body = clerk.post("/verifikasi/", {"nik": funded.nik}).content.decode()
    assert "Terlindungi hari ini: <strong>TIDAK</strong>" in body  # nothing paid yet
    assert membership.number in body and "RS Hermina" in body
    today = timezone.localdate()
    billing_run(month=today.strftime("%Y-%m"))
    payment_record(
        reference="RS-1",
        amount=1_000_000,
        paid_on=today,
        source="form",
        user=None,
        account=account_of_sponsor(programme.sponsor),
    )
    body = clerk.post("/verifikasi/", {"nik": funded.nik}).content.decode()
    # the answer comes first, in words a clerk reads at a glance
    assert body.index("Terlindungi hari ini: <strong>YA</strong>") < body.index("BPU-")
    assert "RS Hermina (CSR)" in body
    assert body.count(funded.nik) == 1  # only in the box the clerk typed it into
    body = clerk.post("/verifikasi/", {"nik": unfunded.nik}).content.decode()
    assert "Terlindungi hari ini: <strong>TIDAK</strong>" in body
    assert 'data-testid="membership-number"' not in body
    stranger = make_nik(
        kecamatan_code="35.73.05", birth_date=dt.date(1990, 1, 2), sex="L", serial=9
    )
    body = clerk.post("/verifikasi/", {"nik": stranger}).content.decode()
    assert "Terlindungi hari ini: <strong>TIDAK</strong>" in body and "tidak ada" in body


def test_an_empty_hospital_check_says_what_to_enter(make_user) -> None:
    clerk = Client()
    clerk.force_login(make_user("hospital"))
    body = clerk.post("/verifikasi/", {"nik": "  "}).content.decode()
    assert "16 angka" in body and 'role="alert"' in body and 'data-testid="verdict"' not in body


def test_a_sponsor_sees_other_payers_only_as_another_sponsor(
    programme, make_user, api_client
) -> None:
    w = make_worker()
    this_year = programme.first_month.year
    city = programme_create(
        sponsor=sponsor_create(type="apbd", name="Pemkot Rahasia"),
        name="APBD",
        fiscal_year=this_year + 2,
        first_month=dt.date(this_year + 2, 1, 1),
        last_month=dt.date(this_year + 2, 12, 1),
        budget=10**9,
    )
    membership_enrol(worker=w, programme=programme)
    membership_enrol(worker=w, programme=city, start=dt.date(this_year + 2, 1, 1))
    user = make_user("sponsor")
    user.sponsor = programme.sponsor
    user.save()
    client = Client()
    client.force_login(user)
    page = client.get(f"/pekerja/{w.pk}/").content.decode()
    assert "Pemkot Rahasia" not in page and "pemberi dana lain" in page and "Ojol sehat" in page
    from cakupan.accounts.services import token_create

    _t, key = token_create(user=user)
    body = (
        Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/api/v1/workers/{w.pk}/memberships").json()
    )
    payers = [f["payer"] for f in body[0]["fundings"]]
    assert payers == ["RS Hermina (Ojol sehat)", "pemberi dana lain"]
