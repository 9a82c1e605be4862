"""Personal data reached through side doors: NIK recovery from a masked NIK, the admin lists,
the hospital check as an enumeration tool, phones, caching and file modes (issue 7)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.services import membership_enrol
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import make_nik, mask_nik
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")


@pytest.fixture
def funded(make_user, programme):
    """A worker funded by a sponsor's programme, and a client logged in as that sponsor."""
    born = dt.date(1990, 3, 12)
    worker = make_worker(
        full_name="Sri Wahyuni",
        sex="P",
        birth_date=born,
        phone="081234567890",
        nik=make_nik(kecamatan_code="35.73.05", birth_date=born, sex="P", serial=3),
    )
    membership_enrol(worker=worker, programme=programme)
    user = make_user("sponsor")
    user.sponsor = programme.sponsor
    user.save()
    client = Client()
    client.force_login(user)
    client.user = user
    return worker, client


def _candidates(worker) -> list[str]:
    """What an attacker builds from the masked NIK, the birth date and sex: every kecamatan of
    Kota Malang times the first serials."""
    return [
        make_nik(
            kecamatan_code=f"35.73.{k:02d}",
            birth_date=worker.birth_date,
            sex=worker.sex,
            serial=s,
        )
        for k in range(1, 6)
        for s in range(1, 40)
    ]


def test_masked_nik_keeps_nothing_the_birth_date_does_not_already_tell(funded) -> None:
    worker, client = funded
    page = client.get(f"/pekerja/{worker.pk}/").content.decode()
    assert mask_nik(worker.nik) in page and worker.nik not in page
    assert client.get("/api/v1/workers").json()["items"][0]["nik"] == worker.nik[:4] + "•" * 12


def test_sponsor_cannot_search_by_the_first_digits_of_a_nik(funded) -> None:
    worker, client = funded
    page = client.get("/pekerja/", {"q": worker.nik[:10]}).content.decode()
    assert "Sri Wahyuni" not in page and "16" in page  # told to search by the whole NIK
    api = client.get("/api/v1/workers", {"q": worker.nik[:10]})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["query", "q"]
    # the whole NIK finds the worker, and the hit is logged
    assert "Sri Wahyuni" in client.get("/pekerja/", {"q": worker.nik}).content.decode()
    assert list(NikAccessLog.objects.values_list("worker_id", "action")) == [(worker.pk, "search")]


def test_officer_may_still_search_by_nik_prefix_and_each_hit_is_logged(make_user) -> None:
    a, b = make_worker(), make_worker()
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    page = client.get("/pekerja/", {"q": a.nik[:6]}).content.decode()
    assert a.full_name in page
    assert set(NikAccessLog.objects.values_list("worker_id", flat=True)) == {a.pk, b.pk}
    # a name search reaches nobody's NIK and is not logged as one
    NikAccessLog.objects.all().delete()
    client.get("/pekerja/", {"q": "Budi"})
    assert not NikAccessLog.objects.exists()


