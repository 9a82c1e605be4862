"""Writes on memberships: enrolment, who pays which months, moving to self-payment."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.errors import Refused
from cakupan.funding.eligibility import ineligible_reason
from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import cost_of, enrolment_months, programme_budget
from cakupan.membership.models import (
    AutoLink,
    FundingAssignment,
    ImportBatch,
    Membership,
    ReviewCase,
)
from cakupan.money import format_rupiah
from cakupan.months import add_months, fmt_month, month_start
from cakupan.registry.models import Worker
from cakupan.rules import contribution


class EnrolmentRefused(Refused):
    """The enrolment cannot be made; the message (Indonesian) says why and what would work."""

    def __init__(self, message: str, *, code: str, fits: int | None = None):
        self.fits = fits
        super().__init__(code, message)


def membership_number(worker_id: int, category: str = "bpu") -> str:
    """Deterministic from the worker, so bulk inserts need no round trip to number rows."""
    return f"{category.upper()}-{worker_id:09d}"


def _overlap_message(existing: FundingAssignment) -> str:
    payer = (
        f"{existing.programme.sponsor.name} ({existing.programme.name})"
        if existing.programme
        else "peserta sendiri (mandiri)"
    )
    return (
        f"Bulan {fmt_month(existing.first_month)}..{fmt_month(existing.last_month)} sudah dibayar oleh {payer}. "
        "Satu bulan kepesertaan hanya boleh punya satu pembayar."
    )


def _overlapping(
    membership: Membership, first: dt.date, last: dt.date | None, *, sponsors_only: bool = False
) -> FundingAssignment | None:
    # an open-ended row (last_month null) runs forever
    qs = membership.fundings.select_related("programme__sponsor").filter(
        Q(last_month__isnull=True) | Q(last_month__gte=first)
    )
    if last is not None:
        qs = qs.filter(first_month__lte=last)
    if sponsors_only:
        qs = qs.filter(programme__isnull=False)
    return qs.first()


def self_payment_yield(*, membership_ids: list[int], first: dt.date, last: dt.date) -> int:
    """Hand the months first..last of these memberships' self-payment over to a sponsor.

    A worker paying for themself is glad of a sponsor: the self-paid rows that overlap are cut
    around the sponsor's months (and resume after them when they were open-ended or ran past
    them). Returns how many self-payment rows changed.
    """
    changed = 0
    wanted = set(membership_ids)
    # All overlapping self-payments, filtered here: a list of a million memberships does not fit
    # in one SQL IN (...), and self-payments are few.
    overlapping = FundingAssignment.objects.filter(
        programme__isnull=True, first_month__lte=last
    ).filter(Q(last_month__isnull=True) | Q(last_month__gte=first))
    if len(wanted) <= 500:
        overlapping = overlapping.filter(membership_id__in=wanted)
    for row in overlapping:
        if row.membership_id not in wanted:
            continue
        resumes = row.last_month is None or row.last_month > last
        if resumes:
            FundingAssignment.objects.create(
                membership_id=row.membership_id,
                programme=None,
                first_month=add_months(last, 1),
                last_month=row.last_month,
            )
        if row.first_month < first:
            row.last_month = add_months(first, -1)
            row.save(update_fields=["last_month"])
        else:
            row.delete()
        changed += 1
    return changed


@transaction.atomic
def funding_assign(
    *,
    membership: Membership,
    programme: FundingProgramme | None,
    first_month: dt.date,
    last_month: dt.date | None,
) -> FundingAssignment:
    """Record who pays first_month..last_month; refused when any of those months has a payer."""
    # Lock the membership so two officers cannot fund the same months at once (PostgreSQL;
    # SQLite serialises writers already).
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    first_month = month_start(first_month)
    last_month = month_start(last_month) if last_month else None
    if last_month is not None and last_month < first_month:
        raise EnrolmentRefused("Bulan terakhir sebelum bulan pertama.", code="months_reversed")
    if clash := _overlapping(
        membership, first_month, last_month, sponsors_only=programme is not None
    ):
        raise EnrolmentRefused(_overlap_message(clash), code="double_funding")
    if programme is not None and last_month is not None:
        self_payment_yield(membership_ids=[membership.pk], first=first_month, last=last_month)
    return FundingAssignment.objects.create(
        membership=membership, programme=programme, first_month=first_month, last_month=last_month
    )


def _worker_frame(worker: Worker) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "occupation": [worker.occupation.code],
            "sector": [worker.occupation.sector],
            "kecamatan": [worker.kelurahan.parent_id],
            "kelurahan": [worker.kelurahan_id],
            "vulnerable": [worker.is_vulnerable],
            "birth_date": [worker.birth_date],
        }
    )


@transaction.atomic
def membership_enrol(
    *,
    worker: Worker,
    programme: FundingProgramme,
    start: dt.date | None = None,
    created_by: User | None = None,
) -> Membership:
    """Enrol a worker under a funding programme, or extend their membership with its funding.

    A worker has one membership; a second enrolment adds a funding assignment, never a second
    membership. Refused (EnrolmentRefused) when the worker is not eligible, the months already
    have a payer, the cohort cap is reached, or the budget cannot cover the months.
    """
    # One enrolment at a time per programme, so two officers cannot both spend its last rupiah.
    FundingProgramme.objects.select_for_update().filter(pk=programme.pk).first()
    today = timezone.localdate()
    first, last = enrolment_months(programme, start=start or today)
    if last < first:
        raise EnrolmentRefused(
            f"Program {programme.name} sudah berakhir pada {fmt_month(last)}.",
            code="programme_ended",
        )
    reason = ineligible_reason(_worker_frame(worker), programme.eligibility or {}, as_of=first)[0]
    if reason:
        raise EnrolmentRefused(
            f"{worker.full_name} tidak memenuhi syarat program: {reason}.", code="not_eligible"
        )
    budget = programme_budget(programme=programme)
    if budget.cap is not None and budget.members >= budget.cap:
        raise EnrolmentRefused(
            f"Program sudah mencapai batas {budget.cap} peserta.", code="cap_reached", fits=0
        )
    cost = int(
        cost_of(
            programme=programme,
            incomes=[programme.declared_income],
            sectors=[worker.occupation.sector],
            first_months=[first],
            last_months=[last],
        )[0]
    )
    if cost > budget.remaining:
        raise EnrolmentRefused(
            f"Sisa anggaran {format_rupiah(budget.remaining)} tidak cukup untuk iuran "
            f"{format_rupiah(cost)} ({fmt_month(first)}..{fmt_month(last)}).",
            code="over_budget",
            fits=0,
        )
    membership = Membership.objects.filter(worker=worker, category=Membership.Category.BPU).first()
    if membership is None:
        quote = contribution(
            category="bpu",
            income=programme.declared_income,
            month=first,
            programmes=programme.programmes,
            funding=programme.sponsor.rules_funding,
        )
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    worker=worker,
                    programmes=programme.programmes,
                    declared_income=programme.declared_income,
                    bracket=quote.bracket,
                    start_month=first,
                    number=membership_number(worker.pk),
                    created_by=created_by,
                )
        except IntegrityError:
            raise EnrolmentRefused(
                f"{worker.full_name} baru saja didaftarkan oleh petugas lain; muat ulang halaman.",
                code="concurrent",
            ) from None
    funding_assign(membership=membership, programme=programme, first_month=first, last_month=last)
    return membership


@transaction.atomic
def membership_to_self_payment(*, membership: Membership, from_month: dt.date) -> FundingAssignment:
    """After a sponsor's programme ends the worker pays for themself, open-ended."""
    return funding_assign(
        membership=membership, programme=None, first_month=from_month, last_month=None
    )


