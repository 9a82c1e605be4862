"""Claims end to end through the services, on a ledger billed and paid by its own services:
the golden cases of docs/claims.md (JKM Rp 42,000,000 with and without scholarships, JKK death
Rp 70,000,000, 14 months of incapacity), arrears held and released, lapsed refused, three
children, maker-checker and the audit."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.claims.models import Claim, ClaimEvent, Instalment, Instruction
from cakupan.claims.services import (
    ClaimRefused,
    assessment_add,
    claim_approve,
    claim_file,
    claim_outcome,
    claim_reject,
    claim_verify,
    cost_add,
    incapacity_add,
    party_add,
    party_update,
)
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol, pay_bill
from cakupan.contributions.models import Bill
from cakupan.contributions.services import account_of_sponsor

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 12, 2)
ACCOUNT = {"bank_code": "014", "account_number": "0123456789", "account_name": "Siti Aminah"}


def line(version, code):
    return next(x for x in version.result["lines"] if x["code"] == code)


def cash(version) -> int:
    """The non-scholarship lines the engine computed (the family's benefit)."""
    return sum(
        x["amount"] or 0
        for x in version.result["lines"]
        if not x["code"].startswith("scholarship_")
    )


def children(claim, *kids):
    for name, born, level, year in kids:
        party_add(
            claim=claim,
            user=None,
            on=TODAY,
            full_name=name,
            relation="child",
            birth_date=born,
            level=level,
            year_in_level=year,
            **ACCOUNT,
        )


@pytest.fixture
def officers(make_user):
    return [make_user("bpjs_officer", f"petugas{n}") for n in range(3)]


def test_jkm_after_40_paid_months_owes_42_million_and_two_scholarships(malang, officers):
    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name="Siti Aminah",
        relation="spouse",
        share_percent=100,
        **ACCOUNT,
    )
    children(
        claim,
        ("Ani", D(2012, 5, 1), "smp", 2),
        ("Bima", D(2015, 3, 1), "tk_sd", 6),
    )
    version = claim.entitlements.order_by("-version").first()
    assert version.outcome == "payable"
    assert version.eligibility["contribution_months"] == 40
    assert cash(version) == 42_000_000
    assert line(version, "lump_sum")["amount"] == 20_000_000
    kids = version.result["scholarships"]["children"]
    assert [k["eligible"] for k in kids] == [True, True]
    # one instalment per child per school year, from 2026/2027
    years = Instalment.objects.filter(claim=claim).values_list("child__full_name", "start_year")
    assert ("Ani", 2026) in years and ("Bima", 2026) in years
    assert Instalment.objects.filter(claim=claim, start_year=2026).count() == 2


