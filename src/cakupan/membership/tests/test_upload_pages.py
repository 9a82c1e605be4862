"""The import on the web for everyone who sends lists: a sponsor uploads to its own programmes
only, maps unrecognised values once for every row, saves the valid rows only or discards the
list; buttons that cannot be used say why; no problem code or command-line option is shown."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import ImportBatch, ImportValueMap
from cakupan.membership.tests.test_imports import HEAD, line
from cakupan.membership.tests.test_pages import run_worker, upload, worker_test
from cakupan.registry.models import Worker

pytestmark = pytest.mark.usefixtures("malang")
LIST = Path(__file__).parent / "data" / "daftar_rs_ojol.csv"
# what an office clerk must never read on a page: problem codes, command-line options
RAW = re.compile(
    r"not_16_digits|region_not_loaded|unknown_occupation|unknown_kelurahan|not_eligible|"
    r"scientific_notation|duplicate_in_file|--partial|--map|cakupan enrol"
)


def _programme(sponsor_name: str, **kw):
    year = dt.date.today().year
    return programme_create(
        sponsor=sponsor_create(type="csr", name=sponsor_name),
        name=f"Program {sponsor_name}",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year + 1, 12, 1),
        budget=kw.pop("budget", 100_000_000),
        **kw,
    )


@pytest.fixture
def hospital(make_user):
    """A sponsor user of RS Hermina, logged in, with its programme for ojol and kurir."""
    programme = _programme("RS Hermina", eligibility={"occupations": ["ojol", "kurir"]})
    user = make_user("sponsor", username="csr_hermina")
    user.sponsor = programme.sponsor
    user.save()
    client = Client()
    client.force_login(user)
    client.user = user
    client.programme = programme
    return client


def _visible(html: str) -> str:
    """The text a person reads: tags and attribute values removed."""
    return re.sub(r"<[^>]+>", " ", html)


@worker_test
def test_a_sponsor_uploads_to_its_own_programme_and_saves(hospital) -> None:
    page = hospital.get(f"/program/{hospital.programme.pk}/").content.decode()
    assert "Unggah dan periksa" in page
    r = upload(hospital, hospital.programme, HEAD + line(1) + line(2))
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and batch.uploaded_by == hospital.user
    run_worker()
    hospital.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and Worker.objects.count() == 2


@worker_test
def test_a_sponsor_is_refused_another_sponsors_programme_and_lists(hospital, make_user) -> None:
    other = _programme("Pemkot Malang")
    r = upload(hospital, other, HEAD + line(1))
    assert r.status_code == 404 and not ImportBatch.objects.exists()
    officer = Client()
    officer.force_login(make_user("bpjs_officer"))
    upload(officer, other, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    for path in ("", "kolom/", "laporan.csv"):
        assert hospital.get(f"/pendaftaran/impor/{batch.pk}/{path}").status_code == 404
    for path in ("simpan/", "buang/", "nilai/", "batal/", "ulang/"):
        assert hospital.post(f"/pendaftaran/impor/{batch.pk}/{path}").status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED


def test_a_sponsor_still_cannot_enrol_one_worker_or_decide_reviews(hospital) -> None:
    from cakupan.registry.tests.factories import make_worker

    w = make_worker()
    r = hospital.post(f"/pendaftaran/pekerja/{w.pk}/daftar/", {"programme": hospital.programme.pk})
    assert r.status_code == 403
    assert hospital.get("/pendaftaran/tinjauan/").status_code == 403


@worker_test
def test_the_messy_list_maps_its_values_and_saves_the_valid_rows_only(hospital) -> None:
    f = SimpleUploadedFile("daftar_rs.csv", LIST.read_bytes(), content_type="text/csv")
    hospital.post(f"/pendaftaran/program/{hospital.programme.pk}/unggah/", {"file": f})
    run_worker()
    batch = ImportBatch.objects.get()
    page = hospital.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert not RAW.search(_visible(page)), RAW.search(_visible(page))
    # the save of the whole list is disabled, and says why beside it
    assert re.search(r'data-testid="save-all"[^>]* disabled', page)
    assert 'data-testid="save-all-why"' in page and "26 baris tidak dapat disimpan" in page
    assert "Simpan baris yang sah saja (77 baris)" in page
    # one group per unrecognised value, the suggestion pre-selected
    groups = re.findall(r'name="(v\d+)-value" value="([^"]+)"', page)
    assert {v for _n, v in groups} == {
        "Driver Grap",
        "Mitra Gojke",
        "Kurir Shoppe",
        "-",
        "Perum Griya Santa",
    }
    names = dict((v, n) for n, v in groups)
    select = page[page.index(f'name="{names["Mitra Gojke"]}-to"') :]
    assert re.match(r'[^<]*>(<option[^>]*>[^<]*</option>)*?<option value="ojol" selected>', select)
    post = {"groups": str(len(groups))}
    for n, value in groups:
        post |= {f"{n}-column": "x", f"{n}-value": value, f"{n}-to": ""}
    for value, meaning in (
        ("Driver Grap", "ojol"),
        ("Mitra Gojke", "ojol"),
        ("Kurir Shoppe", "kurir"),
    ):
        n = names[value]
        post |= {f"{n}-column": "pekerjaan", f"{n}-to": meaning}
    hospital.post(f"/pendaftaran/impor/{batch.pk}/nilai/", post)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATING  # checked again in the background
    run_worker()
    batch.refresh_from_db()
    assert (batch.counts["new"], batch.counts["rejected"], batch.counts["not_eligible"]) == (
        83,
        17,
        3,
    )
    maps = ImportValueMap.objects.filter(batch=batch)
    assert maps.count() == 3 and {m.created_by for m in maps} == {hospital.user}
    page = hospital.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert "Simpan baris yang sah saja (83 baris)" in page
    hospital.post(f"/pendaftaran/impor/{batch.pk}/simpan/", {"partial": "1"})
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and batch.partial
    assert Worker.objects.count() == 83


@worker_test
def test_the_sponsors_next_list_is_offered_its_earlier_mapping(hospital) -> None:
    upload(hospital, hospital.programme, HEAD + line(1, occupation="Ojek Gocek"))
    run_worker()
    first = ImportBatch.objects.get()
    hospital.post(
        f"/pendaftaran/impor/{first.pk}/nilai/",
        {"groups": "1", "v0-column": "pekerjaan", "v0-value": "Ojek Gocek", "v0-to": "kurir"},
    )
    upload(hospital, hospital.programme, HEAD + line(2, occupation="ojek  gocek"))
    run_worker()
    second = ImportBatch.objects.exclude(pk=first.pk).get()
    page = hospital.get(f"/pendaftaran/impor/{second.pk}/").content.decode()
    select = page[page.index('name="v0-to"') :]
    assert re.match(r'[^<]*>(<option[^>]*>[^<]*</option>)*?<option value="kurir" selected>', select)
    assert "seperti di daftar Anda sebelumnya" in page


@worker_test
def test_a_save_that_cannot_be_made_is_refused_even_when_posted(hospital) -> None:
    upload(hospital, hospital.programme, HEAD + line(1) + line(2, occupation="astronot"))
    run_worker()
    batch = ImportBatch.objects.get()
    r = hospital.post(f"/pendaftaran/impor/{batch.pk}/simpan/", follow=True)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and not Worker.objects.exists()
    assert "1 baris tidak dapat disimpan" in r.content.decode()


@worker_test
def test_a_budget_that_does_not_fit_disables_both_saves_with_the_amounts(make_user) -> None:
    p = _programme("RS Kecil", budget=10_000)
    client = Client()
    client.force_login(make_user("city_officer"))
    upload(client, p, HEAD + line(1) + line(2) + line(3, occupation="astronot"))
    run_worker()
    batch = ImportBatch.objects.get()
    page = client.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert re.search(r'data-testid="save-all"[^>]* disabled', page)
    assert re.search(r'data-testid="save-valid"[^>]* disabled', page)
    assert "hanya cukup untuk 0 peserta lagi" in page


@worker_test
def test_a_previewed_list_can_be_discarded_and_never_run_again(hospital) -> None:
    upload(hospital, hospital.programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    stored = Path(batch.file.path)
    hospital.post(f"/pendaftaran/impor/{batch.pk}/buang/")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DISCARDED and not batch.file and not stored.exists()
    assert not batch.problems.exists()
    for path in ("simpan/", "ulang/"):
        hospital.post(f"/pendaftaran/impor/{batch.pk}/{path}")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DISCARDED and not Worker.objects.exists()
    page = hospital.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert "Dibuang" in page and 'data-testid="save-all"' not in page


@worker_test
def test_the_column_step_shows_what_was_recognised_and_warns_of_ignored_income(hospital) -> None:
    head = "Nomor Induk,Nama Lengkap,Tgl Lahir,L/P,Kelurahan,Pekerjaan,WA aktif,Gaji/bln\n"
    r = upload(hospital, hospital.programme, head + line(1))
    batch = ImportBatch.objects.get()
    page = hospital.get(r["Location"]).content.decode()
    recognised = page[page.index('data-testid="recognised"') :]
    assert re.search(r"Nama Lengkap</td><td>Nama<", recognised)
    assert re.search(r"Tgl Lahir</td><td>Tanggal lahir<", recognised)
    assert "Penghasilan per bulan" in page  # the choices are human labels
    assert "Tidak ada kolom penghasilan" in page and "Tidak ada kolom nomor HP" in page
    assert not RAW.search(_visible(page))
    hospital.post(
        r["Location"],
        {
            "h0": "nik",
            "h1": "nama",
            "h2": "tanggal_lahir",
            "h3": "jenis_kelamin",
            "h4": "kelurahan",
            "h5": "pekerjaan",
            "h6": "no_hp",
            "h7": "",
        },
    )
    run_worker()
    batch.refresh_from_db()
    assert batch.column_map["WA aktif"] == "no_hp" and batch.counts["new"] == 1
    page = hospital.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    assert "Tidak ada kolom penghasilan" in page and "Tidak ada kolom nomor HP" not in page


def test_one_column_cannot_be_chosen_for_two_headers(hospital) -> None:
    head = "Nomor Induk,NIK2,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan\n"
    r = upload(hospital, hospital.programme, head + "1,2,a,b,c,d,e\n")
    page = hospital.post(r["Location"], {"h0": "nik", "h1": "nik"}).content.decode()
    assert "sudah dipilih untuk kolom" in page
    assert ImportBatch.objects.get().status == ImportBatch.Status.UPLOADED
