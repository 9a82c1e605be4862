"""API for sponsors, programmes and enrolment."""

from __future__ import annotations

import pytest

from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")
JSON = "application/json"


@pytest.fixture
def officer(api_client):
    return api_client("city_officer")


def make_programme(client, sponsor_type: str = "csr", name: str = "Ojol") -> dict:
    sponsor = client.post(
        "/api/v1/sponsors", {"type": sponsor_type, "name": f"{name} sponsor"}, content_type=JSON
    )
    assert sponsor.status_code == 201, sponsor.content
    r = client.post(
        "/api/v1/programmes",
        {
            "sponsor_id": sponsor.json()["id"],
            "name": name,
            "fiscal_year": 2026,
            "first_month": "2026-01-01",
            "last_month": "2026-12-01",
            "budget": 10_000_000,
            "eligibility": {"sectors": ["transport"]},
        },
        content_type=JSON,
    )
    assert r.status_code == 201, r.content
    return r.json()


def test_enrol_through_the_api_and_read_memberships(officer) -> None:
    programme = make_programme(officer)
    assert programme["eligibility"] == {"sectors": ["transport"]} and programme["members"] == 0
    w = make_worker(occupation="ojol")
    r = officer.post(
        "/api/v1/enrolments",
        {"worker_id": w.pk, "programme_id": programme["id"], "start_month": "2026-11-01"},
        content_type=JSON,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (
        body["number"] == f"BPU-{w.pk:09d}" and body["fundings"][0]["first_month"] == "2026-11-01"
    )
    assert officer.get(f"/api/v1/programmes/{programme['id']}").json()["committed"] == 2 * 8_400
    assert [m["number"] for m in officer.get(f"/api/v1/workers/{w.pk}/memberships").json()] == [
        body["number"]
    ]


def test_double_funding_and_ineligible_are_422_naming_why(officer) -> None:
    first, second = make_programme(officer, "csr", "RS"), make_programme(officer, "apbd", "Pemkot")
    w = make_worker(occupation="ojol")
    officer.post(
        "/api/v1/enrolments",
        {"worker_id": w.pk, "programme_id": first["id"], "start_month": "2026-11-01"},
        content_type=JSON,
    )
    r = officer.post(
        "/api/v1/enrolments",
        {"worker_id": w.pk, "programme_id": second["id"], "start_month": "2026-11-01"},
        content_type=JSON,
    )
    assert r.status_code == 422 and "RS sponsor (RS)" in r.json()["detail"][0]["msg"]
    farmer = make_worker(occupation="petani", full_name="Pak Tani")
    r = officer.post(
        "/api/v1/enrolments",
        {"worker_id": farmer.pk, "programme_id": first["id"]},
        content_type=JSON,
    )
    assert r.status_code == 422 and "sektor di luar sasaran" in r.json()["detail"][0]["msg"]


def test_unknown_ids_and_bad_programmes_are_422(officer) -> None:
    r = officer.post(
        "/api/v1/enrolments", {"worker_id": 999999, "programme_id": 999999}, content_type=JSON
    )
    assert {d["loc"][-1] for d in r.json()["detail"]} == {"worker_id", "programme_id"}
    r = officer.post(
        "/api/v1/programmes",
        {
            "sponsor_id": 999999,
            "name": "x",
            "fiscal_year": 2026,
            "first_month": "2026-01-01",
            "last_month": "2026-12-01",
            "budget": 1,
        },
        content_type=JSON,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "sponsor_id"


def test_roles(api_client) -> None:
    officer = api_client("bpjs_officer")
    programme = make_programme(officer)
    sponsor = api_client("sponsor")
    assert sponsor.get("/api/v1/programmes").json() == []  # a sponsor user linked to no sponsor
    assert sponsor.get(f"/api/v1/programmes/{programme['id']}").status_code == 404
    assert (
        sponsor.post(
            "/api/v1/enrolments", {"worker_id": 1, "programme_id": 1}, content_type=JSON
        ).status_code
        == 403
    )
    assert api_client("hospital").get("/api/v1/programmes").status_code == 403
