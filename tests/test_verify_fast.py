"""The lean path of the hospital's protection check (`cakupan.apifast`): it answers exactly as
the django-ninja route (status, headers and body, in Indonesian and English), remembers tokens
for a stated time only, logs every call through the batched access log, and does all of it
behind the real server (`cakupan serve --processes 2`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from cakupan.accounts.roles import VERIFY_MEMBERSHIP
from cakupan.accounts.services import token_create, token_revoke
from cakupan.apifast import VerifyFastPath
from cakupan.apikit import RememberedTokens
from cakupan.contributions.billing import billing_run
from cakupan.contributions.services import account_of_membership, payment_record
from cakupan.contributions.tests.factories import make_membership
from cakupan.registry.accesslog import AccessLogBuffer
from cakupan.registry.models import NikAccessLog
from cakupan.registry.tests.factories import make_worker

D = dt.date
PATH = "/api/v1/verify"


@pytest.fixture(autouse=True)
def _fresh_counts(settings, tmp_path):
    settings.CAKUPAN_CARD_KEY_DIR = tmp_path / "keys"
    cache.clear()  # the rate counts of earlier tests' users (whose ids may come again)
    yield
    cache.clear()


@pytest.fixture
def farmer(malang):
    """Paid January to March 2026 himself on 10 January, then nothing: active in March, in
    arrears in May, lapsed in July."""
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani", name="Pak Tani")
    for month in range(1, 9):
        billing_run(month=f"2026-{month:02d}")
    payment_record(
        reference="F-1",
        amount=16_800 * 3,
        paid_on=D(2026, 1, 10),
        source="form",
        user=None,
        account=account_of_membership(m),
    )
    return m


class Passed:
    """Stands for Django behind the lean path: counts what was passed on, and answers it."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.calls = 0
        self.django = WSGIHandler()

    def __call__(self, environ, start_response):
        self.calls += 1
        # as the test client does: the test's transaction must not be closed by the signals
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return self.django(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def call(app, query: dict, *, key: str | None, language: str | None = None, path=PATH, **headers):
    """(status, headers, body) of a WSGI call of `app`, as the server would make it."""
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = RequestFactory().get(path, query, headers=headers)
    if language:
        request.environ["HTTP_COOKIE"] = f"django_language={language}"
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    body = b"".join(app(request.environ, start_response))
    return answer["status"], answer["headers"], body


def ninja(query: dict, *, key: str | None, language: str | None = None, **headers):
    """The same call answered by Django and the ninja route (the test client)."""
    client = Client()
    if language:
        client.cookies["django_language"] = language
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    response = client.get(PATH, query, headers=headers)
    return response.status_code, dict(response.items()), response.content


def test_both_paths_answer_alike_in_every_state_and_language(make_user, farmer, settings):
    settings.CAKUPAN_RATE_VERIFY = "1000/m"
    registered = make_worker(full_name="Tanpa Kepesertaan")
    desk = make_user("hospital", "rs_desk")
    _t, key = token_create(user=desk)
    _t, sponsor_key = token_create(user=make_user("sponsor", "csr_user"))
    passed = Passed()
    log = AccessLogBuffer(interval=None)
    fast = VerifyFastPath(passed, log=log)
    nik = farmer.worker.nik
    cases = [
        ({"nik": nik, "date": "2026-03-20"}, key, 200, "active"),
        ({"nik": nik, "date": "2026-05-20"}, key, 200, "arrears"),
        ({"membership": farmer.number.lower(), "date": "2026-07-20"}, key, 200, "lapsed"),
        ({"nik": "3573050101900009"}, key, 404, None),
        ({"nik": registered.nik}, key, 404, None),
        ({"membership": "BPU-999999999"}, key, 404, None),
        ({"nik": "12345"}, key, 422, None),
        ({"nik": nik, "date": "30/11/2026"}, key, 422, None),
        ({"nik": nik, "membership": farmer.number}, key, 422, None),
        ({}, key, 422, None),
        ({"nik": nik}, "ckp_wrong", 401, None),
        ({"nik": nik}, "", 401, None),
        ({"nik": nik}, sponsor_key, 403, None),
    ]
    seen_states = set()
    for language in (None, "id", "en"):
        for query, token, status, state in cases:
            before = NikAccessLog.objects.count()
            expected = ninja(query, key=token, language=language)
            logged_by_ninja = list(
                NikAccessLog.objects.order_by("id")[before:].values_list(
                    "user_id", "worker_id", "action", "path"
                )
            )
            assert expected[0] == status, (query, expected)
            answer = call(fast, query, key=token, language=language)
            assert answer == expected, (query, language)
            assert passed.calls == 0  # answered by the lean path itself
            if state:
                seen_states.add(json.loads(answer[2])["state"])
            # the lean path logs the same row, once its buffer is written
            before = NikAccessLog.objects.count()
            log.flush()
            logged = list(
                NikAccessLog.objects.order_by("id")[before:].values_list(
                    "user_id", "worker_id", "action", "path"
                )
            )
            assert logged == logged_by_ninja, query
            assert len(logged) == (1 if status in (200, 404) else 0)
        # the answers are in the cookie's language; a browser's Accept-Language changes nothing
        english = call(fast, {"nik": "3573050101900009"}, key=key, language=language)
        assert ("not in the worker registry" in english[2].decode()) == (language == "en")
        assert english[1]["Content-Language"] == (language or "id")
        assert log.flush() == 1
    assert seen_states == {"active", "arrears", "lapsed"}
    accept = {"Accept-Language": "en"}
    assert call(fast, {"nik": "1"}, key=key, **accept) == ninja({"nik": "1"}, key=key, **accept)
    assert "16 angka" in call(fast, {"nik": "1"}, key=key, **accept)[2].decode()


def test_what_the_lean_path_does_not_answer_goes_to_django(make_user, farmer):
    desk = make_user("hospital", "rs_desk")
    _t, key = token_create(user=desk)
    passed = Passed()
    fast = VerifyFastPath(passed, log=AccessLogBuffer(interval=None))
    nik = farmer.worker.nik
    # no token: Django's 401 (a browser session would be judged there)
    assert call(fast, {"nik": nik}, key=None) == ninja({"nik": nik}, key=None)
    assert passed.calls == 1
    # another scheme, another path, a host Django refuses
    call(fast, {"nik": nik}, key=None, Authorization="Basic eDp5")
    assert call(fast, {}, key=key, path="/api/v1/verify/")[0] == 404
    assert call(fast, {"nik": nik}, key=key, Host="evil.example")[0] == 400
    assert passed.calls == 4
    assert not NikAccessLog.objects.exists()


def test_a_rate_limit_is_shared_by_both_paths_with_the_same_429(make_user, farmer, settings):
    settings.CAKUPAN_RATE_VERIFY = "3/h"  # hourly windows: one ending mid-test is unlikely
    desk = make_user("hospital", "rs_desk")
    _t, key = token_create(user=desk)
    log = AccessLogBuffer(interval=None)
    fast = VerifyFastPath(Passed(), log=log)
    query = {"nik": farmer.worker.nik}
    assert call(fast, query, key=key)[0] == 200
    assert ninja(query, key=key)[0] == 200
    assert call(fast, query, key=key)[0] == 200
    refused = call(fast, query, key=key)
    expected = ninja(query, key=key)
    assert (refused[0], expected[0]) == (429, 429)
    retry = int(refused[1]["Retry-After"])
    assert 1 <= retry <= 3600 and str(retry).encode() in refused[2]
    # the same answer, but for the seconds left, which may have ticked between the two calls
    seconds = re.compile(rb"\d+")
    assert seconds.sub(b"N", refused[2]) == seconds.sub(b"N", expected[2])
    assert {k: v for k, v in refused[1].items() if k != "Retry-After"} == {
        k: v for k, v in expected[1].items() if k != "Retry-After"
    }
    log.flush()
    assert NikAccessLog.objects.filter(action="verify").count() == 3


def test_a_call_costs_one_query_once_its_token_is_remembered(
    make_user, farmer, django_assert_num_queries
):
    """The membership, its bills and the month's payer in one query; the token, the user and
    the role are remembered; the access log is written later, many rows at once."""
    _t, key = token_create(user=make_user("hospital", "rs_desk"))
    fast = VerifyFastPath(Passed(), log=AccessLogBuffer(interval=None))
    query = {"nik": farmer.worker.nik, "date": "2026-05-20"}
    assert call(fast, query, key=key)[0] == 200  # reads the token, the rules
    with django_assert_num_queries(1):
        assert call(fast, query, key=key)[0] == 200
    # the operation stays documented where Django serves it
    from cakupan.api import api

    assert "/api/v1/verify" in api.get_openapi_schema()["paths"]


class Failing(RememberedTokens):
    """Tokens whose lookup fails as a database can: locked behind an import, or anything."""

    def __init__(self, error: Exception):
        super().__init__(VERIFY_MEMBERSHIP)
        self.error = error

    def user(self, key):
        raise self.error


def test_a_failure_is_answered_as_django_answers_it(farmer):
    from django.db import OperationalError

    locked = VerifyFastPath(
        Passed(), log=AccessLogBuffer(interval=None), tokens=Failing(OperationalError("locked"))
    )
    status, headers, body = call(locked, {"nik": farmer.worker.nik}, key="ckp_x")
    assert (status, headers["Retry-After"]) == (503, "30")
    assert "sedang menyimpan" in json.loads(body)["detail"]  # busy with a list: try again
    broken = VerifyFastPath(
        Passed(), log=AccessLogBuffer(interval=None), tokens=Failing(RuntimeError("secret"))
    )
    status, headers, body = call(broken, {"nik": farmer.worker.nik}, key="ckp_x")
    assert status == 500 and b"secret" not in body and b"Traceback" not in body
    assert headers["Cache-Control"] == "no-store, private"


def test_a_remembered_token_stops_working_within_its_seconds(make_user, farmer):
    """Revoking a token, deactivating its user or changing the role takes effect on the lean
    path within RememberedTokens.SECONDS (the clock is the tokens' own, moved by hand)."""
    now = [1000.0]
    tokens = RememberedTokens(VERIFY_MEMBERSHIP, clock=lambda: now[0])
    fast = VerifyFastPath(Passed(), log=AccessLogBuffer(interval=None), tokens=tokens)
    desk = make_user("hospital", "rs_desk")
    token, key = token_create(user=desk)
    query = {"nik": farmer.worker.nik}
    assert call(fast, query, key=key)[0] == 200
    token_revoke(token=token)
    assert ninja(query, key=key)[0] == 401  # the ninja route reads the token every time
    assert call(fast, query, key=key)[0] == 200  # remembered, for a few seconds only
    now[0] += RememberedTokens.SECONDS + 0.01
    assert call(fast, query, key=key)[0] == 401

    _t, key = token_create(user=desk, name="second")
    assert call(fast, query, key=key)[0] == 200  # a new token works at once
    desk.role = "sponsor"
    desk.save()
    now[0] += RememberedTokens.SECONDS + 0.01
    assert call(fast, query, key=key)[0] == 403
    desk.role = "hospital"
    desk.is_active = False
    desk.save()
    now[0] += RememberedTokens.SECONDS + 0.01
    assert call(fast, query, key=key)[0] == 401


def test_calls_are_logged_with_their_own_time_when_the_buffer_is_written(make_user, farmer):
    desk = make_user("hospital", "rs_desk")
    _t, key = token_create(user=desk)
    log = AccessLogBuffer(interval=None)
    fast = VerifyFastPath(Passed(), log=log)
    from django.utils import timezone

    start = timezone.now()
    assert call(fast, {"membership": farmer.number}, key=key)[0] == 200
    assert call(fast, {"nik": "3573050101900009"}, key=key)[0] == 404
    assert call(fast, {"nik": "1"}, key=key)[0] == 422  # nobody reached: not logged
    end = timezone.now()
    assert not NikAccessLog.objects.exists()  # held in memory until written
    assert log.pending() == 2
    assert log.flush() == 2
    rows = list(NikAccessLog.objects.order_by("id"))
    assert [(r.user_id, r.worker_id, r.action, r.path, r.fields) for r in rows] == [
        (desk.pk, farmer.worker_id, "verify", PATH, ""),
        (desk.pk, None, "verify", PATH, ""),
    ]
    assert all(start <= r.at <= end for r in rows)
    assert log.flush() == 0


@pytest.mark.django_db(transaction=True)
def test_the_buffer_is_written_by_its_thread_and_on_close(malang, make_user):
    worker = make_worker(full_name="Ditulis Nanti")
    user = make_user("hospital", "rs_desk")
    log = AccessLogBuffer(interval=0.05)
    log.add(user=user, action="verify", workers=[worker], path=PATH)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not NikAccessLog.objects.exists():
        time.sleep(0.05)
    assert list(NikAccessLog.objects.values_list("user_id", "worker_id")) == [(user.pk, worker.pk)]
    log.close()
    # a thread that would wait an hour: close() writes what it holds
    slow = AccessLogBuffer(interval=3600)
    slow.add(user=user, action="verify", workers=[None, worker], path=PATH)
    assert NikAccessLog.objects.count() == 1
    slow.close()
    assert NikAccessLog.objects.count() == 3


# -- behind the real server ------------------------------------------------------------------

SEED = textwrap.dedent(
    """
    import datetime as dt, json, django
    django.setup()
    from cakupan.bootstrap import setup
    setup()
    from cakupan.accounts.services import token_create, user_create
    from cakupan.contributions.billing import billing_run
    from cakupan.contributions.services import account_of_membership, payment_record
    from cakupan.contributions.tests.factories import make_membership
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani", name="Pak Tani")
    billing_run(month="2026-01")
    payment_record(reference="S-1", amount=16_800, paid_on=dt.date(2026, 1, 10), source="form",
                   user=None, account=account_of_membership(m))
    desk, _ = user_create(username="rs_desk", role="hospital")
    sponsor, _ = user_create(username="csr_user", role="sponsor")
    print(json.dumps({
        "key": token_create(user=desk)[1], "sponsor_key": token_create(user=sponsor)[1],
        "user": desk.pk, "worker": m.worker_id, "number": m.number,
    }))
    """
)


SERVE = ["--no-worker", "--processes", "2", "--threads", "2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, query: str, key: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}?{query}", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers.items()), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), json.loads(e.read())