def test_guessing_whole_niks_is_rate_limited_and_the_hit_is_logged(funded, settings) -> None:
    settings.CAKUPAN_RATE_NIK_SEARCH = "10/m"
    worker, client = funded
    guesses = _candidates(worker)
    assert worker.nik in guesses
    statuses = [client.get("/pekerja/", {"q": nik}).status_code for nik in guesses[:15]]
    assert statuses[:10] == [200] * 10 and set(statuses[10:]) == {429}
    refused = client.get("/pekerja/", {"q": guesses[0]})
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "detik" in refused.content.decode()
    # the API counts against the same limit, with a JSON answer saying when to retry
    api = client.get("/api/v1/workers", {"q": guesses[1]})
    assert (
        api.status_code == 429 and int(api["Retry-After"]) >= 1 and "detik" in api.json()["detail"]
    )
    # htmx searches get the message in the results box (htmx does not swap an error in)
    partial = client.get(
        "/pekerja/", {"q": guesses[2]}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    assert partial.status_code == 200 and 'data-testid="search-refused"' in partial.content.decode()


def test_a_recovery_attempt_through_the_api_is_logged(funded) -> None:
    worker, client = funded
    # within the default rate: the attacker finds the NIK, and the office can see who did
    guesses = _candidates(worker)[4 * 39 : 4 * 39 + 20]  # kecamatan 05, serials 1..20
    found = [n for n in guesses if client.get("/api/v1/workers", {"q": n}).json().get("count")]
    assert found == [worker.nik]
    log = list(NikAccessLog.objects.values_list("user_id", "worker_id", "action"))
    assert log == [(client.user.pk, worker.pk, "search")]


def test_admin_lists_mask_niks_and_the_record_page_logs_the_whole_one(make_user) -> None:
    w = make_worker(phone="081298765432")
    client = Client()
    admin = make_user("admin")
    client.force_login(admin)
    listing = client.get("/admin/registry/worker/").content.decode()
    assert w.full_name in listing and w.nik not in listing and mask_nik(w.nik) in listing
    assert "081298765432" not in listing
    assert not NikAccessLog.objects.exists()
    detail = client.get(f"/admin/registry/worker/{w.pk}/change/")
    assert detail.status_code == 200 and w.nik in detail.content.decode()
    assert list(NikAccessLog.objects.values_list("user_id", "worker_id", "action")) == [
        (admin.pk, w.pk, "view")
    ]


def test_hospital_check_is_logged_even_when_it_finds_nobody_and_is_rate_limited(
    make_user, settings
) -> None:
    settings.CAKUPAN_RATE_VERIFY = "5/m"
    w = make_worker()
    client = Client()
    clerk = make_user("hospital")
    client.force_login(clerk)
    generated = [
        make_nik(kecamatan_code="35.73.05", birth_date=dt.date(1990, 1, d), sex="L", serial=1)
        for d in range(1, 5)
    ]
    for nik in [w.nik, *generated]:
        assert client.post("/verifikasi/", {"nik": nik}).status_code == 200
    refused = client.post("/verifikasi/", {"nik": w.nik})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert w.full_name not in refused.content.decode()
    log = list(NikAccessLog.objects.filter(user=clerk).values_list("worker_id", "action"))
    assert sorted(log, key=lambda r: r[0] or 0) == [(None, "verify")] * 4 + [(w.pk, "verify")]


def test_phones_are_masked_for_sponsors_in_page_api_and_export(funded) -> None:
    worker, client = funded
    page = client.get(f"/pekerja/{worker.pk}/").content.decode()
    api = client.get(f"/api/v1/workers/{worker.pk}").json()
    export = b"".join(client.get("/pekerja/ekspor.csv").streaming_content).decode("utf-8-sig")
    for text in (page, str(api), export):
        assert "081234567890" not in text and "0812••••••90" in text
    assert api["phone"] == "0812••••••90"
    assert not NikAccessLog.objects.exists()


def test_officers_read_whole_phones_and_each_read_is_logged(make_user) -> None:
    w = make_worker(phone="081234567890")
    client = Client()
    client.force_login(make_user("city_officer"))
    assert "081234567890" in client.get(f"/pekerja/{w.pk}/").content.decode()
    assert client.get(f"/api/v1/workers/{w.pk}").json()["phone"] == "081234567890"
    fields = list(NikAccessLog.objects.values_list("action", "fields").order_by("id"))
    assert fields == [("view", "nik,phone"), ("api", "nik,phone")]


def test_answers_with_personal_data_are_not_stored_by_browsers(make_user) -> None:
    w = make_worker()
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    for response in (
        client.get(f"/pekerja/{w.pk}/"),
        client.get(f"/pekerja/{w.pk}/ubah/"),
        client.get(f"/api/v1/workers/{w.pk}"),
        client.get("/pekerja/ekspor.csv"),
    ):
        assert "no-store" in response["Cache-Control"], response


def test_uploaded_lists_are_readable_by_the_owner_only(make_user, tmp_path, settings) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cakupan.membership.models import ImportBatch
    from cakupan.membership.tests.test_imports import HEAD

    settings.MEDIA_ROOT = tmp_path / "media"
    sponsor = sponsor_create(type="csr", name="RS")
    year = dt.date.today().year
    programme = programme_create(
        sponsor=sponsor,
        name="P",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year, 12, 1),
        budget=10_000_000,
    )
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    f = SimpleUploadedFile("daftar.csv", HEAD.encode(), content_type="text/csv")
    client.post(f"/pendaftaran/program/{programme.pk}/unggah/", {"file": f})
    path = Path(ImportBatch.objects.get().file.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_new_sqlite_database_is_readable_by_the_owner_only(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CAKUPAN_VAR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="cakupan.settings")
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('create table t (x int)');"
        "c.execute('insert into t values (1)')"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    db = tmp_path / "var" / "cakupan.sqlite3"
    assert db.exists()
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