def test_jkm_after_20_paid_months_owes_42_million_and_says_why_no_scholarship(malang):
    member = csr_ojol("2025-03")
    bill_and_pay(member, "2025-03", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    children(claim, ("Ani", D(2012, 5, 1), "smp", 2))
    version = claim.entitlements.order_by("-version").first()
    assert version.eligibility["contribution_months"] == 20
    assert cash(version) == 42_000_000
    kid = version.result["scholarships"]["children"][0]
    assert not kid["eligible"]
    assert [r["code"] for r in kid["reasons"]] == ["min_contribution"]
    assert "20 bulan" in kid["reasons"][0]["message"]
    line_codes = [x["code"] for x in version.eligibility["lines"]]
    assert "contribution_months" in line_codes
    assert not Instalment.objects.filter(claim=claim).exists()


def test_jkk_death_after_2_paid_months_owes_70_million_plus_scholarships(malang):
    member = csr_ojol("2026-09")
    bill_and_pay(member, "2026-09", "2026-10")
    claim = claim_file(
        claim_type="jkk",
        membership=member,
        event_date=D(2026, 11, 10),
        user=None,
        place="Jl. Soekarno-Hatta",
        description="Ditabrak truk saat mengantar penumpang",
        on=TODAY,
    )
    claim_outcome(claim=claim, user=None, death_date=D(2026, 11, 10), on=TODAY)
    children(claim, ("Ani", D(2012, 5, 1), "smp", 2))
    version = claim.entitlements.order_by("-version").first()
    assert line(version, "death")["amount"] == 48 * 1_000_000
    assert line(version, "death_periodic")["amount"] == 12_000_000
    assert line(version, "funeral")["amount"] == 10_000_000
    assert cash(version) == 70_000_000
    assert version.result["scholarships"]["children"][0]["eligible"]
    assert Instalment.objects.filter(claim=claim).exists()


def test_fourteen_months_of_incapacity_keep_every_version(malang):
    member = csr_ojol("2025-06")
    bill_and_pay(member, "2025-06", "2025-08")
    claim = claim_file(
        claim_type="jkk", membership=member, event_date=D(2025, 9, 10), user=None, on=TODAY
    )
    incapacity_add(claim=claim, user=None, months=12, on=TODAY)
    incapacity_add(claim=claim, user=None, months=2, on=TODAY)
    versions = list(claim.entitlements.order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3]
    last = versions[-1]
    assert line(last, "stmb_phase_1")["amount"] == 12 * 1_000_000
    assert line(last, "stmb_phase_2")["amount"] == 2 * 500_000
    assert last.total_now == 13_000_000
    # the earlier versions are kept as they were
    assert versions[1].total_now == 12_000_000 and versions[0].total_now == 0


def test_two_months_in_arrears_pay_the_funeral_now_and_release_the_cash_when_paid(malang, officers):
    member = csr_ojol("2026-05")
    bill_and_pay(member, "2026-05", "2026-10", unpaid=("2026-09", "2026-10"))
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name="Siti Aminah",
        relation="spouse",
        share_percent=100,
        **ACCOUNT,
    )
    version = claim.entitlements.order_by("-version").first()
    assert version.outcome == "hold"
    assert version.eligibility["arrears"] == ["2026-09", "2026-10"]
    assert version.total_now == 10_000_000  # the funeral cost, at once
    assert version.total_held == 32_000_000
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    assert list(Instruction.objects.filter(claim=claim).values_list("line_code", "amount")) == [
        ("funeral", 10_000_000)
    ]
    # the heirs pay the arrears: the ledger shows them paid and the cash is released
    account = account_of_sponsor(member.fundings.first().programme.sponsor)
    for month in (D(2026, 9, 1), D(2026, 10, 1)):
        bill = Bill.objects.get(membership=member, month=month, voided_at__isnull=True)
        pay_bill(account, bill, D(2026, 11, 25))
    claim.refresh_from_db()
    assert claim.released_on == D(2026, 11, 25)
    assert claim.status == Claim.Status.APPROVED
    paid = dict(Instruction.objects.filter(claim=claim).values_list("line_code", "amount"))
    assert paid == {"funeral": 10_000_000, "lump_sum": 20_000_000, "periodic": 12_000_000}
    assert ClaimEvent.objects.filter(claim=claim, action="approved_carried").exists()


def test_four_months_in_arrears_refuse_naming_the_months(malang, officers):
    member = csr_ojol("2026-03")
    bill_and_pay(member, "2026-03", "2026-10", unpaid=("2026-07", "2026-08", "2026-09", "2026-10"))
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    version = claim.entitlements.order_by("-version").first()
    assert version.outcome == "refused"
    assert version.total_now == version.total_held == version.total_later == 0
    lapsed = next(x for x in version.eligibility["lines"] if x["status"] == "refused")
    assert lapsed["months"] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert "2026-07, 2026-08, 2026-09, 2026-10" in lapsed["text"]
    claim_verify(claim=claim, user=officers[1])
    with pytest.raises(ClaimRefused) as e:
        claim_approve(claim=claim, user=officers[2])
    assert e.value.code == "not_eligible"
    claim_reject(claim=claim, user=officers[2], code="not_eligible")
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.REJECTED


def test_three_children_two_scheduled_the_third_with_its_reason(malang):
    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    children(
        claim,
        ("Ani", D(2012, 5, 1), "smp", 2),
        ("Bima", D(2015, 3, 1), "tk_sd", 6),
        ("Citra", D(2018, 1, 1), "tk_sd", 3),
    )
    kids = claim.entitlements.order_by("-version").first().result["scholarships"]["children"]
    assert [k["eligible"] for k in kids] == [True, True, False]
    assert [r["code"] for r in kids[2]["reasons"]] == ["max_children"]
    scheduled = set(
        Instalment.objects.filter(claim=claim).values_list("child__full_name", flat=True)
    )
    assert scheduled == {"Ani", "Bima"}


