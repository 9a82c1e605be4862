"""The claims pages through Django's test client: who reaches which page, filing and the
hospital's first report, every fact and workflow form on its happy path, bad input shown on its
field with nothing written, maker-checker through the page, and the family's view."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from cakupan.claims.models import Claim, ClaimEvent, Incapacity, Instalment, Instruction, Party
from cakupan.claims.services import claim_approve, claim_file, claim_verify, party_add
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol
from cakupan.membership.models import Membership
from cakupan.registry.models import NikAccessLog

pytestmark = pytest.mark.django_db

D = dt.date
EVENT = D(2026, 11, 10)
SITI = {"bank_code": "014", "account_number": "0123456789", "account_name": "Siti Aminah"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _errors(response) -> dict[str, str]:
    """The field errors a form page shows: {field name: message}."""
    body = response.content.decode()
    return {
        m.group(1).rsplit("-", 1)[-1]: m.group(2)
        for m in re.finditer(r'<p class="error" id="err-([\w-]+)">([^<]*)</p>', body)
    }


def _writes(claim: Claim | None = None) -> tuple[int, ...]:
    """Everything a claim's form could write."""
    return (
        Claim.objects.count(),
        Party.objects.count(),
        Incapacity.objects.count(),
        ClaimEvent.objects.count(),
        Instalment.objects.count(),
        Instruction.objects.count(),
        claim.entitlements.count() if claim else 0,
    )


@pytest.fixture
def officers(make_user):
    return [make_user("bpjs_officer", f"petugas{n}") for n in range(3)]


@pytest.fixture
def paid40(malang):
    """A CSR-funded ojol driver with 40 paid months (07/2023 to 10/2026)."""
    member = csr_ojol("2023-07", name="Ahmad Fauzi")
    bill_and_pay(member, "2023-07", "2026-10")
    return member


@pytest.fixture
def young(malang):
    """A membership with two paid months: a claim on it computes, with no scholarship."""
    member = csr_ojol("2026-09", name="Joko Susilo")
    bill_and_pay(member, "2026-09", "2026-10")
    return member


def _jkm(member: Membership, user) -> Claim:
    return claim_file(claim_type="jkm", membership=member, event_date=EVENT, user=user)


# -- who reaches what --------------------------------------------------------------------------

ROLES = ["admin", "bpjs_officer", "city_officer", "sponsor", "hospital"]
OK, FORBIDDEN = 200, 403
PAGES = {
    "/klaim/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/baru/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/laporan-kecelakaan/": [OK, OK, FORBIDDEN, FORBIDDEN, OK],
    "/klaim/{id}/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/{id}/keluarga/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
    "/klaim/{id}/versi/1/": [OK, OK, OK, FORBIDDEN, FORBIDDEN],
}


def test_each_page_for_each_role(young, make_user):
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=None)
    for role in ROLES:
        client = _client(make_user(role))
        for page, expected in PAGES.items():
            response = client.get(page.format(id=claim.pk))
            assert response.status_code == expected[ROLES.index(role)], (role, page)


def test_every_post_is_refused_to_the_sponsor_and_the_hospital(young, make_user):
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=None)
    party = claim.parties.get()
    before = _writes(claim)
    posts = [
        "stmb/",
        "cacat/",
        "biaya/",
        "akibat/",
        "ahli-waris/",
        f"ahli-waris/{party.pk}/",
        "verifikasi/",
        "setujui/",
        "tolak/",
        "transfer/1/kirim-ulang/",
        "beasiswa/1/bukti/",
        f"beasiswa/anak/{party.pk}/berhenti/",
    ]
    for role in ("sponsor", "hospital"):
        client = _client(make_user(role))
        for post in posts:
            assert client.post(f"/klaim/{claim.pk}/{post}", {}).status_code == 403, (role, post)
        assert client.post("/klaim/baru/", {}).status_code == 403
    assert _writes(claim) == before


def test_the_navigation_names_claims_for_officers_and_the_report_for_the_hospital(make_user):
    officer = _client(make_user("bpjs_officer")).get("/klaim/").content.decode()
    assert 'href="/klaim/">Klaim</a>' in officer
    hospital = _client(make_user("hospital")).get("/verifikasi/").content.decode()
    assert 'href="/klaim/laporan-kecelakaan/">Laporan kecelakaan kerja</a>' in hospital
    assert 'href="/klaim/"' not in hospital