@pytest.mark.slow
def test_the_running_server_answers_refuses_throttles_and_logs_every_call(tmp_path: Path):
    """`cakupan serve --processes 2` (gunicorn): 200, 401, 403 and 429 from the lean path, and
    every call in the access log once the server has stopped (the workers write it as they
    exit). On its own SQLite database, whichever database the suite runs on."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CAKUPAN_VAR=str(tmp_path / "var"),
        CAKUPAN_RATE_VERIFY="6/h",
        # written only as the workers stop: the rows below can come from nowhere else
        CAKUPAN_ACCESS_LOG_SECONDS="3600",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="cakupan.settings",
    )
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], env=env, capture_output=True, text=True, check=True
    )
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cakupan.cli", "serve", "--port", str(port), "--no-demo", *SERVE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        query = f"membership={data['number']}&date=2026-01-20"
        status, headers, body = _get(port, query, data["key"])
        assert status == 200, body
        assert (body["protected"], body["state"], body["name"]) == (True, "active", "Pak Tani")
        assert body["membership"] == data["number"] and "•" in body["nik"]
        assert headers["Cache-Control"] == "no-store, private"
        wrong = _get(port, query, "ckp_wrong")
        assert wrong[0] == 401 and wrong[1]["WWW-Authenticate"] == 'Bearer realm="cakupan"'
        assert _get(port, query, data["sponsor_key"])[0] == 403
        assert _get(port, "nik=3573050101900009", data["key"])[0] == 404
        # 6 an hour, counted in each of the two processes: at most 12 answered, then 429
        answers = [_get(port, query, data["key"]) for _ in range(14)]
        statuses = [a[0] for a in answers]
        assert statuses.count(429) >= 1 and set(statuses) == {200, 429}
        refused = next(a for a in answers if a[0] == 429)
        retry = int(refused[1]["Retry-After"])
        assert 1 <= retry <= 3600 and str(retry) in refused[2]["detail"]
        answered = 2 + statuses.count(200)  # the first 200, the 404 and the rest
        # answered by the lean path: the rows are still in the workers' memory
        database = sqlite3.connect(tmp_path / "var" / "cakupan.sqlite3")
        with closing(database):
            (held,) = database.execute("SELECT count(*) FROM registry_nikaccesslog").fetchone()
        assert held == 0
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    count = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from cakupan.registry.models import NikAccessLog as L;"
            "import json;"
            "print(json.dumps(list(L.objects.values_list('user_id', 'worker_id', 'action', 'path'))))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(count.stdout.strip().splitlines()[-1])
    assert len(rows) == answered
    assert rows.count([data["user"], data["worker"], "verify", PATH]) == answered - 1
    assert rows.count([data["user"], None, "verify", PATH]) == 1
