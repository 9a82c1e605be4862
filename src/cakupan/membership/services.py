"""Writes on memberships: enrolment, who pays which months, moving to self-payment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.bulk import insert_rows
from cakupan.errors import Refused
from cakupan.funding.eligibility import ineligible_reason
from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import cost_of, enrolment_months, programme_budget
from cakupan.membership.models import (
    AutoLink,
    FundingAssignment,
    ImportBatch,
    ImportProblem,
    ImportValueMap,
    Membership,
    ReviewCase,
)
from cakupan.membership.runs import pause_point
from cakupan.membership.selectors import funding_clashes
from cakupan.money import format_rupiah
from cakupan.months import add_months, fmt_month, month_start
from cakupan.registry.models import Occupation, Worker
from cakupan.rules import contribution, contributions_for_month

IMPORT_CHUNK = 50_000  # new workers inserted per statement batch of a list's save


class EnrolmentRefused(Refused):
    """The enrolment cannot be made; the message (Indonesian) says why and what would work."""

    def __init__(self, message: str, *, code: str, fits: int | None = None):
        self.fits = fits
        super().__init__(code, message)


class ImportConflict(ValueError):
    """The database changed under the list between checking and saving; nothing was saved."""


class ImportCancelled(Exception):
    """The user cancelled; the transaction was rolled back and the database is as before."""


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
    committed: int | None = None,
) -> FundingAssignment:
    """Record who pays first_month..last_month; refused when any of those months has a payer.

    A programme's assignment stores what it commits the programme to (`committed`, Rp: the
    months priced by the rules engine); computed here unless the caller priced it already."""
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
    if committed is None:
        committed = (
            assignment_cost(
                programme=programme,
                sector=membership.worker.occupation.sector,
                first=first_month,
                last=last_month,
            )
            if programme is not None
            else 0
        )
    return FundingAssignment.objects.create(
        membership=membership,
        programme=programme,
        first_month=first_month,
        last_month=last_month,
        committed=committed,
    )


def assignment_cost(
    *, programme: FundingProgramme, sector: str, first: dt.date, last: dt.date | None
) -> int:
    """What funding one member's months first..last (or to the programme's end) costs it."""
    return int(
        cost_of(
            programme=programme,
            incomes=[programme.declared_income],
            sectors=[sector],
            first_months=[first],
            last_months=[last or programme.last_month],
        )[0]
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
    funding_assign(
        membership=membership,
        programme=programme,
        first_month=first,
        last_month=last,
        committed=cost,
    )
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
    partial: bool = False,
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


def import_batch_start(*, batch: ImportBatch, dry_run: bool, partial: bool | None = None) -> bool:
    """Queue the check (dry run) or the save of a batch on the background worker.

    `partial` (when given) is the uploader's choice on the preview: save the valid rows only.

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
        choice = {} if partial is None else {"partial": partial}
        started = ImportBatch.objects.filter(pk=batch.pk, status__in=allowed).update(
            **choice,
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


def import_batch_discard(*, batch: ImportBatch) -> bool:
    """Throw away a checked list that waits for confirmation: nothing of it is saved, it can
    never be checked or saved again, and its uploaded file (personal data nobody will use) is
    deleted. Returns False when the list was not waiting for confirmation."""
    with transaction.atomic():
        done = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEWED).update(
            status=ImportBatch.Status.DISCARDED,
            finished_at=timezone.now(),
            message="",
            message_code="",
        )
        if not done:
            return False
        # the rows' problems quote NIKs and names; the counts stay
        ImportProblem.objects.filter(batch=batch).delete()
    batch.refresh_from_db()
    if batch.file:
        batch.file.delete(save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(file="")
        batch.refresh_from_db()
    return True


class ValueMapInvalid(Refused, ValueError):
    """A value mapping names a column or a value that does not exist (Indonesian message).
    A ValueError too: a run given such a mapping ends failed with the message."""

    def __init__(self, message: str):
        super().__init__("value_map_invalid", message, "value_maps")


def import_value_maps_set(
    *,
    batch: ImportBatch,
    maps: list[tuple[str, str, str]],
    user: User | None,
) -> int:
    """Record what values of a list stand for: (column, value as in the file, value it means).
    An empty meaning removes the mapping. Every row holding the value (case and spacing aside)
    takes the mapped value when the list is checked again. Returns how many were recorded.

    Refused, with nothing recorded, when a column cannot be mapped or a meaning is not in the
    catalogue (ValueMapInvalid)."""
    from cakupan.membership.imports.check import value_key
    from cakupan.membership.imports.problems import MAPPABLE
    from cakupan.membership.imports.read import column_label
    from cakupan.regions.selectors import city_kelurahan

    allowed = {
        "pekerjaan": set(Occupation.objects.filter(active=True).values_list("code", flat=True)),
        "kelurahan": set(city_kelurahan().values_list("code", flat=True)),
        "jenis_kelamin": {"L", "P"},
    }
    errors = []
    for column, value, mapped_to in maps:
        if column not in MAPPABLE:
            errors.append(
                f"Kolom {column} tidak dapat dipetakan; yang dapat: {', '.join(MAPPABLE)}."
            )
        elif mapped_to and mapped_to not in allowed[column]:
            errors.append(
                f"{column_label(column)} '{mapped_to}' (untuk '{value}') tidak ada di katalog."
            )
        elif not value_key(value) or len(value) > 200:
            errors.append(f"Nilai '{value[:50]}' tidak dapat dipetakan.")
    if errors:
        raise ValueMapInvalid(" ".join(errors))
    with transaction.atomic():
        for column, value, mapped_to in maps:
            key = value_key(value)
            ImportValueMap.objects.filter(batch=batch, column=column, key=key).delete()
            if mapped_to:
                ImportValueMap.objects.create(
                    batch=batch,
                    column=column,
                    value=value.strip(),
                    key=key,
                    mapped_to=mapped_to,
                    created_by=user,
                )
    return sum(1 for *_x, mapped_to in maps if mapped_to)


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


@transaction.atomic
def import_rows_save(
    *,
    batch: ImportBatch,
    programme: FundingProgramme,
    rows: pl.DataFrame,
    reviews: list[dict],
    auto_links: list[dict],
    first: dt.date,
    last: dt.date,
    user: User | None,
    progress: Callable[[str, int, int], None],
    cancelled: Callable[[], bool],
    seen_assignment: int,
    record: Callable[[], None],
) -> None:
    """Save the checked rows of a list in one transaction: new workers, memberships, the
    programme's funding of their months, review cases, the NIK typos corrected automatically
    (AutoLink, undoable from the worker page); `record` writes the list's outcome in the
    same transaction, so "saved" appears exactly when the rows do.

    Raises ImportConflict when funding, budget or cap changed since the list was checked, and
    ImportCancelled when `cancelled()` turns true: either way nothing is saved.
    """
    # What was checked before the save may have changed while the list was read and linked
    # (an officer enrolled someone by hand): check again holding the locks, and refuse rather
    # than give a person-month two payers or overrun the budget.
    FundingProgramme.objects.select_for_update().filter(pk=programme.pk).first()
    existing = {int(w) for w in rows["worker_id"].drop_nulls().to_list()}
    if connection.features.has_select_for_update:  # PostgreSQL; SQLite holds one write lock already
        ids = sorted(existing)
        for i in range(0, len(ids), 5000):
            list(
                Membership.objects.select_for_update()
                .filter(worker_id__in=ids[i : i + 5000])
                .values_list("pk")
            )
    if connection.features.has_select_for_update:
        # PostgreSQL: a concurrent transaction may commit rows numbered below what we saw, so
        # check every worker again, now that their memberships are locked.
        clashes = set(funding_clashes(worker_ids=sorted(existing), first=first, last=last))
    else:
        # SQLite: one writer at a time, so any funding recorded since the check began carries a
        # higher id than any we saw; only those rows need a look.
        since = FundingAssignment.objects.filter(
            pk__gt=seen_assignment, programme__isnull=False
        ).values_list("membership__worker_id", "first_month", "last_month")
        clashes = {
            w for w, f, lm in since if w in existing and f <= last and (lm is None or lm >= first)
        }
    if clashes:
        raise ImportConflict(
            f"Sementara daftar ini diperiksa, {len(clashes)} pekerja di dalamnya didanai pihak lain "
            "untuk bulan yang sama. Tidak ada yang disimpan; periksa ulang daftar."
        )
    budget = programme_budget(programme=programme)
    costs = cost_of(
        programme=programme,
        incomes=[programme.declared_income] * rows.height,
        sectors=rows["sector"].to_numpy(),
        first_months=[first] * rows.height,
        last_months=[last] * rows.height,
    )
    cost = int(costs.sum())
    rows = rows.with_columns(committed=pl.Series(costs, dtype=pl.Int64))
    if cost > budget.remaining or (
        budget.cap is not None and budget.members + rows.height > budget.cap
    ):
        raise ImportConflict(
            "Sementara daftar ini diperiksa, anggaran atau batas peserta program berubah. "
            "Tidak ada yang disimpan; periksa ulang daftar."
        )
    occupation_ids = dict(Occupation.objects.values_list("code", "pk"))
    new = rows.filter(pl.col("status") == "new")
    before = Worker.objects.aggregate(last=Max("pk"))["last"] or 0
    for start in range(0, new.height, IMPORT_CHUNK):
        if cancelled():
            raise ImportCancelled
        part = new.slice(start, IMPORT_CHUNK)
        insert_rows(
            Worker,
            {
                "nik": part["nik"].to_list(),
                "full_name": part["name"].to_list(),
                "birth_date": part["birth_date"].to_list(),
                "sex": part["sex"].to_list(),
                "kelurahan_id": part["kelurahan"].to_list(),
                "occupation_id": [occupation_ids[c] for c in part["occupation"].to_list()],
                "phone": part["phone"].to_list(),
            },
            {"source": Worker.Source.IMPORT, "created_by": user},
        )
        progress("save", start + part.height, rows.height)
    ids = dict(
        Worker.objects.filter(pk__gt=before, source=Worker.Source.IMPORT).values_list("nik", "pk")
    )
    rows = rows.with_columns(
        worker_id=pl.when(pl.col("worker_id").is_null())
        .then(pl.col("nik").replace_strict(ids, default=None, return_dtype=pl.Int64))
        .otherwise(pl.col("worker_id"))
    )
    have = _bpu_memberships(rows["worker_id"].to_list())
    need = rows.filter(~pl.col("worker_id").is_in(list(have)))
    if need.height:
        brackets = contributions_for_month(
            month=first,
            income=need["income"].to_numpy(),
            sector=need["sector"].to_numpy(),
            funding=[programme.sponsor.rules_funding] * need.height,
        ).bracket
        before_m = Membership.objects.aggregate(last=Max("pk"))["last"] or 0
        insert_rows(
            Membership,
            {
                "worker_id": need["worker_id"].to_list(),
                "declared_income": need["income"].to_list(),
                "bracket": [int(b) for b in brackets],
                "number": [membership_number(w) for w in need["worker_id"].to_list()],
            },
            {
                "category": Membership.Category.BPU,
                "start_month": first,
                "created_by": user,
                "programmes": programme.programmes,  # one value: prepared once, not per row
            },
        )
        have.update(dict(Membership.objects.filter(pk__gt=before_m).values_list("worker_id", "pk")))
    pause_point("save")  # workers and memberships written, funding not yet: all rolled back
    if cancelled():
        raise ImportCancelled
    self_payment_yield(
        membership_ids=[have[w] for w in rows["worker_id"].to_list()], first=first, last=last
    )
    insert_rows(
        FundingAssignment,
        {
            "membership_id": [have[w] for w in rows["worker_id"].to_list()],
            "committed": rows["committed"].to_list(),
        },
        {"programme": programme, "first_month": first, "last_month": last, "batch": batch},
    )
    # a re-imported list must not open the same question twice
    open_cases = {
        (str(nik), candidate)  # SQLite hands a digits-only JSON string back as a number
        for nik, candidate in ReviewCase.objects.filter(
            status=ReviewCase.Status.OPEN, batch__programme=programme
        ).values_list("incoming__nik", "candidate_id")
    }
    reviews = [r for r in reviews if (r["nik"], r["worker_id"]) not in open_cases]
    if reviews:
        ReviewCase.objects.bulk_create(
            [
                ReviewCase(
                    batch=batch,
                    row=r["row"],
                    incoming={k: str(v) if v is not None else None for k, v in r.items()},
                    candidate_id=r["worker_id"],
                    reason=r["status"],
                    evidence=r["evidence"] or "",
                    score=r["score"] or 0,
                )
                for r in reviews
            ],
            batch_size=2000,
        )
    # every typo corrected automatically and enrolled here, with its evidence, undoable
    enrolled = set(rows["row"].to_list())
    AutoLink.objects.bulk_create(
        [
            AutoLink(
                batch=batch,
                row=a["row"],
                worker_id=a["worker_id"],
                incoming=_incoming(a),
                incoming_nik=str(a["nik"]),
                reason=a["reason"] or "",
                evidence=a["evidence"] or "",
                score=a["score"] or 0,
            )
            for a in auto_links
            if a["row"] in enrolled
        ],
        batch_size=2000,
    )
    record()


def _incoming(row: dict) -> dict[str, str | None]:
    """A row of the list as a review case keeps it: the fields a reviewer compares."""
    keys = ("row", "nik", "name", "birth_date", "sex", "kelurahan", "occupation")
    return {k: str(row[k]) if row.get(k) is not None else None for k in keys}


def _bpu_memberships(worker_ids: list[int]) -> dict[int, int]:
    """worker → BPU membership, for these workers. Small lists ask for their rows; large ones
    read the table once (a long IN (...) costs Django more to build than SQLite to answer)."""
    wanted = set(worker_ids)
    qs = Membership.objects.filter(category=Membership.Category.BPU)
    if len(wanted) <= 5000:
        qs = qs.filter(worker_id__in=wanted)
    return {
        w: pk
        for w, pk in qs.values_list("worker_id", "pk").iterator(chunk_size=50_000)
        if w in wanted
    }


def import_batch_record(
    *,
    batch: ImportBatch,
    problems: pl.DataFrame,
    counts: dict[str, int],
    message: str,
    committed: bool,
    dry_run: bool,
) -> None:
    """Write how a run of a list ended: its problems, counts and message, and its status
    (saved, checked and waiting for confirmation, or failed)."""
    with transaction.atomic():
        ImportProblem.objects.filter(batch=batch).delete()
        if problems.height:
            insert_rows(
                ImportProblem,
                {
                    c: problems[c].fill_null("").to_list()
                    if c in ("value", "suggested")
                    else problems[c].to_list()
                    for c in problems.columns
                },
                {"batch": batch},
            )
        status = (
            ImportBatch.Status.COMMITTED
            if committed
            else ImportBatch.Status.PREVIEWED
            if dry_run
            else ImportBatch.Status.FAILED
        )
        # only the run that holds the batch records its outcome: not one replaced meanwhile
        ImportBatch.objects.filter(pk=batch.pk, run_id=batch.run_id).update(
            status=status,
            counts=counts,
            message=message,
            message_code="",
            rows_done=counts["total"],
            finished_at=timezone.now() if status != ImportBatch.Status.PREVIEWED else None,
        )
    batch.refresh_from_db()


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