# -- the list ----------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_type_and_finds_by_number_name_or_membership(
    young, paid40, officers
):
    jkk = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=officers[0])
    jkm = _jkm(paid40, officers[0])
    claim_verify(claim=jkm, user=officers[1])
    client = _client(officers[2])

    def numbers(query: str) -> list[str]:
        body = client.get(f"/klaim/?{query}").content.decode()
        return re.findall(r"(JK[KM]-\d{4}-\d{6})</a>", body)

    assert numbers("") == [jkm.number, jkk.number]
    assert numbers("status=verified") == [jkm.number]
    assert numbers("type=jkk") == [jkk.number]
    assert numbers("q=ahmad") == [jkm.number]
    assert numbers(f"q={young.number}") == [jkk.number]
    assert numbers(f"q={jkk.number[-6:]}") == [jkk.number]
    assert numbers("q=nobody") == []
    body = client.get("/klaim/?type=jkm").content.decode()
    assert "Rp 42.000.000" in body  # the JKM cash, payable now


# -- filing ------------------------------------------------------------------------------------


def test_an_officer_files_a_jkm_claim_by_the_workers_nik(paid40, officers):
    client = _client(officers[0])
    response = client.post(
        "/klaim/baru/",
        {
            "lookup": paid40.worker.nik,
            "type": "jkm",
            "event_date": "10/11/2026",
            "place": "Rumah",
            "description": "Meninggal di rumah",
            "cause": "Serangan jantung",
        },
    )
    claim = Claim.objects.get()
    assert claim.cause == "Serangan jantung"
    assert response.status_code == 302 and response["Location"] == f"/klaim/{claim.pk}/"
    assert (claim.type, claim.event_date, claim.submitted_by) == ("jkm", EVENT, officers[0])
    detail = client.get(response["Location"]).content.decode()
    assert claim.number in detail and "Diajukan" in detail
    assert "Sebab kematian" in detail and "Serangan jantung" in detail
    assert "Rp 42.000.000" in detail and "Dapat dibayar sekarang" in detail
    # the officer may see the whole NIK, and that is logged
    assert paid40.worker.nik in detail
    assert NikAccessLog.objects.filter(action="view", worker=paid40.worker).exists()


def test_a_city_officer_sees_the_nik_whole_and_the_family_view_masks_it(paid40, make_user):
    claim = _jkm(paid40, None)
    nik = paid40.worker.nik
    client = _client(make_user("city_officer"))
    assert nik in client.get(f"/klaim/{claim.pk}/").content.decode()
    family = client.get(f"/klaim/{claim.pk}/keluarga/").content.decode()
    assert nik not in family and nik[:4] + "••••" in family


def test_a_worker_with_two_memberships_is_asked_which_one(paid40, officers):
    Membership.objects.create(
        worker=paid40.worker,
        category="pu",
        programmes=["jkk", "jkm"],
        declared_income=3_000_000,
        bracket=1,
        start_month=D(2024, 1, 1),
        number="PU-000000777",
    )
    client = _client(officers[0])
    data = {"lookup": paid40.worker.nik, "type": "jkm", "event_date": "10/11/2026"}
    response = client.post("/klaim/baru/", data)
    assert response.status_code == 422 and not Claim.objects.exists()
    body = response.content.decode()
    assert paid40.number in body and "PU-000000777" in body
    assert "Pilih kepesertaan" in _errors(response)["membership"]
    response = client.post("/klaim/baru/", {**data, "membership": str(paid40.pk)})
    assert response.status_code == 302
    assert Claim.objects.get().membership == paid40


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"event_date": "01/01/1980"}, "event_date", "sebelum pekerja lahir"),
        ({"event_date": "31/02/2026"}, "event_date", "DD/MM/YYYY"),
        ({"lookup": "BPU-999999999"}, "lookup", "BPU-999999999"),
        ({"type": ""}, "type", "Pilih jenis klaim"),
    ],
)
def test_a_bad_filing_shows_the_field_message_and_files_nothing(
    paid40, officers, data, field, text
):
    base = {"lookup": paid40.number, "type": "jkm", "event_date": "10/11/2026"}
    response = _client(officers[0]).post("/klaim/baru/", {**base, **data})
    assert response.status_code == 422
    assert text in _errors(response)[field]
    assert _writes() == (0, 0, 0, 0, 0, 0, 0)


