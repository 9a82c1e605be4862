"""Paying what was approved: bank batches of payment instructions and the bank's return.

- `batch_export` gathers every instruction waiting for a batch into one Batch and writes it as
  the bank's bulk-transfer sheet (CSV or XLSX; columns below, Indonesian headers, amounts in
  whole Rupiah). An instruction goes into one batch only.
- `batch_return` reads the bank's return file through the ledger's statement reader (the same
  header matching, amounts and dates as a payment statement) and marks each instruction paid or
  failed. All or nothing: a file with any bad row changes nothing and lists every problem by
  row and column. A row already applied with the same outcome is counted and skipped, so the
  same file read twice changes nothing the second time.
- A claim whose instructions (scholarships aside) are all paid becomes paid; a paid scholarship
  instruction marks its instalment paid. A failed transfer stays failed with the bank's reason;
  `services.instruction_reissue` sends it again once the account is corrected.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cakupan.accounts.models import User
from cakupan.claims.banks import BANKS
from cakupan.claims.models import Batch, Claim, ClaimEvent, Instalment, Instruction
from cakupan.contributions.statements import amounts, dates, read_columns
from cakupan.errors import Refused
from cakupan.exports import table_file

# The batch file's columns: (header, value of an instruction)
BATCH_HEADERS = (
    "no",
    "referensi",
    "kode_bank",
    "nama_bank",
    "no_rekening",
    "nama_pemilik_rekening",
    "jumlah",
    "keterangan",
)

RETURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("reference", "ref", "referensi", "no_referensi", "nomor_referensi"),
    "status": ("status", "hasil", "status_transfer", "result"),
    "date": ("date", "tanggal", "tanggal_transfer", "paid_on", "tgl"),
    "amount": ("amount", "jumlah", "nominal"),
    "bank_reference": (
        "bank_reference",
        "no_transaksi",
        "nomor_transaksi",
        "ref_bank",
        "referensi_bank",
    ),
    "reason": ("reason", "alasan", "keterangan", "alasan_gagal"),
}
RETURN_REQUIRED = ("reference", "status", "date")
RETURN_LABELS = {
    "reference": gettext_lazy("Reference"),
    "status": gettext_lazy("Status"),
    "date": gettext_lazy("Date"),
    "amount": gettext_lazy("Amount"),
    "bank_reference": gettext_lazy("Bank's transaction number"),
    "reason": gettext_lazy("Reason"),
}
PAID_WORDS = {"paid", "success", "sukses", "berhasil", "ok", "lunas", "dibayar"}
FAILED_WORDS = {"failed", "fail", "gagal", "ditolak", "rejected", "retur", "return"}


class PaymentRefused(Refused):
    pass


def _label(column: str) -> str:
    return str(RETURN_LABELS.get(column, column))


def _description(instruction: Instruction) -> str:
    if instruction.instalment_id:
        return f"Beasiswa {instruction.claim.number} {instruction.instalment.school_year}"
    return f"Klaim {instruction.claim.number} {instruction.line_code}"


def batch_rows(batch: Batch) -> list[list[Any]]:
    rows = []
    instructions = batch.instructions.select_related("claim", "instalment").order_by("id")
    for n, i in enumerate(instructions, start=1):
        bank = BANKS.get(i.bank_code)
        rows.append(
            [
                n,
                i.reference,
                i.bank_code,
                bank.name if bank else "",
                i.account_number,
                i.account_name,
                i.amount,
                _description(i),
            ]
        )
    return rows


def batch_file(batch: Batch, fmt: str) -> bytes:
    """The batch as the bank's bulk-transfer sheet: CSV (UTF-8, comma) or XLSX."""
    return table_file(BATCH_HEADERS, batch_rows(batch), fmt, title=batch.number)


def batch_export(*, user: User | None) -> Batch:
    """Put every instruction waiting for a batch into a new one (refused when none waits)."""
    with transaction.atomic():
        waiting = list(
            Instruction.objects.select_for_update()
            .filter(status=Instruction.Status.PENDING)
            .order_by("id")
        )
        if not waiting:
            raise PaymentRefused(
                "nothing_to_pay", _("No approved payment is waiting for a bank batch.")
            )
        batch = Batch.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}",
            created_by=user,
            count=len(waiting),
            total=sum(i.amount for i in waiting),
        )
        batch.number = f"BTC-{timezone.localdate():%Y%m%d}-{batch.pk:04d}"
        batch.save(update_fields=["number"])
        Instruction.objects.filter(pk__in=[i.pk for i in waiting]).update(
            status=Instruction.Status.EXPORTED, batch=batch
        )
        for claim_id in sorted({i.claim_id for i in waiting}):
            ClaimEvent.objects.create(
                claim_id=claim_id,
                user=user,
                action="batched",
                after={
                    "batch": batch.number,
                    "instructions": [i.reference for i in waiting if i.claim_id == claim_id],
                },
            )
        return batch


@dataclass
class ReturnResult:
    counts: dict[str, int]
    problems: list[dict[str, Any]] = field(default_factory=list)
    saved: bool = False


def _status_of(word: str) -> str | None:
    word = word.strip().casefold()
    if word in PAID_WORDS:
        return Instruction.Status.PAID
    if word in FAILED_WORDS:
        return Instruction.Status.FAILED
    return None


def _problem(row: int, column: str, message: str, fix: str, value: str = "") -> dict[str, Any]:
    return {
        "row": row,
        "column": _label(column),
        "problem": message,
        "fix": fix,
        "value": value,
    }


