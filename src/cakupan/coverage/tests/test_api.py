"""/api/v1/coverage on the small city of test_snapshots: the snapshots, a month's UCJ by region
with its sources, building and rebuilding a month, who may do what — and the contract over
HTTP on a running server."""

from __future__ import annotations

import pytest

from cakupan.contributions.tests.factories import M
from cakupan.coverage.models import SnapshotRebuild
from cakupan.coverage.snapshots import snapshot_build
from cakupan.coverage.tests.conftest import TODAY

BASE = "/api/v1/coverage"
pytestmark = pytest.mark.django_db


def test_a_month_by_region_with_the_source_of_every_figure(city, api_client) -> None:
    snapshot_build(M("2026-10"), today=TODAY)
    client = api_client("city_officer")
    listed = client.get(f"{BASE}/snapshots").json()
    assert [(s["month"], s["status"], s["active"], s["city_ucj"]) for s in listed] == [
        ("2026-10-01", "closed", 2, 20.0)
    ]
    month = client.get(f"{BASE}/snapshots/2026-10").json()
    areas = {a["region"]: a for a in month["areas"]}
    assert areas["35.73"]["name"] == "Kota Malang"
    assert (areas["35.73"]["participants"], areas["35.73"]["employed"]) == (8, 40)
    assert "BPS Sakernas Agustus 2024" in areas["35.73"]["employed_source"]
    assert "PU 10/2026" in areas["35.73"]["aggregates_source"]
    assert areas["35.73.05"]["ucj"] == 10.0 and areas["35.73.01"]["ucj"] is None
    assert client.get(f"{BASE}/snapshots/2026-09").status_code == 404
    bad = client.get(f"{BASE}/snapshots/2026-13")
    assert bad.status_code == 422 and "TTTT-BB" in bad.json()["detail"][0]["msg"]


def test_who_may_read_and_who_may_rebuild(city, api_client) -> None:
    snapshot_build(M("2026-10"), today=TODAY)
    assert api_client("hospital").get(f"{BASE}/snapshots").status_code == 403
    assert api_client("sponsor").get(f"{BASE}/snapshots").status_code == 403
    city_officer = api_client("city_officer")
    assert city_officer.post(f"{BASE}/snapshots/2026-10", {}, "application/json").status_code == 403

    bpjs = api_client("bpjs_officer")
    refused = bpjs.post(f"{BASE}/snapshots/2026-10", {}, "application/json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "rebuild"]
    no_reason = bpjs.post(f"{BASE}/snapshots/2026-10", {"rebuild": True}, "application/json")
    assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    rebuilt = bpjs.post(
        f"{BASE}/snapshots/2026-10", {"rebuild": True, "reason": "recount"}, "application/json"
    )
    assert rebuilt.status_code == 200 and rebuilt.json()["status"] == "closed"
    assert SnapshotRebuild.objects.get().by == bpjs.user


@pytest.mark.django_db(transaction=True)
def test_the_snapshots_over_http_on_a_running_server(city, live_server, make_user, http) -> None:
    from cakupan.accounts.services import token_create

    snapshot_build(M("2026-10"), today=TODAY)
    _t, key = token_create(user=make_user("bpjs_officer", username="petugas_http"))
    status, listed = http(f"{live_server.url}{BASE}/snapshots", "GET", key)
    assert status == 200 and listed[0]["city_ucj"] == 20.0
    status, refused = http(f"{live_server.url}{BASE}/snapshots/2026-10", "POST", key, {})
    assert status == 422 and refused["detail"][0]["type"] == "snapshot_closed"
    assert http(f"{live_server.url}{BASE}/snapshots", "GET", "ckp_wrong")[0] == 401