def test_a_second_death_claim_is_refused_naming_the_first(paid40, officers):
    first = _jkm(paid40, officers[0])
    response = _client(officers[1]).post(
        "/klaim/baru/", {"lookup": paid40.number, "type": "jkm", "event_date": "11/11/2026"}
    )
    assert response.status_code == 422 and first.number in _errors(response)["event_date"]
    assert Claim.objects.count() == 1


# -- the hospital's first report ---------------------------------------------------------------


def test_the_hospital_reports_an_accident_and_gets_the_number_without_a_link(young, make_user):
    clerk = make_user("hospital")
    client = _client(clerk)
    today = timezone.localdate()
    form = client.get("/klaim/laporan-kecelakaan/").content.decode()
    assert today.strftime("%d/%m/%Y") in form  # the date defaults to today
    response = client.post(
        "/klaim/laporan-kecelakaan/",
        {
            "lookup": young.worker.nik,
            "event_date": "10/11/2026",
            "place": "Jl. Soekarno-Hatta",
            "description": "Terjatuh dari motor saat mengantar penumpang",
            "injuries": "Patah tulang lengan kiri",
            "hospital": "RSUD Kota Malang",
        },
    )
    assert response.status_code == 200
    claim = Claim.objects.get()
    assert (claim.type, claim.submitted_by, claim.hospital) == ("jkk", clerk, "RSUD Kota Malang")
    body = response.content.decode()
    assert claim.number in body and "Yang dilakukan keluarga selanjutnya" in body
    assert f"/klaim/{claim.pk}/" not in body  # the hospital does not open the claim
    # reaching a worker by NIK is logged, with no whole NIK shown
    log = NikAccessLog.objects.get(user=clerk)
    assert (log.worker, log.action, log.fields) == (young.worker, "search", "")
    assert young.worker.nik not in body.replace(f'value="{young.worker.nik}"', "")


