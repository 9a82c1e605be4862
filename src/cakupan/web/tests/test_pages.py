"""Web pages: login and throttling, dashboard counts, search, forms with field messages, heirs."""

from __future__ import annotations

import pytest
from django.test import Client

from cakupan.registry.models import Heir, Worker
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")


@pytest.fixture
def officer_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("city_officer"))
    return client


def test_login_with_password_and_argon2_hash(make_user) -> None:
    user = make_user("bpjs_officer", username="rina")
    assert user.password.startswith("argon2")
    client = Client()
    r = client.post("/masuk/", {"username": "rina", "password": "Rahasia-kuat-2026"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert "Pekerja" in client.get("/").content.decode()


def test_repeated_failed_logins_lock_the_account(make_user) -> None:
    make_user("bpjs_officer", username="rina")
    client = Client()
    for _ in range(5):
        r = client.post("/masuk/", {"username": "rina", "password": "salah"})
    assert r.status_code in (200, 429)
    r = client.post("/masuk/", {"username": "rina", "password": "Rahasia-kuat-2026"})
    assert r.status_code == 429
    assert "15 menit" in r.content.decode()


def test_wrong_password_says_so_in_indonesian(make_user) -> None:
    make_user("bpjs_officer", username="rina")
    body = Client().post("/masuk/", {"username": "rina", "password": "salah"}).content.decode()
    assert "Nama pengguna atau kata sandi salah" in body


def test_dashboard_counts_are_real(officer_client) -> None:
    make_worker()
    make_worker(full_name="Ani", sex="P", kelurahan="35.73.01.1001", occupation="ketua_rt_rw")
    body = officer_client.get("/").content.decode()
    assert 'data-testid="count-workers">2<' in body
    assert "Blimbing" in body and "Lowokwaru" in body


def test_search_returns_a_partial_for_htmx(officer_client) -> None:
    make_worker(full_name="Moch. Rizki")
    make_worker(full_name="Dewi Lestari", sex="P")
    full = officer_client.get("/pekerja/", {"q": "rizki"}).content.decode()
    assert "Moch. Rizki" in full and "Dewi Lestari" not in full and "<html" in full
    part = officer_client.get(
        "/pekerja/", {"q": "dewi"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    ).content.decode()
    assert "Dewi Lestari" in part and "<html" not in part


def test_kelurahan_options_follow_the_kecamatan(officer_client) -> None:
    body = officer_client.get("/pekerja/kelurahan/", {"kecamatan": "35.73.02"}).content.decode()
    assert body.count("<option") == 12 and "Oro-oro Dowo" in body and "Arjosari" not in body


def test_worker_form_shows_field_messages_and_saves_nothing(officer_client) -> None:
    r = officer_client.post(
        "/pekerja/baru/",
        {
            "nik": "3573051506880001",
            "full_name": "Budi",
            "birth_date": "1988-06-16",
            "sex": "P",
            "kelurahan": "35.73.05.1011",
            "occupation": "ojol",
        },
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="err-sex"' in body and 'id="err-birth_date"' in body
    assert not Worker.objects.exists()


def test_worker_form_creates_and_redirects_to_detail(officer_client) -> None:
    r = officer_client.post(
        "/pekerja/baru/",
        {
            "nik": "3573051506880001",
            "full_name": "Budi",
            "birth_date": "1988-06-15",
            "sex": "L",
            "kelurahan": "35.73.05.1011",
            "occupation": "ojol",
            "welfare_decile": "3",
        },
    )
    worker = Worker.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/pekerja/{worker.pk}/"
    assert worker.welfare_decile == 3 and worker.created_by is not None


def test_duplicate_nik_in_the_form_links_to_the_existing_worker(officer_client) -> None:
    existing = make_worker()
    body = officer_client.post(
        "/pekerja/baru/",
        {
            "nik": existing.nik,
            "full_name": "Orang Lain",
            "birth_date": existing.birth_date.isoformat(),
            "sex": "L",
            "kelurahan": "35.73.05.1011",
            "occupation": "ojol",
        },
    ).content.decode()
    assert f'href="/pekerja/{existing.pk}/"' in body and "sudah terdaftar" in body


def test_edit_and_heir_flow(officer_client) -> None:
    w = make_worker()
    r = officer_client.post(
        f"/pekerja/{w.pk}/ubah/",
        {
            "nik": w.nik,
            "full_name": "Budi Santoso Edit",
            "birth_date": w.birth_date.isoformat(),
            "sex": "L",
            "kelurahan": "35.73.03.1008",
            "occupation": "kurir",
        },
    )
    assert r.status_code == 302
    w.refresh_from_db()
    assert (w.full_name, w.kelurahan_id) == ("Budi Santoso Edit", "35.73.03.1008")
    r = officer_client.post(
        f"/pekerja/{w.pk}/ahli-waris/",
        {
            "full_name": "Putri",
            "relation": "child",
            "birth_date": "2014-09-01",
            "sex": "P",
        },
    )
    assert r.status_code == 302 and Heir.objects.filter(worker=w).count() == 1
    r = officer_client.post(
        f"/pekerja/{w.pk}/ahli-waris/",
        {"full_name": "", "relation": "child", "birth_date": "2030-01-01"},
    )
    assert r.status_code == 422 and Heir.objects.count() == 1
    heir = Heir.objects.get()
    officer_client.post(f"/pekerja/{w.pk}/ahli-waris/{heir.pk}/hapus/")
    assert not Heir.objects.exists()


def test_nik_check_page_lists_problems(officer_client) -> None:
    body = officer_client.post("/nik/", {"niks": "3573051203900001\n357305"}).content.decode()
    assert "not_16_digits" in body and "12-03-1990" in body


def test_english_is_available(officer_client) -> None:
    officer_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = officer_client.get("/pekerja/").content.decode()
    assert "Register a worker" in body
    officer_client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert "Daftarkan pekerja" in officer_client.get("/pekerja/").content.decode()


def test_token_page_creates_a_key_shown_once(officer_client) -> None:
    import re

    body = officer_client.post("/token/", {"name": "laptop"}).content.decode()
    key = re.search(r'data-testid="new-key">(ckp_[\w-]+)<', body).group(1)
    again = officer_client.get("/token/").content.decode()
    assert key not in again and key[:8] in again
    r = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/regions")
    assert r.status_code == 200


def test_unknown_page_is_a_friendly_404(officer_client) -> None:
    r = officer_client.get(f"/pekerja/{10**17}/")
    assert r.status_code == 404 and "Tidak ditemukan" in r.content.decode()
    assert officer_client.get(f"/pekerja/{10**25}/").status_code == 404


def test_indonesian_even_for_an_english_browser(officer_client) -> None:
    body = officer_client.get("/pekerja/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Daftarkan pekerja" in body and 'lang="id"' in body


def test_a_locked_sqlite_database_is_a_503_not_an_error(officer_client, monkeypatch) -> None:
    from django.db import OperationalError

    from cakupan.registry import views

    def locked(**kwargs):
        raise OperationalError("database is locked")

    # The service is replaced to make the lock happen on demand; the database is real.
    monkeypatch.setattr(views, "worker_create", locked)
    r = officer_client.post(
        "/pekerja/baru/",
        {
            "nik": "3573051506880001",
            "full_name": "Budi",
            "birth_date": "1988-06-15",
            "sex": "L",
            "kelurahan": "35.73.05.1011",
            "occupation": "ojol",
        },
    )
    assert r.status_code == 503 and r["Retry-After"] == "30"


def test_revoking_a_token_with_a_bad_id_is_a_404(officer_client) -> None:
    assert officer_client.post("/token/", {"revoke": "abc"}).status_code == 404
    assert officer_client.post("/token/", {"revoke": "9" * 30}).status_code == 404


def test_export_logs_the_path_without_the_search(officer_client) -> None:
    from cakupan.registry.models import NikAccessLog

    w = make_worker()
    response = officer_client.get("/pekerja/ekspor.csv", {"q": w.nik})
    b"".join(response.streaming_content)
    # the export of a whole NIK and the NIK search that found the worker, both without the query
    logged = sorted(NikAccessLog.objects.values_list("action", "path"))
    assert logged == [("export", "/pekerja/ekspor.csv"), ("search", "/pekerja/ekspor.csv")]
