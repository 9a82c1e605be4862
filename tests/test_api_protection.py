"""The API's protections: 401 JSON for every bad token (on a real server, where CSRF is live),
CSRF kept for browser sessions, error answers in the OpenAPI, docs without a CDN, and bodies
that are not JSON objects refused with 422 before anything is written."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from django.test import Client

from cakupan.registry.models import Worker
from cakupan.registry.tests.factories import make_worker

ERROR_STATUSES = ("401", "403", "404", "422")


def _call(
    url: str, method: str = "GET", body: object = None, headers: dict | None = None
) -> tuple[int, dict, bytes]:
    """One request through the network to the live server (no Django test client shortcuts)."""
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json", **(headers or {})} if data else dict(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def bad_tokens(malang, make_user) -> dict[str, str | None]:
    """An Authorization header per way a token can be bad (None: no header at all)."""
    from cakupan.accounts.services import token_create, token_revoke

    revoked, revoked_key = token_create(user=make_user("bpjs_officer", username="revoked"))
    token_revoke(token=revoked)
    gone = make_user("bpjs_officer", username="gone")
    _t, gone_key = token_create(user=gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return {
        "missing": None,
        "wrong": "Bearer ckp_this-token-was-never-issued",
        "revoked": f"Bearer {revoked_key}",
        "deactivated": f"Bearer {gone_key}",
        "not bearer": "Token abc",
        "empty bearer": "Bearer ",
    }


@pytest.mark.django_db(transaction=True)
def test_bad_tokens_get_401_json_on_a_live_server(live_server, bad_tokens) -> None:
    worker = make_worker()
    calls = [
        ("GET", "/api/v1/workers", None),
        ("POST", "/api/v1/workers", {"full_name": "X"}),
        ("PATCH", f"/api/v1/workers/{worker.pk}", {"full_name": "Dirusak"}),
        ("POST", "/api/v1/nik/check", {"niks": ["3573055506900007"]}),
    ]
    for kind, header in bad_tokens.items():
        for method, path, body in calls:
            status, headers, raw = _call(
                live_server.url + path,
                method,
                body,
                {} if header is None else {"Authorization": header},
            )
            where = f"{kind} token, {method} {path}: {raw[:200]!r}"
            assert status == 401, where
            assert headers["Content-Type"].startswith("application/json"), where
            detail = json.loads(raw)["detail"]
            assert "CSRF" not in detail, where
            wanted = "Belum masuk" if header is None else "Token API tidak berlaku"
            assert detail.startswith(wanted), where
    worker.refresh_from_db()
    assert worker.full_name == "Budi Santoso"


@pytest.mark.django_db(transaction=True)
def test_401_message_in_english_for_english_users(live_server, malang) -> None:
    status, _h, raw = _call(
        live_server.url + "/api/v1/workers",
        "POST",
        {},
        {"Authorization": "Bearer nope", "Cookie": "django_language=en"},
    )
    assert status == 401
    assert json.loads(raw)["detail"].startswith("The API token is not valid")


def _session_cookie(username: str, make_user) -> str:
    client = Client()
    client.force_login(make_user("bpjs_officer", username=username))
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
def test_a_bad_token_is_refused_even_beside_a_valid_session(live_server, malang, make_user) -> None:
    # a request carrying Authorization is judged by its token alone, never by the cookie
    session = _session_cookie("sesi", make_user)
    for method, body in (("GET", None), ("POST", NEW_WORKER)):
        status, _h, raw = _call(
            live_server.url + "/api/v1/workers",
            method,
            body,
            {"Authorization": "Bearer ckp_wrong", "Cookie": f"sessionid={session}"},
        )
        assert status == 401, raw
    assert not Worker.objects.exists()


NEW_WORKER = {
    "nik": "3573055506900007",
    "full_name": "Sri Wahyuni",
    "birth_date": "1990-06-15",
    "sex": "P",
    "kelurahan": "35.73.05.1011",
    "occupation": "pkl",
}


@pytest.mark.django_db(transaction=True)
def test_browser_session_keeps_csrf_on_writes(live_server, malang, make_user) -> None:
    session = _session_cookie("sesi", make_user)
    url = live_server.url + "/api/v1/workers"
    status, _h, _raw = _call(url, "GET", None, {"Cookie": f"sessionid={session}"})
    assert status == 200
    status, _h, raw = _call(url, "POST", NEW_WORKER, {"Cookie": f"sessionid={session}"})
    assert status == 403, raw
    assert "Muat ulang halaman" in json.loads(raw)["detail"]
    assert not Worker.objects.exists()
    token = "a" * 32
    status, _h, raw = _call(
        url,
        "POST",
        NEW_WORKER,
        {
            "Cookie": f"sessionid={session}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": live_server.url,
            "Referer": live_server.url + "/",
        },
    )
    assert status == 201, raw


def _operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_openapi_documents_the_error_answers_of_every_operation(client, db) -> None:
    def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), keys  # Swagger UI refuses a duplicated key
        return dict(pairs)

    spec = json.loads(client.get("/api/openapi.json").content, object_pairs_hook=no_duplicate_keys)
    schemas = spec["components"]["schemas"]
    missing = []
    for path, method, op in _operations(spec):
        for status in ERROR_STATUSES:
            answer = op["responses"].get(status)
            content = (answer or {}).get("content", {}).get("application/json", {})
            if "schema" not in content:
                missing.append(f"{method.upper()} {path} {status}")
                continue
            ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
            assert "detail" in schemas[ref]["properties"], (path, status)
    assert not missing, missing
    assert len(list(_operations(spec))) >= 20


def test_api_docs_load_their_assets_from_this_server(client, db) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200
    html = r.content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert urls, html
    external = [u for u in urls if re.match(r"^(https?:)?//", u)]
    assert not external, external
    assert "<script>" not in html  # the page's own set-up is a file, not an inline script
    for url in urls:
        assert client.get(url).status_code == 200, url


NOT_OBJECTS = ["true", "[]", '"x"', "null", "1", '[{"full_name": "X"}]']


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_patch_with_a_body_that_is_not_an_object_is_422_and_writes_nothing(
    api_client, malang, body: str
) -> None:
    worker = make_worker()
    before = Worker.objects.values().get(pk=worker.pk)
    r = api_client("admin").generic(
        "PATCH", f"/api/v1/workers/{worker.pk}", body, content_type="application/json"
    )
    assert r.status_code == 422, r.content
    detail = r.json()["detail"]
    assert detail[0]["loc"] == ["body"]
    assert "objek JSON" in detail[0]["msg"]
    assert Worker.objects.values().get(pk=worker.pk) == before


def test_every_operation_with_a_body_refuses_one_that_is_not_an_object(api_client, malang) -> None:
    client = api_client("admin")
    worker = make_worker()
    spec = client.get("/api/openapi.json").json()
    # a JSON body (a multipart upload, such as a payment statement, has no object to be)
    with_body = [
        (p, m)
        for p, m, op in _operations(spec)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    assert len(with_body) >= 8
    counts = (Worker.objects.count(), worker.heirs.count())
    before = Worker.objects.values().get(pk=worker.pk)
    for path, method in with_body:
        url = re.sub(r"\{[^}]+\}", str(worker.pk), path)
        for body in ("true", "[]", "null"):
            r = client.generic(method.upper(), url, body, content_type="application/json")
            assert r.status_code == 422, (method, path, body, r.content[:300])
            assert "objek JSON" in r.json()["detail"][0]["msg"], (method, path, body)
    assert (Worker.objects.count(), worker.heirs.count()) == counts
    assert Worker.objects.values().get(pk=worker.pk) == before


def test_a_body_that_is_not_json_gets_a_clear_400(api_client, malang) -> None:
    r = api_client("admin").generic(
        "POST", "/api/v1/workers", "{nik: 1", content_type="application/json"
    )
    assert r.status_code == 400
    assert "bukan JSON yang sah" in r.json()["detail"]


@pytest.mark.django_db
def test_a_schema_check_answers_in_indonesian_naming_the_field(api_client) -> None:
    """pydantic's own checks (a type, a choice, a date) come back in the user's language, with
    the field's path, like every other refusal."""
    r = api_client("bpjs_officer").post(
        "/api/v1/claims",
        {"membership": "BPU-000000001", "type": "JKM", "event_date": "31/11/2026"},
        content_type="application/json",
    )
    assert r.status_code == 422
    by_field = {tuple(d["loc"][-1:]): d for d in r.json()["detail"]}
    choice = by_field[("type",)]["msg"]
    assert choice.startswith("Pilih salah satu dari: ") and "'jkk'" in choice and "'jkm'" in choice
    assert by_field[("event_date",)]["msg"].startswith("Tulis tanggal sebagai TTTT-BB-HH")
    assert by_field[("event_date",)]["type"] == "date_from_datetime_parsing"
