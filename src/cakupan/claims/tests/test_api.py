"""The claims API, per role and through its workflow: the hospital may only file the first
report, a sponsor nothing; bad input is a 422 naming the field; the submitter cannot approve;
the JKM golden case (40 paid months: Rp 42,000,000 and two children receiving) and the release
of cash held for arrears, both driven through the API; a claim filed and read back over HTTP
on a running server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from cakupan.claims.models import Claim, ClaimEvent, Instalment, Instruction
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol
from cakupan.contributions.models import Bill

pytestmark = pytest.mark.django_db

D = dt.date
BASE = "/api/v1/claims"
SITI = {
    "full_name": "Siti Aminah",
    "relation": "spouse",
    "share_percent": 100,
    "bank_code": "014",
    "account_number": "0123456789",
    "account_name": "Siti Aminah",
}
CHILDREN = (
    {"full_name": "Ani", "relation": "child", "birth_date": "2012-05-01", "level": "smp"},
    {"full_name": "Bima", "relation": "child", "birth_date": "2015-03-01", "level": "tk_sd"},
)


@pytest.fixture
def client_for(make_user):
    """A test client sending a bearer token of a new user (role, name)."""
    from cakupan.accounts.services import token_create

    def make(role: str, name: str) -> Client:
        user = make_user(role, username=name)
        _t, key = token_create(user=user)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        client.user = user
        return client

    return make


@pytest.fixture
def officers(client_for):
    return [client_for("bpjs_officer", f"petugas{n}") for n in range(3)]


def post(client: Client, path: str, body: dict):
    return client.post(BASE + path, json.dumps(body), content_type="application/json")


def patch(client: Client, path: str, body: dict):
    return client.patch(BASE + path, json.dumps(body), content_type="application/json")


def problem(response) -> tuple[list, str]:
    """(loc, type) of a 422's first problem."""
    assert response.status_code == 422, response.content[:400]
    first = response.json()["detail"][0]
    return first["loc"], first["type"]


@pytest.fixture
def jkm_member(malang):
    """A CSR-funded driver with 40 months paid (2023-07 to 2026-10)."""
    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    return member


@pytest.fixture
def jkk_member(malang):
    member = csr_ojol("2026-05")
    bill_and_pay(member, "2026-05", "2026-10")
    return member


def file_jkm(client: Client, member) -> dict:
    r = post(
        client,
        "",
        {"membership": member.number, "type": "jkm", "event_date": "2026-11-10"},
    )
    assert r.status_code == 201, r.content[:400]
    return r.json()


def file_jkk(client: Client, member) -> dict:
    r = post(
        client,
        "",
        {
            "nik": member.worker.nik,
            "type": "jkk",
            "event_date": "2026-11-10",
            "place": "Jl. Soekarno-Hatta",
            "description": "Jatuh dari motor saat mengantar",
        },
    )
    assert r.status_code == 201, r.content[:400]
    return r.json()


def cash(entitlement: dict) -> int:
    return sum(
        x["amount"] or 0 for x in entitlement["lines"] if not x["code"].startswith("scholarship_")
    )


# -- roles -------------------------------------------------------------------------------------


def test_the_hospital_files_the_first_report_and_is_refused_everything_else(
    client_for, officers, jkk_member
):
    hospital = client_for("hospital", "rs_saiful")
    r = post(
        hospital,
        "/accident-reports",
        {
            "membership": jkk_member.number,
            "event_date": "2026-11-20",
            "description": "Terjatuh dari motor",
            "injuries": "Patah tulang lengan kiri",
            "hospital": "RSUD Saiful Anwar",
        },
    )
    assert r.status_code == 201, r.content
    assert list(r.json()) == ["number"]
    number = r.json()["number"]
    claim = Claim.objects.get(number=number)
    assert (claim.type, claim.hospital, claim.submitted_by) == (
        "jkk",
        "RSUD Saiful Anwar",
        hospital.user,
    )
    other = file_jkm(officers[0], csr_ojol("2026-05", name="Joko"))["number"]
    refused = [
        hospital.get(BASE),
        hospital.get(f"{BASE}/{number}"),
        hospital.get(f"{BASE}/{number}/versions"),
        hospital.get(f"{BASE}/{number}/events"),
        hospital.get(f"{BASE}/scholarships/due"),
        post(hospital, "", {"membership": jkk_member.number, "type": "jkm"}),
        post(hospital, f"/{number}/incapacities", {"months": 1}),
        post(hospital, f"/{number}/costs", {"kind": "medical"}),
        post(hospital, f"/{number}/outcome", {}),
        post(hospital, f"/{other}/parties", SITI),
        post(hospital, f"/{number}/verification", {}),
        post(hospital, f"/{number}/approval", {}),
        post(hospital, f"/{number}/rejection", {"code": "false_report"}),
        post(hospital, f"/{number}/instalments/1/proof", {}),
    ]
    assert [x.status_code for x in refused] == [403] * len(refused)
    # refused before the body was read: even a body that is not an object is a 403
    bad = hospital.post(f"{BASE}/{number}/incapacities", "[]", content_type="application/json")
    assert bad.status_code == 403
    assert Claim.objects.get(number=number).incapacities.count() == 0