def test_the_hospital_is_told_when_the_worker_was_not_protected(malang, make_user):
    lapsed = csr_ojol("2026-01", name="Rudi Hartono")
    bill_and_pay(
        lapsed, "2026-01", "2026-10", unpaid=("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
    )
    response = _client(make_user("hospital")).post(
        "/klaim/laporan-kecelakaan/",
        {
            "lookup": lapsed.number,
            "event_date": "10/11/2026",
            "description": "Tertabrak mobil",
            "injuries": "Luka kepala",
            "hospital": "RS Saiful Anwar",
        },
    )
    assert response.status_code == 422
    assert "tidak terlindungi" in _errors(response)["event_date"]
    assert not Claim.objects.exists()


def test_the_hospital_report_needs_what_happened(young, make_user):
    response = _client(make_user("hospital")).post(
        "/klaim/laporan-kecelakaan/",
        {"lookup": young.number, "event_date": "10/11/2026", "hospital": "RSUD"},
    )
    errors = _errors(response)
    assert response.status_code == 422 and {"description", "injuries"} <= set(errors)
    assert not Claim.objects.exists()


def test_the_verification_page_links_to_the_report_when_protected(young, make_user):
    body = (
        _client(make_user("hospital")).post("/verifikasi/", {"nik": young.worker.nik})
    ).content.decode()
    assert 'data-testid="report-accident"' in body and f"nomor={young.number}" in body


# -- the family --------------------------------------------------------------------------------


def test_heirs_and_a_child_through_the_forms_then_maker_checker(paid40, officers):
    a, b, c = (_client(o) for o in officers)
    claim = _jkm(paid40, officers[0])
    url = f"/klaim/{claim.pk}/"
    r = a.post(
        url + "ahli-waris/",
        {
            "party-full_name": "Siti Aminah",
            "party-relation": "spouse",
            "party-birth_date": "01/02/1990",
            "party-share_percent": "100",
            "party-bank_code": "014",
            "party-account_number": "0123 456 789",
            "party-account_name": "Siti Aminah",
            "party-working": "no",
        },
    )
    assert r.status_code == 302, _errors(r)
    r = a.post(
        url + "ahli-waris/",
        {
            "party-full_name": "Bima",
            "party-relation": "child",
            "party-birth_date": "01/03/2015",
            "party-share_percent": "0",
            "party-level": "tk_sd",
            "party-year_in_level": "6",
            "party-working": "no",
            "party-bank_code": "009",
            "party-account_number": "1234567890",
            "party-account_name": "Siti Aminah",
        },
    )
    assert r.status_code == 302, _errors(r)
    spouse, child = claim.parties.order_by("id")
    assert spouse.account_number == "0123456789" and child.level == "tk_sd"
    detail = a.get(url).content.decode()
    assert "menerima beasiswa" in detail and "2026/2027" in detail
    assert "Menunggu bukti terdaftar di sekolah" in detail
    # A verifies? No: A filed; verification is open to him, approval is not.
    r = b.post(url + "verifikasi/", {"verify-note": "Dokumen lengkap"})
    assert r.status_code == 302
    r = b.post(url + "setujui/", {})
    assert r.status_code == 422  # the verifier cannot approve
    assert "petugas lain" in r.content.decode()
    r = a.post(url + "setujui/", {})
    assert r.status_code == 422  # nor the submitter
    claim.refresh_from_db()
    assert claim.status == "verified" and not Instruction.objects.exists()
    r = c.post(url + "setujui/", {"approve-note": "OK"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.approved_by == officers[2]
    lump = Instruction.objects.filter(claim=claim, party=spouse, instalment=None)
    assert sum(i.amount for i in lump) == 42_000_000
    # the proof of enrolment for this school year: the instalment becomes payable
    instalment = Instalment.objects.get(child=child, start_year=2026)
    r = c.post(
        url + f"beasiswa/{instalment.pk}/bukti/",
        {
            f"proof{instalment.pk}-school": "SDN Kauman 1",
            f"proof{instalment.pk}-level": "tk_sd",
            f"proof{instalment.pk}-year_in_level": "6",
            f"proof{instalment.pk}-document": "421/SD/2026",
        },
    )
    assert r.status_code == 302, _errors(r)
    instalment.refresh_from_db()
    assert instalment.status == Instalment.Status.PAYABLE
    assert Instruction.objects.filter(instalment=instalment, party=child).count() == 1
    detail = c.get(url).content.decode()
    assert "Dapat dibayar" in detail and "SDN Kauman 1" in detail
    # a later school year takes its proof only from two months before it starts
    later = Instalment.objects.get(child=child, start_year=2027)
    assert f"proof{later.pk}-school" not in detail
    # each instruction says what it pays, in words
    paid_for = detail.split('data-testid="instructions"')[1]
    assert "Santunan sekaligus" in paid_for and "Beasiswa 2026/2027" in paid_for
    assert "lump_sum" not in paid_for
    history = detail.split('data-testid="audit"')[1]
    for label in ("Klaim diajukan", "Ahli waris ditambahkan", "Diverifikasi", "Disetujui"):
        assert label in history


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        (
            {"party-share_percent": "50"},
            "share_percent",
            "110%; semuanya paling banyak 100%. Turunkan bagian ini menjadi 40%",
        ),
        (
            {"party-account_number": "12345"},
            "account_number",
            "BCA terdiri dari 10 angka; yang ini 5",
        ),
        ({"party-bank_code": "014", "party-account_name": ""}, "account_name", ""),
        ({"party-birth_date": "01/01/2099"}, "birth_date", ""),
        (
            {"party-relation": "child", "party-level": "smp", "party-year_in_level": "70000"},
            "year_in_level",
            "terlalu besar",
        ),
        ({"party-relation": "child", "party-birth_date": ""}, "birth_date", "beasiswa"),
    ],
)
def test_a_bad_heir_shows_the_field_message_and_writes_nothing(paid40, officers, data, field, text):
    claim = _jkm(paid40, officers[0])
    party_add(claim=claim, user=None, full_name="Siti", relation="spouse", share_percent=60)
    before = _writes(claim)
    heir = {
        "party-full_name": "Ahmad",
        "party-relation": "sibling",
        "party-share_percent": "30",
        "party-bank_code": "014",
        "party-account_number": "0123456789",
        "party-account_name": "Ahmad",
        "party-working": "no",
    }
    response = _client(officers[0]).post(f"/klaim/{claim.pk}/ahli-waris/", {**heir, **data})
    assert response.status_code == 422
    errors = _errors(response)
    assert field in errors and text in errors[field], errors
    assert _writes(claim) == before
    assert "<details open><summary>Tambah ahli waris atau anak" in response.content.decode()


def test_changing_an_heirs_account_is_audited_before_and_after(paid40, officers):
    claim = _jkm(paid40, officers[0])
    siti = party_add(
        claim=claim, user=None, full_name="Siti", relation="spouse", share_percent=100, **SITI
    )
    prefix = f"party{siti.pk}"
    response = _client(officers[0]).post(
        f"/klaim/{claim.pk}/ahli-waris/{siti.pk}/",
        {
            f"{prefix}-full_name": "Siti",
            f"{prefix}-relation": "spouse",
            f"{prefix}-share_percent": "100",
            f"{prefix}-bank_code": "009",
            f"{prefix}-account_number": "9876543210",
            f"{prefix}-account_name": "Siti",
            f"{prefix}-working": "no",
        },
    )
    assert response.status_code == 302
    siti.refresh_from_db()
    assert (siti.bank_code, siti.account_number, siti.account_name) == ("009", "9876543210", "Siti")
    change = ClaimEvent.objects.get(claim=claim, action="party_changed")
    assert change.before["account_number"] == "0123456789"
    assert change.after["account_number"] == "9876543210"


# -- a work accident's facts -------------------------------------------------------------------


def test_the_facts_of_a_work_accident_through_the_forms(young, officers):
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=officers[0])
    client = _client(officers[0])
    url = f"/klaim/{claim.pk}/"
    steps = [
        ("stmb/", {"incapacity-months": "1", "incapacity-days": "5"}),
        (
            "biaya/",
            {
                "cost-kind": "medical",
                "cost-amount": "Rp 2.500.000",
                "cost-incurred_on": "12/11/2026",
            },
        ),
        (
            "biaya/",
            {
                "cost-kind": "transport",
                "cost-mode": "land",
                "cost-amount": "150.000",
                "cost-incurred_on": "10/11/2026",
            },
        ),
        (
            "cacat/",
            {"assessment-item": "eye_one", "assessment-assessed_on": "20/11/2026"},
        ),
        ("akibat/", {"outcome-recovered_on": "25/11/2026"}),
    ]
    for path, data in steps:
        response = client.post(url + path, data)
        assert response.status_code == 302, (path, _errors(response))
    claim.refresh_from_db()
    assert claim.recovered_on == D(2026, 11, 25)
    assert claim.incapacities.get().months == 1
    assert sorted(claim.costs.values_list("amount", flat=True)) == [150_000, 2_500_000]
    assert claim.assessments.get().item == "eye_one"
    actions = list(claim.events.values_list("action", flat=True))
    for action in (
        "incapacity_reported",
        "cost_recorded",
        "disability_assessed",
        "outcome_recorded",
    ):
        assert action in actions
    assert claim.entitlements.count() >= 2
    body = client.get(url).content.decode()
    assert "Satu mata" in body and "Rp 2.500.000" in body
    # an earlier version stays readable
    first = client.get(url + "versi/1/").content.decode()
    assert "Perhitungan sebelumnya" in first and "perhitungan 1" in first