@transaction.atomic
def import_batch_create(
    *,
    programme: FundingProgramme,
    upload,
    user: User | None,
    partial: bool = False,  # type: ignore[no-untyped-def]
    column_map: dict[str, str] | None = None,
) -> ImportBatch:
    """Store an uploaded file as a batch waiting to be checked. A file with the same content
    already imported into the programme is still accepted: the import says nothing changes."""
    import hashlib

    digest = hashlib.sha256()
    for block in upload.chunks():
        digest.update(block)
    upload.seek(0)
    return ImportBatch.objects.create(
        programme=programme,
        file=upload,
        original_name=upload.name[:255],
        sha256=digest.hexdigest(),
        partial=partial,
        column_map=column_map or {},
        uploaded_by=user,
        dry_run=True,
    )


def import_batch_start(*, batch: ImportBatch, dry_run: bool) -> bool:
    """Queue the check (dry run) or the save of a batch on the background worker.

    The status moves in one conditional UPDATE, so a double click (or two officers) cannot
    queue the same save twice. Returns False when the batch was not in a state to start. The
    status, the task and its id commit together: a batch never waits for a task that was not
    queued. The lease of an earlier run is cleared; the task takes its own when it starts.
    """
    from cakupan.membership.tasks import cancel_flag, import_batch_run

    allowed = (
        [
            ImportBatch.Status.UPLOADED,
            ImportBatch.Status.FAILED,
            ImportBatch.Status.CANCELLED,
            ImportBatch.Status.PREVIEWED,
        ]
        if dry_run
        else [ImportBatch.Status.PREVIEWED]
    )
    with transaction.atomic():
        started = ImportBatch.objects.filter(pk=batch.pk, status__in=allowed).update(
            dry_run=dry_run,
            status=ImportBatch.Status.VALIDATING if dry_run else ImportBatch.Status.COMMITTING,
            stage="",
            rows_done=0,
            cancel_requested=False,
            message="",
            message_code="",
            finished_at=None,
            run_id="",
            run_host="",
            run_pid=None,
            run_started=None,
            heartbeat_at=None,
        )
        if not started:
            return False
        cancel_flag(batch.pk).unlink(missing_ok=True)  # an old request must not stop this run
        result = import_batch_run.enqueue(batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(task_id=str(result.id))
    batch.refresh_from_db()
    return True


def import_batch_cancel(*, batch: ImportBatch) -> None:
    """Ask a running import to stop; it rolls back and marks itself cancelled."""
    from cakupan.membership.tasks import cancel_flag

    flag = cancel_flag(batch.pk)
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.touch()


class ReviewInvalid(Refused):
    """The decision cannot be carried out (Indonesian message); the case stays open."""

    def __init__(self, message: str):
        super().__init__("review_invalid", message, "decision")


@transaction.atomic
def review_decide(*, case: ReviewCase, decision: str, user: User) -> ReviewCase:
    """Carry out an officer's decision on a probable match, and record who decided when.

    "same": the registered worker is enrolled in the batch's programme. "different": the
    incoming row becomes a new worker (its NIK must then be free) and is enrolled. "reject":
    nothing is enrolled (the row's NIK is wrong, say, or the programme has ended); the case is
    closed with the decision recorded.
    """
    from cakupan.registry.services import WorkerData, WorkerInvalid, worker_create

    if decision not in ("same", "different", "reject"):
        raise ReviewInvalid("Pilih keputusan: orang yang sama, orang berbeda, atau tolak baris.")
    case = (
        ReviewCase.objects.select_for_update()
        .select_related("batch__programme__sponsor")
        .get(pk=case.pk)
    )
    if case.status != ReviewCase.Status.OPEN:
        raise ReviewInvalid("Kasus ini sudah diputuskan.")
    worker = None
    if decision == "same":
        if case.candidate is None:
            raise ReviewInvalid(
                "Pekerja pembanding sudah tidak ada; pilih 'orang berbeda' atau 'tolak baris'."
            )
        worker = case.candidate
    elif decision == "different":
        row = case.incoming
        try:
            worker = worker_create(
                data=WorkerData(
                    nik=str(row["nik"]),
                    full_name=row["name"],
                    birth_date=dt.date.fromisoformat(row["birth_date"]),
                    sex=row["sex"],
                    kelurahan=row["kelurahan"],
                    occupation=row["occupation"],
                ),
                created_by=user,
                source=Worker.Source.IMPORT,
            )
        except WorkerInvalid as e:
            raise ReviewInvalid(
                " ".join(m for msgs in e.errors.values() for m in msgs)
                + " Bila NIK di daftar salah, pilih 'tolak baris'."
            ) from None
    if worker is not None:
        try:
            membership_enrol(worker=worker, programme=case.batch.programme, created_by=user)
        except EnrolmentRefused as e:
            raise ReviewInvalid(f"{e} Pilih 'tolak baris' untuk menutup kasus ini.") from None
    case.status = {
        "same": ReviewCase.Status.MERGED,
        "different": ReviewCase.Status.KEPT_APART,
        "reject": ReviewCase.Status.REJECTED,
    }[decision]
    case.decided_by = user
    case.decided_at = timezone.now()
    case.resulting_worker = worker
    case.save(update_fields=["status", "decided_by", "decided_at", "resulting_worker"])
    return case


class AutoLinkInvalid(Refused):
    """The automatic link cannot be reversed (Indonesian message); nothing changed."""

    def __init__(self, message: str):
        super().__init__("auto_link_invalid", message)


@transaction.atomic
def auto_link_reverse(*, link: AutoLink, user: User) -> ReviewCase:
    """Undo a NIK typo corrected automatically: what its row enrolled for the worker (the
    funding that import gave the worker) is removed, and the row waits in the review queue
    as a case to decide, as it would have without automatic links. Who reversed it and when
    are recorded on the link, and said in the case's evidence.

    The membership stays (it may carry other funding or history); a self-payment that the
    enrolment cut short is not extended back.
    """
    link = AutoLink.objects.select_for_update().select_related("worker").get(pk=link.pk)
    if link.reversed_at is not None:
        raise AutoLinkInvalid("Tautan otomatis ini sudah dibatalkan.")
    FundingAssignment.objects.filter(
        batch_id=link.batch_id, membership__worker=link.worker
    ).delete()
    now = timezone.now()
    who = user.get_full_name() or user.get_username()
    case = ReviewCase.objects.create(
        batch_id=link.batch_id,
        row=link.row,
        incoming=link.incoming,
        candidate=link.worker,
        reason="probable",
        evidence=(
            f"Tautan otomatis dibatalkan oleh {who} pada {timezone.localtime(now):%d-%m-%Y %H:%M}. "
            + link.evidence
        ),
        score=link.score,
    )
    link.reversed_by = user
    link.reversed_at = now
    link.review = case
    link.save(update_fields=["reversed_by", "reversed_at", "review"])
    return case