def test_a_sponsor_is_refused_every_claim_operation(client_for, jkm_member, officers):
    sponsor = client_for("sponsor", "csr_x")
    number = file_jkm(officers[0], jkm_member)["number"]
    calls = [
        sponsor.get(BASE),
        sponsor.get(f"{BASE}/{number}"),
        post(sponsor, "", {"membership": jkm_member.number, "type": "jkm"}),
        post(sponsor, "/accident-reports", {}),
        post(sponsor, f"/{number}/parties", SITI),
        post(sponsor, f"/{number}/verification", {}),
    ]
    assert [x.status_code for x in calls] == [403] * len(calls)
    assert not Claim.objects.get(number=number).parties.exists()


def test_a_city_officer_files_and_reads_but_cannot_verify_or_approve(client_for, jkm_member):
    city = client_for("city_officer", "disnaker")
    number = file_jkm(city, jkm_member)["number"]
    assert city.get(f"{BASE}/{number}").status_code == 200
    assert post(city, f"/{number}/verification", {}).status_code == 403
    assert post(city, f"/{number}/approval", {}).status_code == 403
    assert Claim.objects.get(number=number).status == "submitted"


def test_the_hospital_cannot_report_for_a_worker_not_protected(client_for, malang):
    lapsed = csr_ojol("2026-03")
    bill_and_pay(lapsed, "2026-03", "2026-10", unpaid=("2026-07", "2026-08", "2026-09", "2026-10"))
    hospital = client_for("hospital", "rs_lavalette")
    r = post(
        hospital,
        "/accident-reports",
        {
            "nik": lapsed.worker.nik,
            "event_date": "2026-11-20",
            "description": "Terjatuh",
            "injuries": "Memar",
            "hospital": "RS Lavalette",
        },
    )
    assert problem(r) == (["body", "event_date"], "not_protected")
    assert "kantor BPJS" in r.json()["detail"][0]["msg"]
    assert not Claim.objects.exists()


# -- bad input: 422 naming the field -----------------------------------------------------------


def test_an_event_before_birth_or_in_the_future_names_the_event_date(officers, jkm_member):
    born = jkm_member.worker.birth_date
    for day, code in (
        (born - dt.timedelta(days=1), "event_before_birth"),
        (dt.date.today() + dt.timedelta(days=3), "event_in_future"),
    ):
        r = post(
            officers[0],
            "",
            {"membership": jkm_member.number, "type": "jkm", "event_date": day.isoformat()},
        )
        assert problem(r) == (["body", "event_date"], code)
    r = post(officers[0], "", {"nik": "12345", "type": "jkm", "event_date": "2026-11-10"})
    assert problem(r) == (["body", "nik"], "nik_invalid")
    assert not Claim.objects.exists()