@pytest.mark.parametrize(
    ("path", "data", "field", "text"),
    [
        ("stmb/", {"incapacity-months": "-2"}, "months", "negatif"),
        ("stmb/", {"incapacity-months": "99999"}, "months", "terlalu besar"),
        ("stmb/", {"incapacity-first_day": "12/11/2026"}, "last_day", ""),
        ("stmb/", {"incapacity-months": "0", "incapacity-days": "40"}, "days", "31"),
        (
            "biaya/",
            {"cost-kind": "medical", "cost-amount": "abc", "cost-incurred_on": "12/11/2026"},
            "amount",
            "abc",
        ),
        (
            "biaya/",
            {"cost-kind": "transport", "cost-amount": "100000", "cost-incurred_on": "12/11/2026"},
            "mode",
            "",
        ),
        (
            "biaya/",
            {"cost-kind": "medical", "cost-amount": "100000", "cost-incurred_on": "01/01/2026"},
            "incurred_on",
            "10/11/2026",
        ),
        ("akibat/", {"outcome-death_date": "01/11/2026"}, "death_date", "10/11/2026"),
    ],
)
def test_a_bad_fact_shows_the_field_message_and_writes_nothing(
    young, officers, path, data, field, text
):
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=officers[0])
    before = _writes(claim)
    response = _client(officers[0]).post(f"/klaim/{claim.pk}/{path}", data)
    assert response.status_code == 422
    errors = _errors(response)
    assert field in errors and text in errors[field], errors
    assert _writes(claim) == before
    claim.refresh_from_db()
    assert claim.death_date is None