def test_the_submitter_and_the_verifier_cannot_approve_and_the_audit_shows_every_step(
    malang, officers
):
    submitter, verifier, approver = officers
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=submitter, on=TODAY
    )
    party_add(
        claim=claim,
        user=submitter,
        on=TODAY,
        full_name="Siti Aminah",
        relation="spouse",
        share_percent=100,
        **ACCOUNT,
    )
    claim_verify(claim=claim, user=verifier)
    for who in (submitter, verifier):
        with pytest.raises(ClaimRefused) as e:
            claim_approve(claim=claim, user=who)
        assert e.value.code == "same_officer"
    claim_approve(claim=claim, user=approver)
    actions = list(ClaimEvent.objects.filter(claim=claim).values_list("action", "user__username"))
    assert actions[0] == ("submitted", submitter.username)
    assert ("verified", verifier.username) in actions
    assert ("approved", approver.username) in actions
    assert ("instructed", approver.username) in actions
    approved = ClaimEvent.objects.get(claim=claim, action="approved")
    assert approved.before == {"status": "verified"}
    assert approved.after["total_now"] == 42_000_000
    assert (
        sum(Instruction.objects.filter(claim=claim).values_list("amount", flat=True)) == 42_000_000
    )


def test_a_new_fact_on_an_approved_claim_sends_it_back_for_approval(malang, officers):
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkk", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    party_update(
        party=claim.parties.get(),
        user=officers[0],
        on=TODAY,
        **{"bank_code": "002", "account_number": "123456789012345", "account_name": "Budi Santoso"},
    )
    incapacity_add(claim=claim, user=officers[0], days=20, on=TODAY)
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    first = sum(Instruction.objects.filter(claim=claim).values_list("amount", flat=True))
    assert first == 1_000_000 * 20 // 30
    incapacity_add(claim=claim, user=officers[0], days=1, on=TODAY)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    total = sum(Instruction.objects.filter(claim=claim).values_list("amount", flat=True))
    assert total == 1_000_000 * 21 // 30  # only the difference was added


@pytest.mark.parametrize(
    ("call", "field", "code"),
    [
        (lambda c: incapacity_add(claim=c, user=None, months=-1, on=TODAY), "months", "negative"),
        (
            lambda c: assessment_add(
                claim=c,
                user=None,
                item="arm_shoulder_right",
                function_loss_percent=120,
                assessed_on=TODAY,
                on=TODAY,
            ),
            "function_loss_percent",
            "above_maximum",
        ),
        (
            lambda c: assessment_add(
                claim=c, user=None, item="scalp", percent=45, assessed_on=TODAY, on=TODAY
            ),
            "percent",
            "above_maximum",
        ),
        (
            lambda c: party_add(
                claim=c,
                user=None,
                on=TODAY,
                full_name="X",
                relation="spouse",
                share_percent=101,
            ),
            "share_percent",
            "share_range",
        ),
        (
            lambda c: party_add(
                claim=c,
                user=None,
                on=TODAY,
                full_name="X",
                relation="spouse",
                share_percent=50,
                bank_code="014",
                account_number="12345",
                account_name="X",
            ),
            "account_number",
            "account_length",
        ),
        (
            lambda c: party_add(
                claim=c,
                user=None,
                on=TODAY,
                full_name="X",
                relation="spouse",
                share_percent=50,
                bank_code="014",
                account_number="12345ABCDE",
                account_name="X",
            ),
            "account_number",
            "account_not_digits",
        ),
        (
            lambda c: cost_add(
                claim=c, user=None, kind="medical", amount=-5, incurred_on=TODAY, on=TODAY
            ),
            "amount",
            "not_positive",
        ),
    ],
)
def test_bad_facts_name_the_field_and_change_nothing(malang, call, field, code):
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkk", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    before = (
        claim.entitlements.count(),
        claim.parties.count(),
        claim.events.count(),
        claim.assessments.count(),
        claim.incapacities.count(),
        claim.costs.count(),
    )
    with pytest.raises(ClaimRefused) as e:
        call(claim)
    assert (e.value.field, e.value.code) == (field, code)
    assert e.value.message
    after = (
        claim.entitlements.count(),
        claim.parties.count(),
        claim.events.count(),
        claim.assessments.count(),
        claim.incapacities.count(),
        claim.costs.count(),
    )
    assert after == before


def test_heirs_shares_over_100_are_refused_naming_what_is_left(malang):
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    party_add(
        claim=claim, user=None, on=TODAY, full_name="Siti", relation="spouse", share_percent=70
    )
    with pytest.raises(ClaimRefused) as e:
        party_add(
            claim=claim, user=None, on=TODAY, full_name="Ibu", relation="parent", share_percent=40
        )
    assert e.value.code == "shares_over_100" and "30%" in e.value.message


@pytest.mark.parametrize(
    ("event", "code"),
    [(D(1980, 1, 1), "event_before_birth"), (D(2099, 1, 1), "event_in_future")],
)
def test_an_impossible_event_date_is_refused(malang, event, code):
    member = csr_ojol("2026-01")
    with pytest.raises(ClaimRefused) as e:
        claim_file(claim_type="jkm", membership=member, event_date=event, user=None, on=TODAY)
    assert (e.value.field, e.value.code) == ("event_date", code)
    assert not Claim.objects.exists()