def test_bad_facts_are_422_naming_the_field_and_change_nothing(officers, jkk_member):
    number = file_jkk(officers[0], jkk_member)["number"]
    officer = officers[0]
    cases = [
        ("/incapacities", {"months": -2}, "months", "negative"),
        (
            "/assessments",
            {"item": "arm_left", "assessed_on": "2026-11-25", "function_loss_percent": 120},
            "function_loss_percent",
            "above_maximum",
        ),
        ("/costs", {"kind": "medical", "amount": 0, "incurred_on": "2026-11-12"}, "amount", None),
        ("/outcome", {"death_date": "2026-11-01"}, "death_date", "date_before_event"),
    ]
    for path, body, field, code in cases:
        loc, kind = problem(post(officer, f"/{number}{path}", body))
        assert loc == ["body", field], (path, loc)
        if code:
            assert kind == code
    claim = Claim.objects.get(number=number)
    assert claim.entitlements.count() == 1
    assert not (claim.incapacities.exists() or claim.assessments.exists() or claim.costs.exists())
    assert claim.death_date is None


def test_heirs_shares_over_100_and_a_bank_account_in_the_wrong_shape_are_refused(
    officers, jkm_member
):
    number = file_jkm(officers[0], jkm_member)["number"]
    officer = officers[0]
    assert post(officer, f"/{number}/parties", {**SITI, "share_percent": 70}).status_code == 201
    r = post(
        officer,
        f"/{number}/parties",
        {"full_name": "Pak Darto", "relation": "parent", "share_percent": 40},
    )
    assert problem(r) == (["body", "share_percent"], "shares_over_100")
    assert "30%" in r.json()["detail"][0]["msg"]
    # a BCA account has 10 digits
    r = post(
        officer,
        f"/{number}/parties",
        {**SITI, "full_name": "Pak Darto", "share_percent": 30, "account_number": "12345"},
    )
    assert problem(r) == (["body", "account_number"], "account_length")
    r = post(
        officer,
        f"/{number}/parties",
        {**SITI, "full_name": "Pak Darto", "share_percent": 30, "account_number": "12AB567890"},
    )
    assert problem(r) == (["body", "account_number"], "account_not_digits")
    party = Claim.objects.get(number=number).parties.get()
    r = patch(officer, f"/{number}/parties/{party.pk}", {"bank_code": "999"})
    assert problem(r) == (["body", "bank_code"], "unknown_bank")
    party.refresh_from_db()
    assert (party.full_name, party.bank_code) == ("Siti Aminah", "014")


def test_the_submitter_and_the_verifier_cannot_approve(officers, jkm_member):
    number = file_jkm(officers[0], jkm_member)["number"]
    assert post(officers[0], f"/{number}/parties", SITI).status_code == 201
    # not verified yet: the step is not open
    assert problem(post(officers[2], f"/{number}/approval", {})) == (["body"], "wrong_status")
    assert post(officers[1], f"/{number}/verification", {}).json()["status"] == "verified"
    for who in (officers[0], officers[1]):
        r = post(who, f"/{number}/approval", {"note": "setuju"})
        assert problem(r) == (["body"], "same_officer")
    assert Claim.objects.get(number=number).status == "verified"
    r = post(officers[2], f"/{number}/approval", {})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["approved_by"]) == ("approved", "petugas2")
    events = officers[2].get(f"{BASE}/{number}/events").json()
    assert [
        e["action"] for e in events if e["action"] in ("submitted", "verified", "approved")
    ] == [
        "submitted",
        "verified",
        "approved",
    ]
    assert [e["user"] for e in events if e["action"] == "approved"] == ["petugas2"]


def test_a_rejection_needs_a_known_reason_and_closes_the_claim(officers, jkm_member):
    number = file_jkm(officers[0], jkm_member)["number"]
    r = post(officers[1], f"/{number}/rejection", {"code": "bosan"})
    assert problem(r) == (["body", "code"], "unknown_reason")
    r = post(officers[1], f"/{number}/rejection", {"code": "withdrawn", "note": "keluarga"})
    assert (r.status_code, r.json()["status"], r.json()["reject_code"]) == (
        200,
        "rejected",
        "withdrawn",
    )
    assert problem(post(officers[0], f"/{number}/parties", SITI))[1] == "claim_closed"


# -- reads -------------------------------------------------------------------------------------


