"""The hospital's protection check: the API on chosen dates (active, arrears, lapsed), its
errors (404, 422, 429), the access log, the hospital page; and the hospital role refused on
every other page and API operation, found by walking the URL map so that a page added later
and forgotten is caught."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from cakupan.contributions import cards as C
from cakupan.contributions.billing import billing_run
from cakupan.contributions.selectors import membership_state
from cakupan.contributions.services import (
    account_of_membership,
    account_of_sponsor,
    payment_record,
    payment_reverse,
)
from cakupan.contributions.tests.factories import make_membership, make_programme
from cakupan.contributions.verify import verify
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import mask_nik
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def _key_dir(settings, tmp_path):
    settings.CAKUPAN_CARD_KEY_DIR = tmp_path / "keys"


def pay(account, amount: int, on: D, ref: str, **kw):
    return payment_record(
        reference=ref, amount=amount, paid_on=on, source="form", user=None, account=account, **kw
    )


@pytest.fixture
def self_payer(malang):
    """A farmer paying January to March 2026 himself on 10 January, then nothing."""
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani", name="Pak Tani")
    for month in range(1, 9):
        billing_run(month=f"2026-{month:02d}")
    pay(account_of_membership(m), 16_800 * 3, D(2026, 1, 10), "V-1")
    return m


@pytest.fixture
def clerk(api_client):
    return api_client("hospital")


def test_protected_in_arrears_and_lapsed_on_chosen_dates(clerk, self_payer):
    nik = self_payer.worker.nik
    active = clerk.get("/api/v1/verify", {"nik": nik, "date": "2026-03-20"})
    assert active.status_code == 200, active.content
    body = active.json()
    assert body == {
        "protected": True,
        "date": "2026-03-20",
        "state": "active",
        "state_label": body["state_label"],
        "months_unpaid": 0,
        "since": "2026-01-01",
        "through": "2026-03-31",
        "covers": {"jkk_care": "yes", "jkm_funeral": "yes", "jkk_cash": "yes", "jkm_cash": "yes"},
        "payer_type": "self",
        "membership": self_payer.number,
        "nik": mask_nik(nik),
        "name": "Pak Tani",
    }
    arrears = clerk.get("/api/v1/verify", {"nik": nik, "date": "2026-05-20"}).json()
    assert (arrears["protected"], arrears["state"], arrears["months_unpaid"]) == (
        True,
        "arrears",
        2,
    )
    assert arrears["covers"] == {
        "jkk_care": "yes",
        "jkm_funeral": "yes",
        "jkk_cash": "after_arrears",
        "jkm_cash": "after_arrears",
    }
    assert arrears["through"] == "2026-06-30"
    lapsed = clerk.get("/api/v1/verify", {"membership": self_payer.number, "date": "2026-07-20"})
    body = lapsed.json()
    assert (body["protected"], body["state"], body["since"], body["through"]) == (
        False,
        "lapsed",
        None,
        None,
    )
    assert set(body["covers"].values()) == {"no"}
    # the whole NIK never leaves
    assert nik not in lapsed.content.decode()


def test_a_sponsor_paid_month_names_the_payer_type(clerk, malang):
    csr = make_programme(type="csr")
    m = make_membership(fundings=[(csr, "2026-01", "2026-12")])
    billing_run(month="2026-11")
    pay(account_of_sponsor(csr.sponsor), 8_400, D(2026, 11, 3), "V-CSR")
    body = clerk.get("/api/v1/verify", {"membership": m.number, "date": "2026-11-20"}).json()
    assert (body["protected"], body["payer_type"]) == (True, "csr")
    # the membership number is read whatever its case
    low = clerk.get("/api/v1/verify", {"membership": m.number.lower(), "date": "2026-11-20"})
    assert low.status_code == 200


def test_unknown_people_are_404_with_a_clear_message(clerk, malang):
    registered = make_worker(full_name="Tanpa Kepesertaan")
    unknown = clerk.get("/api/v1/verify", {"nik": "3573050101900009"})
    assert unknown.status_code == 404 and "tidak ada" in unknown.json()["detail"]
    no_membership = clerk.get("/api/v1/verify", {"nik": registered.nik})
    assert no_membership.status_code == 404
    assert "tidak punya kepesertaan" in no_membership.json()["detail"]
    number = clerk.get("/api/v1/verify", {"membership": "BPU-999999999"})
    assert number.status_code == 404 and "nomor" in number.json()["detail"]
    # each is logged: who asked, and whom it found (nobody, or the registered worker)
    log = list(NikAccessLog.objects.values_list("user_id", "worker_id", "action"))
    assert sorted(log, key=lambda r: r[1] or 0) == [
        (clerk.user.pk, None, "verify"),
        (clerk.user.pk, None, "verify"),
        (clerk.user.pk, registered.pk, "verify"),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"nik": "3573050101900009", "date": "30/11/2026"}, "date"),
        ({"nik": "3573050101900009", "date": "2026-02-30"}, "date"),
        ({"nik": "12345"}, "nik"),
        ({}, "membership"),
        ({"nik": "3573050101900009", "membership": "BPU-000000001"}, "nik"),
        ({"membership": "X" * 21}, "membership"),
    ],
)
def test_bad_input_is_422_naming_the_field(clerk, malang, query, field):
    response = clerk.get("/api/v1/verify", query)
    assert response.status_code == 422, response.content
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", field] and problem["msg"]
    assert not NikAccessLog.objects.exists()  # nobody was reached


def test_too_many_checks_are_429_saying_when_to_retry(clerk, self_payer, settings):
    settings.CAKUPAN_RATE_VERIFY = "3/m"
    for _ in range(3):
        assert clerk.get("/api/v1/verify", {"nik": self_payer.worker.nik}).status_code == 200
    refused = clerk.get("/api/v1/verify", {"nik": self_payer.worker.nik})
    assert refused.status_code == 429
    retry = int(refused["Retry-After"])
    assert 1 <= retry <= 60 and str(retry) in refused.json()["detail"]
    assert "Pak Tani" not in refused.content.decode()
    assert NikAccessLog.objects.filter(action="verify").count() == 3


def test_every_call_is_logged_and_the_roles_are_checked(api_client, self_payer):
    for role, status in [("hospital", 200), ("bpjs_officer", 200), ("sponsor", 403)]:
        client = api_client(role)
        response = client.get("/api/v1/verify", {"nik": self_payer.worker.nik})
        assert response.status_code == status, role
    log = NikAccessLog.objects.values_list("worker_id", "action", "path")
    assert list(log) == [(self_payer.worker_id, "verify", "/api/v1/verify")] * 2
    assert Client().get("/api/v1/verify", {"nik": self_payer.worker.nik}).status_code == 401


def test_a_check_costs_a_fixed_number_of_queries(clerk, self_payer, django_assert_max_num_queries):
    """Load-tested at 1,500 requests a second: the token and the role's permissions (3), one
    query for the membership, its bills and this month's payer, one insert into the access
    log; one more only for a month not billed yet (its payer from the funding)."""
    query = {"nik": self_payer.worker.nik, "date": "2026-05-20"}
    clerk.get("/api/v1/verify", query)  # warm the rules cache
    with django_assert_max_num_queries(5):
        assert clerk.get("/api/v1/verify", query).status_code == 200
    with django_assert_max_num_queries(6):
        assert clerk.get("/api/v1/verify", {**query, "date": "2026-11-20"}).status_code == 200


def test_the_one_query_answer_equals_membership_state_on_every_day(malang, make_user):
    """The API's lean path (contributions/verify.py) derives the state from one query; it must
    say what contributions.selectors.membership_state says, whatever the ledger holds."""
    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    gaps = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    switch = make_membership(fundings=[(csr, "2026-01", "2026-05"), (None, "2026-06", None)])
    ahead = make_membership(fundings=[(None, "2026-01", None)])
    short = make_membership(fundings=[(None, "2026-03", None)], start="2026-03", end="2026-08")
    apbd = make_programme(type="apbd", first="2026-01", last="2026-12")
    unpaid = make_membership(fundings=[(apbd, "2026-01", "2026-12")])
    for month in range(1, 11):
        billing_run(month=f"2026-{month:02d}")
    make_membership(fundings=[(csr, "2026-01", "2026-12")])  # joins after the runs
    pay(account_of_membership(gaps), 16_800 * 3, D(2026, 1, 10), "E-1")
    pay(account_of_membership(gaps), 8_400 * 4, D(2026, 7, 20), "E-2")
    pay(account_of_sponsor(csr.sponsor), 8_400 * 4, D(2026, 2, 3), "E-3")
    pay(account_of_membership(switch), 16_800, D(2026, 6, 2), "E-4")
    for n, month in enumerate(range(1, 11)):
        pay(
            account_of_membership(ahead),
            8_400 if month >= 4 else 16_800,
            D(2026, month, 1),
            f"A{n}",
        )
    pay(account_of_membership(ahead), 3 * 8_400, D(2026, 10, 4), "E-5", prepay_months=3)
    late = pay(account_of_membership(short), 16_800 * 2, D(2026, 4, 20), "E-6")
    payment_reverse(payment=late.payment, user=make_user("bpjs_officer"), reason="salah")
    members = [gaps, switch, ahead, short, unpaid]
    days = [D(2025, 12, 31) + dt.timedelta(days=n) for n in range(0, 420, 3)]
    days += [D(2026, m, d) for m in range(1, 13) for d in (14, 15, 16)]
    seen = set()
    for on in days:
        for m in members:
            fast = verify("membership", m.number, on).state
            assert fast == membership_state(m, on), (m.number, on)
            seen.add(fast.state)
    assert seen == {"active", "arrears", "lapsed", "ended", "pending", "not_started"}


# -- the hospital page ---------------------------------------------------------------------


def _hospital_page(make_user) -> Client:
    client = Client()
    client.force_login(make_user("hospital", "rs_desk"))
    return client


def test_the_hospital_page_answers_from_the_ledger_on_a_chosen_date(make_user, self_payer):
    desk = _hospital_page(make_user)
    nik = self_payer.worker.nik
    body = desk.post("/verifikasi/", {"nik": nik, "date": "2026-05-20"}).content.decode()
    assert "Terlindungi pada 20/05/2026: <strong>YA</strong>" in body
    assert "<strong>Menunggak</strong> · 2 bulan belum dibayar" in body
    assert "01/01/2026" in body and "30/06/2026" in body  # since, through
    assert "setelah tunggakan dilunasi" in body  # cash benefits wait
    assert "belum tercatat" not in body  # no caveat: the ledger records payments now
    body = desk.post("/verifikasi/", {"nik": nik, "date": "2026-07-20"}).content.decode()
    assert "<strong>TIDAK</strong>" in body
    bad = desk.post("/verifikasi/", {"nik": nik, "date": "20-07-2026"}).content.decode()
    assert "TTTT-BB-HH" in bad and 'data-testid="verdict"' not in bad
    assert NikAccessLog.objects.filter(action="verify").count() == 2
    # a GET asks nothing and shows the empty form
    assert 'data-testid="verdict"' not in desk.get("/verifikasi/").content.decode()


def test_the_hospital_page_takes_the_membership_number_on_the_card(make_user, self_payer):
    desk = _hospital_page(make_user)
    number = self_payer.number
    # typed as a clerk would, lower case with spaces around
    body = desk.post("/verifikasi/", {"nik": f"  {number.lower()} ", "date": "2026-05-20"})
    body = body.content.decode()
    assert "Terlindungi pada 20/05/2026: <strong>YA</strong>" in body
    assert f'data-testid="membership-number">{number}<' in body
    assert mask_nik(self_payer.worker.nik) in body and self_payer.worker.nik not in body
    unknown = desk.post("/verifikasi/", {"nik": "BPU-999999999"}).content.decode()
    assert "Tidak ada kepesertaan bernomor BPU-999999999" in unknown
    assert 'data-testid="verdict"' not in unknown
    too_long = desk.post("/verifikasi/", {"nik": "BPU-" + "9" * 30}).content.decode()
    assert "paling banyak 20 karakter" in too_long
    # every check is in the access log, those that found nobody too
    assert NikAccessLog.objects.filter(action="verify").count() == 3


# -- the hospital role refused on every list, search and export ----------------------------


def _routes(patterns, prefix: str = ""):
    """(route, pattern) of every URL, with the prefixes of the includes joined."""
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.pattern


_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")

# What the hospital role may open with a 200, and why; every other page and operation must be
# refused (403), hidden (404), not allowed for a GET or POST (405), or a redirect to where it
# may go. A new page that answers a hospital user 200 fails this test until it is judged here.
HOSPITAL_MAY_OPEN = {
    "verifikasi/": "its own page: one NIK at a time, logged, rate-limited",
    "token/": "its own API tokens",
    "V/keys.json": "the public keys of the card signatures",
    "card-check": "a scanned card: the card holder's name and masked NIK only",
    "api/docs": "the API's documentation",
    "api/openapi.json": "the API's description",
    "api/v1/verify": "its own operation (422 without a NIK, 200 with one)",
    "pendaftaran/templat.csv": "the blank list template: column names only",
    "pendaftaran/templat.xlsx": "the blank list template: column names only",
    "klaim/laporan-kecelakaan/": "its first report of a work accident: the claim number only",
    "api/v1/claims/accident-reports": "the same report by API (400 without a body)",
}
SKIP = {
    "keluar/": "signing out ends the session the walk uses",
    "i18n/setlang/": "the language switch redirects",
}


def _concrete(route: str, pattern, values: dict[str, list[str]]) -> list[str]:
    if isinstance(pattern, RegexPattern):
        assert route.endswith("(?P<token>[A-Za-z2-7]{1,400})/?$"), (
            f"a new regex URL {route!r}: add an example for it to this test"
        )
        return ["card-check"]
    names = [m.group("name") for m in _PARAM.finditer(route)]
    paths = []
    for combo in itertools.product(*(values.get(n, values["*"]) for n in names)):
        path = route
        for value in combo:
            path = _PARAM.sub(value, path, count=1)
        paths.append(path)
    return paths


def test_the_hospital_role_is_refused_every_list_search_and_export(make_user, api_client, malang):
    csr = make_programme(type="csr", first="2026-01", last="2027-12")
    m = make_membership(fundings=[(csr, "2026-01", None)], name="Rahasia Pasien")
    worker = m.worker
    billing_run(month="2026-11")
    card = C.card_issue(m, None, today=D(2026, 11, 1))
    token = C.card_token(card)
    ids = sorted({str(i) for i in (worker.pk, m.pk, csr.pk, csr.sponsor_id, card.pk, 1)})
    values = {
        "*": ids,
        "code": ["35.73.05", "35.73"],
        "kind": ["csv", "xlsx"],
        "month": ["2026-11"],
    }
    web = Client()
    web.force_login(make_user("hospital", "rs_walk"))
    api = api_client("hospital")
    checked = 0
    for route, pattern in _routes(get_resolver().url_patterns):
        if route.startswith("admin/") or route in SKIP:
            continue
        for path in _concrete(route, pattern, values):
            url = f"/V/{token}" if path == "card-check" else "/" + path
            client = api if path.startswith("api/") else web
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                checked += 1
                where = f"{method.upper()} {url} → {response.status_code}"
                if response.status_code in (401, 403, 404, 405):
                    continue
                if response.status_code in (301, 302):
                    assert not response["Location"].startswith(("/pekerja", "/program")), where
                    continue
                assert path in HOSPITAL_MAY_OPEN or path.startswith("V/keys"), where
                text = response.content.decode("utf-8", "replace") if not response.streaming else ""
                assert worker.nik not in text, where
                if path != "card-check":
                    assert "Rahasia Pasien" not in text, where
    assert checked > 100  # the walk reached the whole map
    # the admin site sends a non-staff user to its login
    assert web.get("/admin/registry/worker/").status_code == 302


# -- a browser at the desk -------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_hospital_desk_reads_yes_or_no_in_a_browser(page, live_server, make_user, malang):
    from django.utils import timezone

    today = timezone.localdate()
    this_month = today.strftime("%Y-%m")
    paid = make_membership(fundings=[(None, this_month, None)], name="Sehat Sentosa")
    unpaid = make_membership(fundings=[(None, this_month, None)], name="Belum Bayar")
    billing_run(month=this_month)
    pay(account_of_membership(paid), 50_000, today, "BROWSER-1")
    make_user("hospital", "rs_browser")
    page.goto(f"{live_server.url}/masuk/")
    page.fill("#id_username", "rs_browser")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/verifikasi/")
    page.fill("#id_nik", paid.worker.nik)
    page.click("main button.primary")
    page.get_by_test_id("verdict").wait_for()
    verdict = page.get_by_test_id("verdict")
    assert "YA" in verdict.inner_text()
    assert "verdict-yes" in verdict.get_attribute("class")
    assert page.get_by_test_id("state").inner_text().startswith("Aktif")
    page.fill("#id_nik", unpaid.worker.nik)
    page.click("main button.primary")
    page.locator("[data-testid=verdict]", has_text="TIDAK").wait_for()
    assert "Belum aktif" in page.get_by_test_id("state").inner_text()
    assert NikAccessLog.objects.filter(action="verify").count() == 2


def test_the_lookup_is_planned_once_per_connection_on_postgresql(clerk, self_payer):
    """sql.fetch_prepared: planning the five-table look-up cost four times running it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps prepared plans; SQLite caches its own statements")
    for _ in range(3):
        verify("membership", self_payer.number, D(2026, 5, 20))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%JOIN registry_worker w ON w.id = m.worker_id%"],
        )
        assert cursor.fetchone()[0] == 1
    # and it still answers from the ledger
    assert verify("membership", self_payer.number, D(2026, 5, 20)).state.state == "arrears"