def batch_return(
    *,
    path: Path | str,
    user: User | None,
    original_name: str | None = None,
    today: dt.date | None = None,
) -> ReturnResult:
    """Read the bank's return and mark each instruction paid or failed (all or nothing)."""
    today = today or timezone.localdate()
    frame = read_columns(
        path,
        RETURN_COLUMNS,
        RETURN_REQUIRED,
        original_name=original_name,
        label=_label,
        hint=_(
            "Name the columns referensi, status and tanggal (or reference, status, date); "
            "jumlah, no_transaksi and alasan are optional."
        ),
        error=PaymentRefused,
    )
    frame = frame.filter(pl.any_horizontal([pl.col(c) != "" for c in RETURN_COLUMNS]))
    parsed, _bad = amounts(frame["amount"])
    frame = frame.with_columns(parsed, day=dates(pl.col("date")))
    refs = frame["reference"].to_list()
    known = {i.reference: i for i in Instruction.objects.filter(reference__in=refs)}
    problems: list[dict[str, Any]] = []
    changes: list[tuple[Instruction, str, dt.date, str, str]] = []
    counts = {"rows": frame.height, "paid": 0, "failed": 0, "already": 0}
    seen: dict[str, int] = {}
    for row in frame.iter_rows(named=True):
        n, ref = row["_row"], row["reference"]
        if not ref:
            problems.append(
                _problem(
                    n,
                    "reference",
                    _("The reference is empty."),
                    _("Copy the reference from the batch file."),
                )
            )
            continue
        if ref in seen:
            problems.append(
                _problem(
                    n,
                    "reference",
                    _("The reference %(ref)s is already on row %(row)s.")
                    % {"ref": ref, "row": seen[ref]},
                    _("Keep one row per transfer."),
                    ref,
                )
            )
            continue
        seen[ref] = n
        instruction = known.get(ref)
        if instruction is None:
            problems.append(
                _problem(
                    n,
                    "reference",
                    _("No payment instruction has the reference %(ref)s.") % {"ref": ref},
                    _("Check the reference against the batch file."),
                    ref,
                )
            )
            continue
        status = _status_of(row["status"])
        if status is None:
            problems.append(
                _problem(
                    n,
                    "status",
                    _("“%(v)s” is not a transfer result.") % {"v": row["status"]},
                    _("Write berhasil (paid) or gagal (failed)."),
                    row["status"],
                )
            )
            continue
        day = row["day"]
        if day is None or day > today:
            problems.append(
                _problem(
                    n,
                    "date",
                    _("“%(v)s” is not a transfer date up to today.") % {"v": row["date"]},
                    _("Write the date as DD/MM/YYYY, e.g. 03/11/2026."),
                    row["date"],
                )
            )
            continue
        if row["amount"] and row["amount_rp"] != instruction.amount:
            problems.append(
                _problem(
                    n,
                    "amount",
                    _("The amount %(got)s differs from the instruction's %(want)s.")
                    % {"got": row["amount"], "want": instruction.amount},
                    _("Check the row against the batch file; the bank pays the amount sent."),
                    row["amount"],
                )
            )
            continue
        if instruction.status == status:
            counts["already"] += 1
            continue
        if instruction.status != Instruction.Status.EXPORTED:
            problems.append(
                _problem(
                    n,
                    "status",
                    _("The transfer %(ref)s is %(status)s; the bank's result cannot change it.")
                    % {"ref": ref, "status": instruction.get_status_display()},
                    _("Remove the row, or ask the bank to check the transfer."),
                    ref,
                )
            )
            continue
        changes.append((instruction, status, day, row["bank_reference"], row["reason"]))
    if problems:
        counts["problems"] = len(problems)
        return ReturnResult(counts, problems, saved=False)
    with transaction.atomic():
        claims: set[int] = set()
        for instruction, status, day, bank_ref, reason in changes:
            instruction.status = status
            instruction.bank_reference = bank_ref[:64]
            if status == Instruction.Status.PAID:
                instruction.paid_on = day
                counts["paid"] += 1
                if instruction.instalment_id:
                    Instalment.objects.filter(pk=instruction.instalment_id).update(
                        status=Instalment.Status.PAID
                    )
            else:
                instruction.failure = (reason or _("no reason given"))[:200]
                counts["failed"] += 1
            instruction.save(update_fields=["status", "paid_on", "bank_reference", "failure"])
            ClaimEvent.objects.create(
                claim_id=instruction.claim_id,
                user=user,
                action=f"transfer_{status}",
                before={"reference": instruction.reference, "status": "exported"},
                after={"status": status, "on": day.isoformat(), "reason": instruction.failure},
            )
            claims.add(instruction.claim_id)
        Batch.objects.filter(instructions__in=[c[0] for c in changes]).update(
            returned_at=timezone.now()
        )
        for claim in Claim.objects.filter(pk__in=claims, status=Claim.Status.APPROVED):
            claim_paid_check(claim=claim, user=user)
    return ReturnResult(counts, [], saved=True)


def claim_paid_check(*, claim: Claim, user: User | None) -> bool:
    """An approved claim whose instructions (scholarships aside) are all paid becomes paid."""
    cash = claim.instructions.filter(instalment__isnull=True)
    waiting = (Instruction.Status.PENDING, Instruction.Status.EXPORTED)
    if not cash.exists() or cash.filter(status__in=waiting).exists():
        return False
    for failed in cash.filter(status=Instruction.Status.FAILED):
        if not failed.resends().filter(status=Instruction.Status.PAID).exists():
            return False
    claim.status = Claim.Status.PAID
    claim.save(update_fields=["status", "updated_at"])
    ClaimEvent.objects.create(
        claim=claim,
        user=user,
        action="paid",
        before={"status": "approved"},
        after={"status": "paid"},
    )
    return True