def test_the_list_filters_by_status_type_and_number_and_pages(officers, jkm_member, jkk_member):
    jkm = file_jkm(officers[0], jkm_member)["number"]
    jkk = file_jkk(officers[0], jkk_member)["number"]
    post(officers[1], f"/{jkk}/verification", {})
    everything = officers[0].get(BASE).json()
    assert everything["count"] == 2 and [c["number"] for c in everything["items"]] == [jkk, jkm]
    assert [c["number"] for c in officers[0].get(BASE + "?type=jkm").json()["items"]] == [jkm]
    verified = officers[0].get(BASE + "?status=verified").json()
    assert [c["number"] for c in verified["items"]] == [jkk]
    found = officers[0].get(BASE + "?number=" + jkm[-6:].lower()).json()
    assert [c["number"] for c in found["items"]] == [jkm]
    page = officers[0].get(BASE + "?limit=1&offset=1").json()
    assert (page["count"], [c["number"] for c in page["items"]]) == (2, [jkm])
    assert officers[0].get(f"{BASE}/JKM-1900-999999").status_code == 404


def test_personal_data_is_masked_for_a_role_without_the_right(officers, jkm_member, make_user):
    from django.contrib.auth.models import Permission
    from django.core.cache import cache

    from cakupan.accounts.services import token_create

    number = file_jkm(officers[0], jkm_member)["number"]
    post(officers[0], f"/{number}/parties", SITI)
    # an administrator-made grant: a sponsor's user allowed to view claims, not whole NIKs
    viewer = make_user("sponsor", username="pemantau")
    viewer.user_permissions.add(Permission.objects.get(codename="view_claim"))
    cache.clear()  # the role backend keeps grants for a minute
    _t, key = token_create(user=viewer)
    seen = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"{BASE}/{number}")
    whole = officers[0].get(f"{BASE}/{number}").json()
    assert whole["parties"][0]["account_number"] == "0123456789"
    assert whole["worker"]["nik"] == jkm_member.worker.nik
    assert seen.status_code == 200, seen.content[:300]
    shown = seen.json()
    assert shown["parties"][0]["account_number"] == "••••••6789"
    assert shown["parties"][0]["account_masked"]
    assert shown["worker"]["nik_masked"] and "•" in shown["worker"]["nik"]
    assert jkm_member.worker.nik not in seen.content.decode()


# -- golden cases through the API --------------------------------------------------------------