def test_a_second_death_claim_for_the_same_person_is_refused(malang):
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    first = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    with pytest.raises(ClaimRefused) as e:
        claim_file(
            claim_type="jkm", membership=member, event_date=D(2026, 11, 11), user=None, on=TODAY
        )
    assert e.value.code == "duplicate" and first.number in e.value.message


def test_transport_trips_are_summed_per_mode_and_capped_once(malang):
    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkk", membership=member, event_date=D(2026, 11, 10), user=None, on=TODAY
    )
    for amount in (3_000_000, 4_000_000):
        cost_add(
            claim=claim,
            user=None,
            kind="transport",
            mode="land",
            amount=amount,
            incurred_on=D(2026, 11, 11),
            on=TODAY,
        )
    cost_add(
        claim=claim,
        user=None,
        kind="medical",
        amount=2_500_000,
        incurred_on=D(2026, 11, 12),
        on=TODAY,
    )
    version = claim.entitlements.order_by("-version").first()
    land = [x for x in version.result["lines"] if x["code"].startswith("transport")]
    assert [(x["code"], x["amount"]) for x in land] == [("transport_land", 5_000_000)]
    assert line(version, "medical_care")["amount"] == 2_500_000
    assert version.total_now == 7_500_000


def test_a_rejected_claim_stops_its_scholarship_and_leaves_the_due_list(malang, officers):
    from cakupan.claims.scholarships import due_rows

    member = csr_ojol("2026-01")
    bill_and_pay(member, "2026-01", "2026-10")
    claim = claim_file(
        claim_type="jkk", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    claim_outcome(claim=claim, user=officers[0], death_date=D(2026, 11, 10), on=TODAY)
    children(claim, ("Ani", D(2012, 5, 1), "smp", 2))
    assert any(r["child"] == "Ani" for r in due_rows(start_year=2026))
    claim_reject(claim=claim, user=officers[1], code="not_at_work", note="Kecelakaan di rumah")
    assert not any(r["child"] == "Ani" for r in due_rows(start_year=2026))
    assert set(Instalment.objects.filter(claim=claim).values_list("status", flat=True)) == {
        Instalment.Status.STOPPED
    }


def test_the_registrys_heirs_come_onto_a_death_claim_and_each_child_is_listed(malang, officers):
    from cakupan.registry.services import HeirData, heir_add

    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    worker = member.worker
    for name, relation, born in (
        ("Siti Aminah", "spouse", D(1990, 1, 2)),
        ("Ani", "child", D(2012, 5, 1)),
        ("Bima", "child", D(2015, 3, 1)),
        ("Citra", "child", D(2018, 1, 1)),
    ):
        heir_add(worker=worker, data=HeirData(full_name=name, relation=relation, birth_date=born))
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    listed = list(
        claim.parties.order_by("id").values_list("full_name", "relation", "share_percent")
    )
    assert listed == [
        ("Siti Aminah", "spouse", 0),
        ("Ani", "child", 0),
        ("Bima", "child", 0),
        ("Citra", "child", 0),
    ]
    assert ClaimEvent.objects.filter(claim=claim, action="heirs_imported").exists()
    spouse, ani, bima, citra = claim.parties.order_by("id")
    party_update(party=spouse, user=officers[0], on=TODAY, share_percent=100, **ACCOUNT)
    for child, level, year in ((ani, "smp", 2), (bima, "tk_sd", 6)):
        party_update(party=child, user=officers[0], on=TODAY, level=level, year_in_level=year)
    claim_verify(claim=claim, user=officers[1])
    with pytest.raises(ClaimRefused) as e:
        claim_approve(claim=claim, user=officers[2])
    assert e.value.code == "level_missing" and "Citra" in e.value.message
    party_update(party=citra, user=officers[0], on=TODAY, level="tk_sd", year_in_level=3)
    kids = claim.entitlements.order_by("-version").first().result["scholarships"]["children"]
    assert [(k["name"], k["eligible"]) for k in kids] == [
        ("Ani", True),
        ("Bima", True),
        ("Citra", False),
    ]
    # adding the same registered heir again is refused: he is already listed
    with pytest.raises(ClaimRefused) as e:
        party_add(
            claim=claim,
            user=officers[0],
            on=TODAY,
            heir=ani.heir,
            full_name="Ani",
            relation="child",
            birth_date=D(2012, 5, 1),
            level="smp",
            year_in_level=2,
        )
    assert e.value.code == "heir_on_claim"