def test_the_facts_forms_are_not_offered_on_a_death_claim(paid40, officers):
    claim = _jkm(paid40, officers[0])
    body = _client(officers[0]).get(f"/klaim/{claim.pk}/").content.decode()
    assert 'data-testid="incapacity-form"' not in body and 'data-testid="party-form"' in body


# -- workflow ----------------------------------------------------------------------------------


def test_a_rejection_needs_a_coded_reason_and_shows_it(young, officers):
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=officers[0])
    client = _client(officers[1])
    response = client.post(f"/klaim/{claim.pk}/tolak/", {"reject-note": "?"})
    assert response.status_code == 422 and "Pilih alasan" in _errors(response)["code"]
    claim.refresh_from_db()
    assert claim.status == "submitted"
    response = client.post(
        f"/klaim/{claim.pk}/tolak/", {"reject-code": "not_at_work", "reject-note": "Di rumah"}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.reject_code) == ("rejected", "not_at_work")
    body = client.get(f"/klaim/{claim.pk}/").content.decode()
    rejected = body.split('data-testid="rejected">')[1].split("</dd>")[0]
    assert rejected.endswith(": Di rumah") and "not_at_work" not in rejected
    assert 'data-testid="party-form"' not in body  # a rejected claim takes no more facts


def test_a_city_officer_files_but_cannot_verify_or_approve(young, make_user):
    city = make_user("city_officer")
    claim = claim_file(claim_type="jkk", membership=young, event_date=EVENT, user=city)
    client = _client(city)
    assert client.post(f"/klaim/{claim.pk}/verifikasi/", {}).status_code == 403
    assert client.post(f"/klaim/{claim.pk}/setujui/", {}).status_code == 403
    assert client.post(f"/klaim/{claim.pk}/tolak/", {"reject-code": "duplicate"}).status_code == 403
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_the_family_view_is_plain_and_has_no_audit(paid40, officers):
    claim = _jkm(paid40, officers[0])
    party_add(claim=claim, user=None, full_name="Siti Aminah", relation="spouse", share_percent=100)
    page = _client(officers[1]).get(f"/klaim/{claim.pk}/keluarga/").content.decode()
    body = page.split("<main>")[1]
    assert claim.number in body
    assert re.search(r'data-testid="family-total"><strong>Rp 42\.000\.000<', body)
    assert "Rekening bank atas nama Siti Aminah" in body  # what is still needed
    assert paid40.worker.nik not in body and paid40.worker.nik[:4] + "••••" in body
    assert 'data-testid="audit"' not in body and "petugas0" not in body and "Riwayat" not in body


# -- scholarships and transfers ----------------------------------------------------------------


def _approved_with_child(member, officers) -> tuple[Claim, Party, Party]:
    claim = _jkm(member, officers[0])
    spouse = party_add(
        claim=claim, user=None, full_name="Siti", relation="spouse", share_percent=100, **SITI
    )
    child = party_add(
        claim=claim,
        user=None,
        full_name="Bima",
        relation="child",
        birth_date=D(2015, 3, 1),
        level="tk_sd",
        year_in_level=6,
        **SITI,
    )
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    return claim, spouse, child


def test_a_proof_for_the_wrong_level_is_refused_on_the_level(paid40, officers):
    claim, _spouse, child = _approved_with_child(paid40, officers)
    instalment = Instalment.objects.get(child=child, start_year=2026)
    before = _writes(claim)
    key = f"proof{instalment.pk}"
    response = _client(officers[0]).post(
        f"/klaim/{claim.pk}/beasiswa/{instalment.pk}/bukti/",
        {
            f"{key}-school": "SMPN 3",
            f"{key}-level": "smp",
            f"{key}-year_in_level": "1",
            f"{key}-document": "1/2026",
        },
    )
    assert response.status_code == 422
    assert "TK_SD tahun ke-6" in _errors(response)["level"]
    assert _writes(claim) == before
    instalment.refresh_from_db()
    assert instalment.status == Instalment.Status.AWAITING_PROOF


