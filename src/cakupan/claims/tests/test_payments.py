"""Paying a claim: the bank batch file, the bank's return (all or nothing, idempotent), a
failed transfer sent again, and scholarship instalments paid only against proof of enrolment."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from cakupan.claims.models import Batch, Claim, Instalment, Instruction
from cakupan.claims.payments import PaymentRefused, batch_export, batch_file, batch_return
from cakupan.claims.scholarships import (
    ScholarshipRefused,
    due_rows,
    proof_record,
    scholarship_stop,
)
from cakupan.claims.services import (
    ClaimRefused,
    claim_approve,
    claim_file,
    claim_verify,
    instruction_reissue,
    party_add,
    party_update,
)
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 12, 2)
SITI = {"bank_code": "014", "account_number": "0123456789", "account_name": "Siti Aminah"}


@pytest.fixture
def officers(make_user):
    return [make_user("bpjs_officer", f"petugas{n}") for n in range(3)]


@pytest.fixture
def approved(malang, officers):
    """A JKM death after 40 paid months, two children in school, approved."""
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
        share_percent=60,
        **SITI,
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name="Ani",
        relation="child",
        birth_date=D(2012, 5, 1),
        level="smp",
        year_in_level=2,
        share_percent=40,
        bank_code="002",
        account_number="123456789012345",
        account_name="Siti Aminah",
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name="Bima",
        relation="child",
        birth_date=D(2015, 3, 1),
        level="tk_sd",
        year_in_level=6,
    )
    claim_verify(claim=claim, user=officers[1])
    claim_approve(claim=claim, user=officers[2])
    return claim


def write(tmp_path, rows, name="retur.csv"):
    path = tmp_path / name
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_the_batch_splits_by_share_and_the_return_marks_the_claim_paid_once(
    approved, officers, tmp_path
):
    instructions = list(Instruction.objects.filter(claim=approved))
    by_party = {}
    for i in instructions:
        by_party[i.party.full_name] = by_party.get(i.party.full_name, 0) + i.amount
    assert by_party == {"Siti Aminah": 25_200_000, "Ani": 16_800_000}
    batch = batch_export(user=officers[0])
    rows = list(csv.reader(io.StringIO(batch_file(batch, "csv").decode())))
    assert rows[0][:3] == ["no", "referensi", "kode_bank"]
    assert sum(int(r[6]) for r in rows[1:]) == 42_000_000 == batch.total
    with pytest.raises(PaymentRefused):
        batch_export(user=officers[0])  # nothing waits any more
    back = [["referensi", "status", "tanggal", "no_transaksi"]] + [
        [r[1], "berhasil", "05/12/2026", f"TRX{n}"] for n, r in enumerate(rows[1:])
    ]
    path = write(tmp_path, back)
    result = batch_return(path=path, user=officers[0], today=D(2026, 12, 6))
    assert result.saved and result.counts["paid"] == len(rows) - 1
    assert Claim.objects.get(pk=approved.pk).status == Claim.Status.PAID
    again = batch_return(path=path, user=officers[0], today=D(2026, 12, 6))
    assert again.counts["already"] == len(rows) - 1 and again.counts["paid"] == 0


def test_a_return_with_one_bad_row_changes_nothing_and_names_the_row(approved, officers, tmp_path):
    batch = batch_export(user=officers[0])
    refs = list(batch.instructions.values_list("reference", flat=True))
    path = write(
        tmp_path,
        [
            ["referensi", "status", "tanggal"],
            [refs[0], "berhasil", "05/12/2026"],
            ["JKM-0000-999999-001", "berhasil", "05/12/2026"],
            [refs[1], "mungkin", "05/12/2026"],
        ],
    )
    result = batch_return(path=path, user=officers[0], today=D(2026, 12, 6))
    assert not result.saved
    assert [(p["row"], p["column"]) for p in result.problems] == [
        (3, "Referensi"),
        (4, "Status"),
    ]
    assert not Instruction.objects.filter(status=Instruction.Status.PAID).exists()


def test_a_failed_transfer_is_sent_again_only_to_a_corrected_account(approved, officers, tmp_path):
    batch_export(user=officers[0])
    siti = approved.parties.get(full_name="Siti Aminah")
    failing = Instruction.objects.filter(party=siti).first()
    path = write(
        tmp_path,
        [
            ["referensi", "status", "tanggal", "alasan"],
            [failing.reference, "gagal", "05/12/2026", "Rekening tidak ditemukan"],
        ],
    )
    assert batch_return(path=path, user=officers[0], today=D(2026, 12, 6)).counts["failed"] == 1
    failing.refresh_from_db()
    assert failing.failure == "Rekening tidak ditemukan"
    with pytest.raises(ClaimRefused) as e:
        instruction_reissue(instruction=failing, user=officers[0])
    assert e.value.code == "same_account"
    party_update(party=siti, user=officers[0], on=TODAY, account_number="9876543210")
    new = instruction_reissue(instruction=failing, user=officers[0])
    assert (new.amount, new.account_number, new.status) == (failing.amount, "9876543210", "pending")
    with pytest.raises(ClaimRefused) as e:
        instruction_reissue(instruction=failing, user=officers[0])
    assert e.value.code == "already_reissued"


def test_an_instalment_is_paid_only_against_proof_of_enrolment(approved, officers):
    ani = approved.parties.get(full_name="Ani")
    this_year = Instalment.objects.get(child=ani, start_year=2026)
    assert this_year.status == Instalment.Status.AWAITING_PROOF
    assert not Instruction.objects.filter(instalment=this_year).exists()
    later = Instalment.objects.get(child=ani, start_year=2027)
    assert later.status == Instalment.Status.SCHEDULED
    with pytest.raises(ScholarshipRefused) as e:
        proof_record(
            instalment=this_year,
            user=officers[0],
            school="SMPN 3 Malang",
            level="sma",
            year_in_level=1,
            document="123/SMP/2026",
            on=TODAY,
        )
    assert e.value.code == "level_mismatch"
    with pytest.raises(ScholarshipRefused) as e:
        proof_record(
            instalment=later,
            user=officers[0],
            school="SMPN 3 Malang",
            level="smp",
            year_in_level=3,
            document="1/2027",
            on=TODAY,
        )
    assert e.value.code == "too_early"
    proof_record(
        instalment=this_year,
        user=officers[0],
        school="SMPN 3 Malang",
        level="smp",
        year_in_level=2,
        document="123/SMP/2026",
        on=TODAY,
    )
    this_year.refresh_from_db()
    assert this_year.status == Instalment.Status.PAYABLE
    instruction = Instruction.objects.get(instalment=this_year)
    assert (instruction.amount, instruction.party_id) == (2_000_000, ani.pk)
    # Bima has no account: his proof makes the instalment payable, the page says what is missing
    bima = approved.parties.get(full_name="Bima")
    his = Instalment.objects.get(child=bima, start_year=2026)
    proof_record(
        instalment=his,
        user=officers[0],
        school="SDN Lowokwaru 1",
        level="tk_sd",
        year_in_level=6,
        document="SD/77",
        on=TODAY,
    )
    row = next(r for r in due_rows(start_year=2026) if r["child"] == "Bima")
    assert row["status_code"] == "payable" and row["missing"]
    assert not Instruction.objects.filter(instalment=his).exists()


def test_marriage_stops_the_later_years_and_work_as_an_intern_does_not(approved, officers):
    ani = approved.parties.get(full_name="Ani")
    with pytest.raises(ScholarshipRefused) as e:
        scholarship_stop(
            child=ani,
            user=officers[0],
            reason="working",
            work="intern",
            stopped_on=D(2026, 12, 1),
            today=TODAY,
        )
    assert e.value.code == "working_exception"
    stopped = scholarship_stop(
        child=ani, user=officers[0], reason="married", stopped_on=D(2026, 12, 1), today=TODAY
    )
    years = dict(Instalment.objects.filter(child=ani).values_list("start_year", "status"))
    assert years[2026] == Instalment.Status.AWAITING_PROOF  # the school year under way stays
    assert all(years[y] == Instalment.Status.STOPPED for y in years if y > 2026)
    assert stopped == sum(1 for y in years if y > 2026) > 0


def test_demo_removal_takes_an_approved_and_paid_claim_with_it(approved, officers, tmp_path):
    from cakupan.claims.demo import demo_claims_delete
    from cakupan.registry.models import Worker

    batch_export(user=officers[0])
    Worker.objects.filter(pk=approved.worker_id).update(source="demo")
    demo_claims_delete()
    assert not Claim.objects.exists() and not Instruction.objects.exists()
    assert not Batch.objects.exists()
