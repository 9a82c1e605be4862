"""The workers API: create, validate, update, search, heirs, NIK checks, errors as JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.registry.models import NikAccessLog, Worker
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")

NEW = {
    "nik": "3573055506900007",
    "full_name": "Sri Wahyuni",
    "birth_date": "1990-06-15",
    "sex": "P",
    "kelurahan": "35.73.05.1011",
    "occupation": "pkl",
    "phone": "0812 3456 7890",
}


@pytest.fixture
def officer(api_client):
    return api_client("bpjs_officer")


def test_create_returns_201_with_the_saved_worker(officer) -> None:
    r = officer.post("/api/v1/workers", NEW, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    w = body["worker"]
    assert (w["nik"], w["kecamatan_name"], w["kelurahan_name"], w["phone"], w["nik_masked"]) == (
        NEW["nik"],
        "Lowokwaru",
        "Lowokwaru",
        "081234567890",
        False,
    )
    assert body["warnings"] == []
    assert Worker.objects.get().source == "api"


def test_invalid_worker_gets_422_naming_each_field(officer) -> None:
    bad = {**NEW, "sex": "L", "kelurahan": "35.73.05.9999", "occupation": "astronot"}
    r = officer.post("/api/v1/workers", bad, content_type="application/json")
    assert r.status_code == 422
    fields = {d["loc"][-1] for d in r.json()["detail"]}
    assert fields == {"sex", "kelurahan", "occupation"}
    assert not Worker.objects.exists()


def test_schema_errors_are_422_with_the_field(officer) -> None:
    r = officer.post(
        "/api/v1/workers",
        {**NEW, "birth_date": "15-06-1990", "welfare_decile": 12},
        content_type="application/json",
    )
    assert r.status_code == 422
    locs = {tuple(d["loc"][-1:]) for d in r.json()["detail"]}
    assert {("birth_date",), ("welfare_decile",)} <= locs


def test_duplicate_nik_links_to_the_existing_worker(officer) -> None:
    existing = make_worker(nik=NEW["nik"], sex="P", birth_date=dt.date(1990, 6, 15))
    r = officer.post("/api/v1/workers", NEW, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["existing"] == f"/api/v1/workers/{existing.pk}"


def test_nul_and_lone_surrogate_are_422_not_500(officer) -> None:
    for name in ["Sri\x00", "Sri\ud800"]:
        r = officer.post(
            "/api/v1/workers", {**NEW, "full_name": name}, content_type="application/json"
        )
        assert r.status_code == 422, name
    assert officer.get("/api/v1/workers", {"q": "a\x00b"}).status_code == 422


def test_patch_changes_only_what_is_sent(officer) -> None:
    w = make_worker()
    r = officer.patch(
        f"/api/v1/workers/{w.pk}", {"occupation": "kurir"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    w.refresh_from_db()
    assert w.occupation.code == "kurir" and w.full_name == "Budi Santoso"


def test_unknown_and_huge_ids_are_404_or_422(officer) -> None:
    assert officer.get("/api/v1/workers/999999").status_code == 404
    assert officer.get(f"/api/v1/workers/{10**30}").status_code == 422
    assert officer.get("/api/v1/regions/99.99").status_code == 404


def test_list_filters_paginates_and_logs_whole_niks(officer) -> None:
    for i in range(5):
        make_worker(full_name=f"Joko {i}")
    make_worker(full_name="Ani", kelurahan="35.73.01.1001", sex="P")
    r = officer.get("/api/v1/workers", {"q": "joko", "limit": 2, "offset": 2})
    body = r.json()
    assert (body["count"], len(body["items"])) == (5, 2)
    assert [i["full_name"] for i in body["items"]] == ["Joko 2", "Joko 3"]
    assert officer.get("/api/v1/workers", {"kecamatan": "35.73.01"}).json()["count"] == 1
    assert NikAccessLog.objects.filter(action="api").count() == 3


def test_heirs_are_added_and_listed(officer) -> None:
    w = make_worker()
    child = {"full_name": "Dimas", "birth_date": "2015-02-03", "relation": "child", "sex": "L"}
    r = officer.post(f"/api/v1/workers/{w.pk}/heirs", child, content_type="application/json")
    assert r.status_code == 201, r.content
    heirs = officer.get(f"/api/v1/workers/{w.pk}/heirs").json()
    assert [(h["full_name"], h["relation"]) for h in heirs] == [("Dimas", "child")]


def test_nik_check_endpoint_reports_problems(officer) -> None:
    r = officer.post(
        "/api/v1/nik/check", {"niks": ["3573051203900001", "123"]}, content_type="application/json"
    )
    ok, bad = r.json()
    assert ok["valid"] and ok["birth_date"] == "1990-03-12" and ok["sex"] == "L"
    assert not bad["valid"] and bad["problems"][0]["code"] == "not_16_digits"


def test_openapi_and_docs_are_served(client) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/workers" in spec["paths"] and "/api/v1/regions" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_reading_whole_heir_niks_is_logged(officer) -> None:
    w = make_worker()
    officer.post(
        f"/api/v1/workers/{w.pk}/heirs",
        {
            "full_name": "Dimas",
            "birth_date": "2016-05-02",
            "relation": "child",
            "sex": "L",
            "nik": "3573050205160003",
        },
        content_type="application/json",
    )
    NikAccessLog.objects.all().delete()
    heirs = officer.get(f"/api/v1/workers/{w.pk}/heirs").json()
    assert heirs[0]["nik"] == "3573050205160003"
    assert NikAccessLog.objects.filter(worker=w, action="api").count() == 1
