"""The role matrix: every role is refused what it must not reach, in pages, API and exports."""

from __future__ import annotations

import pytest
from django.test import Client

from cakupan.registry.models import NikAccessLog
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")

ROLES = ["admin", "bpjs_officer", "city_officer", "sponsor", "hospital"]
OK, FORBIDDEN, NOT_FOUND, REDIRECT = 200, 403, 404, 302

# page → expected status per role, in the order of ROLES
PAGES = {
    "/": [OK, OK, OK, OK, REDIRECT],
    "/pekerja/": [OK, OK, OK, OK, FORBIDDEN],
    "/pekerja/baru/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/pekerja/{id}/": [OK, OK, OK, NOT_FOUND, FORBIDDEN],
    "/pekerja/{id}/ubah/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/pekerja/ekspor.csv": [OK, OK, OK, OK, FORBIDDEN],
    "/nik/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/verifikasi/": [OK, OK, FORBIDDEN, FORBIDDEN, OK],
    "/admin/": [OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT],
    "/program/": [OK, OK, OK, OK, FORBIDDEN],
    "/program/baru/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/program/pemberi-dana/baru/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/cakupan/masukan/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/cakupan/masukan/penyebut/unggah/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/cakupan/rencana/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/cakupan/rencana/skenario/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/pendaftaran/tinjauan/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/baru/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/laporan-kecelakaan/": [OK, OK, FORBIDDEN, FORBIDDEN, OK],
    "/klaim/pembayaran/": [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "/klaim/pembayaran/retur/": [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "/klaim/beasiswa/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/beasiswa/ekspor.csv": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/beasiswa/pengingat/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/beasiswa/pengingat/ekspor.csv": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    # {id} is a worker's, not a claim's: the roles that may read claims find none (404)
    "/klaim/{id}/": [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN],
    "/klaim/{id}/keluarga/": [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN],
}

API = {
    ("get", "/api/v1/workers"): [OK, OK, OK, OK, FORBIDDEN],
    ("get", "/api/v1/workers/{id}"): [OK, OK, OK, NOT_FOUND, FORBIDDEN],
    ("get", "/api/v1/workers/{id}/heirs"): [OK, OK, OK, NOT_FOUND, FORBIDDEN],
    ("post", "/api/v1/workers"): [422, 422, 422, FORBIDDEN, FORBIDDEN],
    ("patch", "/api/v1/workers/{id}"): [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    ("post", "/api/v1/nik/check"): [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    ("get", "/api/v1/regions"): [OK, OK, OK, OK, FORBIDDEN],
    ("get", "/api/v1/occupations"): [OK, OK, OK, OK, FORBIDDEN],
}


def _login(make_user, role: str) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_pages_per_role(make_user, role: str, page: str) -> None:
    worker = make_worker()
    response = _login(make_user, role).get(page.format(id=worker.pk))
    assert response.status_code == PAGES[page][ROLES.index(role)]


@pytest.mark.parametrize("page", [p for p in PAGES if p != "/admin/"])
def test_anonymous_is_sent_to_login(page: str) -> None:
    response = Client().get(page.format(id=1))
    assert response.status_code == REDIRECT and response["Location"].startswith("/masuk/")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), list(API))
def test_api_per_role(api_client, role: str, method: str, path: str) -> None:
    worker = make_worker()
    client = api_client(role)
    body = {"niks": [worker.nik]} if path.endswith("check") else {"full_name": "Budi Santoso"}
    if method == "post" and path == "/api/v1/workers":
        body = {"nik": "1"}  # allowed roles reach validation (422); others are refused first
    response = getattr(client, method)(
        path.format(id=worker.pk), body, content_type="application/json"
    )
    assert response.status_code == API[(method, path)][ROLES.index(role)], response.content


def test_api_without_token_is_401() -> None:
    response = Client().get("/api/v1/workers")
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


def test_api_with_revoked_or_wrong_token_is_401(api_client) -> None:
    from cakupan.accounts.models import ApiToken

    client = api_client("bpjs_officer")
    assert client.get("/api/v1/workers").status_code == 200
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/workers").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer ckp_nope").get("/api/v1/workers").status_code == 401


def test_export_has_whole_niks_for_officers_and_logs_each(make_user) -> None:
    workers = [make_worker(full_name=f"Pekerja {i}") for i in range(3)]
    response = _login(make_user, "bpjs_officer").get("/pekerja/ekspor.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert all(w.nik in body for w in workers)
    assert NikAccessLog.objects.filter(action="export").count() == 3


def test_sponsor_export_contains_no_worker_outside_its_scope(make_user) -> None:
    w = make_worker()
    response = _login(make_user, "sponsor").get("/pekerja/ekspor.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert w.full_name not in body and w.nik[:4] not in body.splitlines()[-1]
    assert len(body.strip().splitlines()) == 1  # header only


def test_hospital_sees_registration_with_a_masked_nik(make_user) -> None:
    w = make_worker()
    body = _login(make_user, "hospital").post("/verifikasi/", {"nik": w.nik}).content.decode()
    # the whole NIK stands only in the search box the clerk typed it into
    assert w.full_name in body and body.count(w.nik) == 1 and w.nik[:4] + "••" in body
    # the check itself is logged, with no whole NIK shown
    assert list(NikAccessLog.objects.values_list("worker_id", "action", "fields")) == [
        (w.pk, "verify", "")
    ]


def test_detail_page_logs_the_whole_nik_view(make_user) -> None:
    w = make_worker()
    officer = make_user("city_officer")
    client = Client()
    client.force_login(officer)
    assert w.nik in client.get(f"/pekerja/{w.pk}/").content.decode()
    entry = NikAccessLog.objects.get()
    assert (entry.user, entry.worker, entry.action, entry.path) == (
        officer,
        w,
        "view",
        f"/pekerja/{w.pk}/",
    )
