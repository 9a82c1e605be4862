"""Reads of the payment and scholarship pages: instructions waiting for a bank batch, failed
transfers, recent batches, the due list counted by kecamatan and filtered, and the reminder
list of the next school year."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from cakupan.claims.banks import BANKS
from cakupan.claims.models import Batch, Instalment, Instruction
from cakupan.claims.scholarships import due_instalments

SHOWN_INSTRUCTIONS = 500
SHOWN_BATCHES = 50
# the statuses an officer filters the due list by; the proof is missing in the first two
PROOF_MISSING = (Instalment.Status.SCHEDULED, Instalment.Status.AWAITING_PROOF)
DUE_STATUSES = (*PROOF_MISSING, Instalment.Status.PAYABLE)


def bank_name(code: str) -> str:
    bank = BANKS.get(code)
    return f"{bank.name} ({code})" if bank else code


def instructions_waiting() -> QuerySet[Instruction]:
    """Approved payments not yet in a bank batch, oldest first."""
    return (
        Instruction.objects.filter(status=Instruction.Status.PENDING)
        .select_related("claim", "party")
        .order_by("id")
    )


def instructions_waiting_total() -> tuple[int, int]:
    """(how many wait for a bank batch, their amount)."""
    totals = instructions_waiting().aggregate(n=Count("id"), total=Sum("amount"))
    return totals["n"], totals["total"] or 0


def instructions_failed() -> QuerySet[Instruction]:
    """Transfers the bank returned as failed and not yet sent again (no later instruction of
    the same claim, party and line), newest first, each with the bank's reason."""
    sent_again = Instruction.objects.filter(
        **Instruction.resend_key(OuterRef), pk__gt=OuterRef("pk")
    )
    return (
        Instruction.objects.filter(status=Instruction.Status.FAILED)
        .exclude(Exists(sent_again))
        .select_related("claim", "party", "batch")
        .order_by("-id")
    )


def batches_recent() -> QuerySet[Batch]:
    return Batch.objects.select_related("created_by").order_by("-id")


@dataclass
class KecamatanCount:
    kecamatan: str
    instalments: int = 0
    amount: int = 0
    proof_missing: int = 0


def due_by_kecamatan(rows: Iterable[dict]) -> list[KecamatanCount]:
    """The due list counted by kecamatan (in the list's order) with a total row last."""
    counts: dict[str, KecamatanCount] = {}
    for row in rows:
        c = counts.setdefault(row["kecamatan"], KecamatanCount(row["kecamatan"]))
        c.instalments += 1
        c.amount += row["amount"]
        c.proof_missing += row["status_code"] in PROOF_MISSING
    return sorted(counts.values(), key=lambda c: c.kecamatan)


def due_filter(rows: list[dict], *, kecamatan: str = "", status: str = "") -> list[dict]:
    return [
        r
        for r in rows
        if (not kecamatan or r["kecamatan"] == kecamatan)
        and (not status or r["status_code"] == status)
    ]


@dataclass
class ReminderRow:
    instalment_id: int
    claim_id: int
    claim: str
    worker_id: int
    worker: str
    phone: str
    child: str
    kecamatan: str
    kelurahan: str
    school_year: str
    level: str
    year_in_level: int
    amount: int
    has_proof: bool


def reminder_rows(*, start_year: int) -> list[ReminderRow]:
    """The instalments of a school year not yet paid nor stopped, whether their proof of
    enrolment is already recorded, and the worker's phone as recorded (the page masks it)."""
    rows = []
    for i in due_instalments(start_year=start_year):
        worker = i.claim.worker
        kelurahan = worker.kelurahan
        rows.append(
            ReminderRow(
                instalment_id=i.pk,
                claim_id=i.claim_id,
                claim=i.claim.number,
                worker_id=worker.pk,
                worker=worker.full_name,
                phone=worker.phone,
                child=i.child.full_name,
                kecamatan=kelurahan.parent.name if kelurahan.parent_id else "",
                kelurahan=kelurahan.name,
                school_year=i.school_year,
                level=i.level,
                year_in_level=i.year_in_level,
                amount=i.amount,
                has_proof=hasattr(i, "proof"),
            )
        )
    return rows


def instalment_years() -> list[int]:
    """The school years (start years) that have instalments, for the year chooser."""
    return sorted(set(Instalment.objects.values_list("start_year", flat=True).distinct()))