def test_jkm_after_40_paid_months_owes_42_million_and_two_children_receive(officers, jkm_member):
    number = file_jkm(officers[0], jkm_member)["number"]
    assert post(officers[0], f"/{number}/parties", SITI).status_code == 201
    for child, year in zip(CHILDREN, (2, 6), strict=True):
        r = post(officers[0], f"/{number}/parties", {**child, "year_in_level": year})
        assert r.status_code == 201, r.content
    claim = officers[0].get(f"{BASE}/{number}").json()
    entitlement = claim["entitlement"]
    assert entitlement["outcome"] == "payable"
    assert entitlement["eligibility"]["contribution_months"] == 40
    assert cash(entitlement) == 42_000_000
    assert {x["code"]: x["state"] for x in entitlement["lines"]}["lump_sum"] == "now"
    children = entitlement["scholarship_children"]
    assert [(c["name"], c["eligible"]) for c in children] == [("Ani", True), ("Bima", True)]
    assert {i["child"] for i in claim["instalments"] if i["start_year"] == 2026} == {"Ani", "Bima"}
    # each child changed the result: a new version, the earlier ones kept (the spouse did not)
    versions = officers[0].get(f"{BASE}/{number}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    first = officers[0].get(f"{BASE}/{number}/versions/1").json()
    assert first["eligibility"]["outcome"] == "payable" and first["scholarship_children"] == []
    assert officers[0].get(f"{BASE}/{number}/versions/9").status_code == 404


def test_a_child_left_out_of_the_scholarship_carries_the_engines_reason(officers, malang):
    member = csr_ojol("2025-03")
    bill_and_pay(member, "2025-03", "2026-10")  # 20 months: a JKM scholarship needs 36
    number = file_jkm(officers[0], member)["number"]
    post(officers[0], f"/{number}/parties", {**CHILDREN[0], "year_in_level": 2})
    entitlement = officers[0].get(f"{BASE}/{number}").json()["entitlement"]
    assert cash(entitlement) == 42_000_000
    (child,) = entitlement["scholarship_children"]
    assert (child["name"], child["eligible"]) == ("Ani", False)
    assert [r["code"] for r in child["reasons"]] == ["min_contribution"]
    assert "20" in child["reasons"][0]["message"] and child["reasons"][0]["message_en"]
    assert officers[0].get(f"{BASE}/{number}").json()["instalments"] == []


def test_cash_held_for_arrears_is_released_when_the_arrears_are_paid(officers, client_for, malang):
    member = csr_ojol("2026-05")
    bill_and_pay(member, "2026-05", "2026-10", unpaid=("2026-09", "2026-10"))
    number = file_jkm(officers[0], member)["number"]
    post(officers[0], f"/{number}/parties", SITI)
    held = officers[0].get(f"{BASE}/{number}").json()["entitlement"]
    assert held["outcome"] == "hold"
    assert held["eligibility"]["arrears"] == ["2026-09", "2026-10"]
    assert (held["total_now"], held["total_held"]) == (10_000_000, 32_000_000)
    assert {x["code"]: x["state"] for x in held["lines"]}["lump_sum"] == "held"
    post(officers[1], f"/{number}/verification", {})
    approved = post(officers[2], f"/{number}/approval", {}).json()
    assert [(i["line_code"], i["amount"]) for i in approved["instructions"]] == [
        ("funeral", 10_000_000)
    ]
    # the sponsor pays the two months through the payments API
    sponsor = member.fundings.first().programme.sponsor
    owed = sum(
        Bill.objects.filter(
            membership=member, month__in=[D(2026, 9, 1), D(2026, 10, 1)], voided_at__isnull=True
        ).values_list("amount", flat=True)
    )
    r = officers[0].post(
        "/api/v1/payments",
        json.dumps(
            {
                "reference": "TRF-TUNGGAKAN",
                "amount": owed,
                "paid_on": "2026-11-25",
                "payer": sponsor.name,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content[:400]
    released = officers[0].get(f"{BASE}/{number}").json()
    assert released["released_on"] == "2026-11-25"
    assert released["status"] == "approved"
    assert sorted((i["line_code"], i["amount"]) for i in released["instructions"]) == [
        ("funeral", 10_000_000),
        ("lump_sum", 20_000_000),
        ("periodic", 12_000_000),
    ]
    assert {x["code"]: x["state"] for x in released["entitlement"]["lines"]}["lump_sum"] == "now"
    assert ClaimEvent.objects.filter(claim__number=number, action="approved_carried").exists()


def test_jkk_facts_outcome_and_a_changed_party_recompute_through_the_api(officers, jkk_member):
    number = file_jkk(officers[0], jkk_member)["number"]
    r = post(officers[0], f"/{number}/incapacities", {"months": 2})
    assert r.status_code == 201
    assert {x["code"]: x["amount"] for x in r.json()["entitlement"]["lines"]}[
        "stmb_phase_1"
    ] == 2_000_000
    r = post(
        officers[0],
        f"/{number}/costs",
        {"kind": "transport", "mode": "land", "amount": 500_000, "incurred_on": "2026-11-10"},
    )
    assert r.status_code == 201 and r.json()["costs"][0]["amount"] == 500_000
    r = post(officers[0], f"/{number}/outcome", {"recovered_on": "2026-11-30"})
    assert r.status_code == 200 and r.json()["recovered_on"] == "2026-11-30"
    worker = r.json()["parties"][0]
    assert (worker["role"], worker["share_percent"]) == ("worker", 100)
    r = patch(
        officers[0],
        f"/{number}/parties/{worker['id']}",
        {"bank_code": "002", "account_number": "1234 5678 9012 345", "account_name": "Budi"},
    )
    assert r.status_code == 200 and r.json()["account_number"] == "123456789012345"
    events = [e["action"] for e in officers[0].get(f"{BASE}/{number}/events").json()]
    assert "party_changed" in events and "outcome_recorded" in events


def test_proof_of_enrolment_and_a_stopped_scholarship_through_the_api(
    officers, client_for, jkm_member
):
    city = client_for("city_officer", "disnaker")
    number = file_jkm(officers[0], jkm_member)["number"]
    post(officers[0], f"/{number}/parties", {**SITI, "share_percent": 100})
    ani = post(
        officers[0],
        f"/{number}/parties",
        {
            **CHILDREN[0],
            "year_in_level": 2,
            "bank_code": "014",
            "account_number": "1111222233",
            "account_name": "Siti Aminah",
        },
    ).json()
    bima = post(officers[0], f"/{number}/parties", {**CHILDREN[1], "year_in_level": 6}).json()
    post(officers[1], f"/{number}/verification", {})
    post(officers[2], f"/{number}/approval", {})
    instalment = Instalment.objects.get(claim__number=number, child_id=ani["id"], start_year=2026)
    path = f"/{number}/instalments/{instalment.pk}/proof"
    wrong = post(
        city, path, {"school": "SMPN 3", "level": "sma", "year_in_level": 1, "document": "SK-1"}
    )
    assert problem(wrong) == (["body", "level"], "level_mismatch")
    r = post(
        city,
        path,
        {"school": "SMPN 3 Malang", "level": "smp", "year_in_level": 2, "document": "SK-2026/001"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "payable" and r.json()["proof"]["school"] == "SMPN 3 Malang"
    assert Instruction.objects.filter(instalment=instalment).count() == 1
    assert (
        problem(
            post(city, path, {"school": "X", "level": "smp", "year_in_level": 2, "document": "Y"})
        )[1]
        == "proof_exists"
    )
    due = city.get(f"{BASE}/scholarships/due?school_year=2026").json()
    assert due["school_year"] == "2026/2027"
    assert [i["child"] for i in due["items"]] == ["Ani", "Bima"] or {
        i["child"] for i in due["items"]
    } == {"Ani", "Bima"}
    assert sum(k["count"] for k in due["by_kecamatan"]) == due["count"] == 2
    stop = post(
        city,
        f"/{number}/parties/{bima['id']}/scholarship-stop",
        {"reason": "married", "stopped_on": "2026-11-20"},
    )
    assert stop.status_code == 200, stop.content
    assert stop.json()["child"]["stop_reason"] == "married"
    assert (
        stop.json()["stopped"]
        == Instalment.objects.filter(child_id=bima["id"], status="stopped").count()
        > 0
    )
    again = post(
        city,
        f"/{number}/parties/{bima['id']}/scholarship-stop",
        {"reason": "married", "stopped_on": "2026-11-20"},
    )
    assert problem(again)[1] == "already_stopped"
    spouse = Claim.objects.get(number=number).parties.get(relation="spouse")
    r = post(
        city,
        f"/{number}/parties/{spouse.pk}/scholarship-stop",
        {"reason": "died", "stopped_on": "2026-11-20"},
    )
    assert problem(r) == (["body", "party_id"], "not_child")


# -- a running server --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_claim_is_filed_and_read_back_over_http_on_a_running_server(
    live_server, malang, make_user, http
):
    from cakupan.accounts.services import token_create

    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    _t, key = token_create(user=make_user("bpjs_officer", username="petugas_http"))
    status, created = http(
        live_server.url + BASE,
        "POST",
        key,
        {"membership": member.number, "type": "jkm", "event_date": "2026-11-10"},
    )
    assert status == 201, created
    status, read = http(f"{live_server.url}{BASE}/{created['number']}", "GET", key)
    assert status == 200, read
    assert (read["number"], read["type"], read["status"]) == (created["number"], "jkm", "submitted")
    assert read["entitlement"]["eligibility"]["contribution_months"] == 40
    assert http(live_server.url + BASE, "GET", "ckp_wrong")[0] == 401


def test_the_openapi_names_no_schema_twice() -> None:
    """ninja keys components by class name: a claims schema named like another app's would
    silently replace it in the OpenAPI (IncapacityIn did, the calculator's; ProblemOut was two schemas, the registry's and the statement's)."""
    import inspect

    from ninja import Schema

    from cakupan.api import api

    spec = api.get_openapi_schema(path_prefix="/api")
    names: dict[str, set[str]] = {}
    for module in list(__import__("sys").modules.values()):
        if not getattr(module, "__name__", "").startswith("cakupan."):
            continue
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Schema)
                and obj.__module__ == module.__name__
            ):
                names.setdefault(name, set()).add(module.__name__)
    twice = {n: m for n, m in names.items() if len(m) > 1 and n in spec["components"]["schemas"]}
    assert twice == {}