def test_stopping_a_scholarship_keeps_the_allowed_work_and_stops_on_marriage(paid40, officers):
    claim, _spouse, child = _approved_with_child(paid40, officers)
    client = _client(officers[0])
    url = f"/klaim/{claim.pk}/beasiswa/anak/{child.pk}/berhenti/"
    key = f"stop{child.pk}"
    response = client.post(
        url,
        {f"{key}-reason": "working", f"{key}-work": "intern", f"{key}-stopped_on": "20/11/2026"},
    )
    assert response.status_code == 422 and "beasiswa tidak dihentikan" in _errors(response)["work"]
    child.refresh_from_db()
    assert child.stopped_on is None
    response = client.post(url, {f"{key}-reason": "married", f"{key}-stopped_on": "20/11/2026"})
    assert response.status_code == 302
    later = Instalment.objects.get(child=child, start_year=2027)
    assert (later.status, later.stop_reason) == (Instalment.Status.STOPPED, "married")
    body = client.get(f"/klaim/{claim.pk}/").content.decode()
    assert "Anak menikah" in body


def test_a_failed_transfer_is_sent_again_only_to_a_corrected_account(paid40, officers):
    claim, spouse, _child = _approved_with_child(paid40, officers)
    failed = Instruction.objects.filter(party=spouse).first()
    Instruction.objects.filter(pk=failed.pk).update(
        status=Instruction.Status.FAILED, failure="Rekening tidak ditemukan"
    )
    client = _client(officers[0])
    count = Instruction.objects.count()
    url = f"/klaim/{claim.pk}/transfer/{failed.pk}/kirim-ulang/"
    response = client.post(url, follow=True)
    assert "Rekening tidak ditemukan" in response.content.decode()  # the same account: refused
    assert Instruction.objects.count() == count
    prefix = f"party{spouse.pk}"
    client.post(
        f"/klaim/{claim.pk}/ahli-waris/{spouse.pk}/",
        {
            f"{prefix}-full_name": "Siti",
            f"{prefix}-relation": "spouse",
            f"{prefix}-share_percent": "100",
            f"{prefix}-bank_code": "009",
            f"{prefix}-account_number": "9876543210",
            f"{prefix}-account_name": "Siti",
            f"{prefix}-working": "no",
        },
    )
    response = client.post(url)
    assert response.status_code == 302
    new = Instruction.objects.order_by("-id").first()
    assert (new.amount, new.account_number, new.line_code) == (
        failed.amount,
        "9876543210",
        failed.line_code,
    )
    assert "Kirim ulang" not in client.get(f"/klaim/{claim.pk}/").content.decode()
    # once more (a double click, an old tab): refused, the amount is not sent twice
    response = client.post(url, follow=True)
    assert "sudah dikirim ulang" in response.content.decode()
    assert Instruction.objects.filter(line_code=failed.line_code, party=spouse).count() == 2


def test_approval_without_the_heirs_accounts_is_refused_with_the_names(paid40, officers):
    claim = _jkm(paid40, officers[0])
    party_add(claim=claim, user=None, full_name="Siti", relation="spouse", share_percent=100)
    claim_verify(claim=claim, user=officers[1])
    response = _client(officers[2]).post(f"/klaim/{claim.pk}/setujui/", {})
    assert response.status_code == 422
    assert "Tambahkan rekening bank Siti" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "verified" and not Instruction.objects.exists()


def test_the_family_is_told_which_unpaid_months_hold_the_cash(malang, officers):
    late = csr_ojol("2026-05", name="Rudi Hartono")
    bill_and_pay(late, "2026-05", "2026-10", unpaid=("2026-09", "2026-10"))
    claim = _jkm(late, officers[0])
    body = _client(officers[0]).get(f"/klaim/{claim.pk}/keluarga/").content.decode()
    held = body.split('data-testid="family-held"')[1].split("</section>")[0]
    assert "Santunan sekaligus" in held and "Biaya pemakaman" not in held
    assert "September 2026, Oktober 2026 belum dibayar" in held
    paid = body.split('data-testid="family-paid"')[1].split("</section>")[0]
    assert "Biaya pemakaman" in paid and "Rp 10.000.000" in paid
    needs = body.split('data-testid="family-needs"')[1].split("</section>")[0]
    assert "Iuran bulan September 2026, Oktober 2026" in needs


def test_the_detail_page_in_english_shows_the_engines_english_text(paid40, officers):
    from django.conf import settings

    claim = _jkm(paid40, officers[0])
    client = _client(officers[0])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(f"/klaim/{claim.pk}/").content.decode()
    assert '<html lang="en">' in body
    assert "Can be paid now" in body and "Rp 42,000,000" in body
    assert "Santunan sekaligus" not in body and "Kejadian dalam masa" not in body
