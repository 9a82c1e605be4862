"""Bulk enrolment: a list of workers for a funding programme, checked, linked and saved at once.

Stages: read → check every row → link to the registry → price against budget and cap → save in
one transaction. Nothing is written unless every row is accepted, or `partial` is asked for, in
which case the accepted rows are saved together and the rejected ones reported. Re-importing
the same file changes nothing and says so.

A batch's status only moves forward (checking → saving → saved, or failed, cancelled) and every
run records how it ended; the saved status is written in the save's own transaction, so it
appears exactly when the rows do. A run whose process is killed is judged by its lease
(cakupan.membership.runs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import polars.selectors as cs
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.bulk import insert_rows
from cakupan.funding.eligibility import ineligible_reason
from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import cost_of, enrolment_months, programme_budget
from cakupan.linkage import TO_REVIEW, LinkageSettings, link
from cakupan.membership.importing import (
    PROBLEM_SCHEMA,
    FileProblem,
    HeaderProblem,
    check_rows,
    map_columns,
    read_table,
)
from cakupan.membership.models import (
    AutoLink,
    FundingAssignment,
    ImportBatch,
    ImportProblem,
    Membership,
    ReviewCase,
)
from cakupan.membership.runs import heartbeat, pause_point, run_end, this_process
from cakupan.membership.selectors import OTHER_SPONSOR, import_catalogue, registry_frame
from cakupan.membership.services import membership_number, self_payment_yield
from cakupan.money import format_rupiah
from cakupan.months import fmt_month
from cakupan.registry.models import Occupation, Worker
from cakupan.rules import contributions_for_month

Progress = Callable[[str, int, int], None]
REVIEW_STATUSES = tuple(TO_REVIEW)
_CHUNK = 50_000
CANCELLED = "Dibatalkan: tidak ada yang disimpan."
SYSTEM_ERROR = (
    "Impor gagal karena kesalahan sistem dan tidak ada yang disimpan. "
    "Kesalahan sudah dicatat; coba lagi atau hubungi administrator."
)


class ImportConflict(ValueError):
    """The database changed under the list between checking and saving; nothing was saved."""


class ImportCancelled(Exception):
    """The user cancelled; the transaction was rolled back and the database is as before."""


@dataclass
class ImportOutcome:
    batch: ImportBatch
    counts: dict[str, int]
    problems: pl.DataFrame
    committed: bool
    message: str
    fits: int | None = None
    reviews: list[dict] = field(default_factory=list)
    seconds: dict[str, float] = field(
        default_factory=dict
    )  # per stage, for operators and benchmarks

    @property
    def unchanged(self) -> bool:
        return self.counts.get("already_enrolled", 0) == self.counts.get("total", 0) > 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def linkage_settings() -> LinkageSettings:
    """The linkage thresholds, overridable in Django settings as CAKUPAN_LINKAGE = {...}."""
    return LinkageSettings(**getattr(settings, "CAKUPAN_LINKAGE", {}))


# Which column of the file an eligibility reason is about (by the reason's first word).
_REASON_COLUMN = {
    "pekerjaan": "pekerjaan",
    "sektor": "pekerjaan",
    "bukan": "pekerjaan",
    "kecamatan": "kelurahan",
    "kelurahan": "kelurahan",
    "usia": "tanggal_lahir",
}


def _problem(
    rows: list[int] | pl.Series,
    column: str | list[str],
    severity: str,
    code: str | list[str],
    message: str | list[str],
    suggestion: str = "",
) -> pl.DataFrame:
    """Problem rows for many rows at once; `code` and `message` are one for all or one per row."""
    rows = list(rows)
    n = len(rows)
    return pl.DataFrame(
        {
            "row": rows,
            "column": column if isinstance(column, list) else [column] * n,
            "severity": [severity] * n,
            "code": code if isinstance(code, list) else [code] * n,
            "message": message if isinstance(message, list) else [message] * n,
            "suggestion": [suggestion] * n,
        },
        schema=PROBLEM_SCHEMA,
    )


def enrol_import(
    *,
    path: Path,
    programme: FundingProgramme,
    original_name: str | None = None,
    column_map: dict[str, str] | None = None,
    partial: bool = False,
    dry_run: bool = False,
    user: User | None = None,
    batch: ImportBatch | None = None,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ImportOutcome:
    """Check, link and (unless dry_run) save a list of workers for `programme`.

    Raises HeaderProblem (the mapping step) and FileProblem (unreadable file) before anything is
    recorded; ImportCancelled when `cancelled()` turns true, with nothing saved. Without
    `batch` a new one is recorded, leased to this process (the `cakupan enrol import` command);
    a batch given has been leased by its task. However the run ends, its batch says so:
    cancelled, failed with the reason (an ImportConflict, say), or stopped (Ctrl-C, a worker
    told to stop twice); a run killed outright is left to import_runs_reap.
    """
    current: dict[str, ImportBatch] = {"batch": batch} if batch is not None else {}

    def end(status: str, **how: str) -> None:
        if "batch" in current:
            run_end(current["batch"], status, **how)

    with ExitStack() as stack:

        def started(b: ImportBatch) -> None:
            current["batch"] = b
            stack.enter_context(heartbeat(b))

        try:
            return _enrol_import(
                path=path,
                programme=programme,
                original_name=original_name,
                column_map=column_map,
                partial=partial,
                dry_run=dry_run,
                user=user,
                batch=batch,
                as_of=as_of,
                progress=progress,
                cancelled=cancelled,
                started=started,
            )
        except ImportCancelled:
            end(ImportBatch.Status.CANCELLED, message=CANCELLED)
            raise
        except (HeaderProblem, FileProblem, ValueError) as e:  # ImportConflict is a ValueError
            end(ImportBatch.Status.FAILED, message=str(e))
            raise
        except Exception:
            end(ImportBatch.Status.FAILED, message=SYSTEM_ERROR)
            raise
        except BaseException:  # KeyboardInterrupt, SystemExit: the process is stopping
            end(ImportBatch.Status.FAILED, code=ImportBatch.STOPPED)
            raise


def _enrol_import(
    *,
    path: Path,
    programme: FundingProgramme,
    original_name: str | None,
    column_map: dict[str, str] | None,
    partial: bool,
    dry_run: bool,
    user: User | None,
    batch: ImportBatch | None,
    as_of: dt.date | None,
    progress: Progress | None,
    cancelled: Callable[[], bool],
    started: Callable[[ImportBatch], None],
) -> ImportOutcome:
    report = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    clock = {"stage": "", "since": time.perf_counter()}

    def say(stage: str, done: int, total: int) -> None:
        if stage != clock["stage"]:
            now = time.perf_counter()
            if clock["stage"]:
                seconds[clock["stage"]] = seconds.get(clock["stage"], 0.0) + now - clock["since"]
            clock.update(stage=stage, since=now)
        report(stage, done, total)

    path = Path(path)
    as_of = as_of or timezone.localdate()
    first, last = enrolment_months(programme, start=as_of)
    if last < first:
        raise ValueError(f"Program {programme.name} sudah berakhir pada {fmt_month(last)}.")
    say("read", 0, 1)
    frame = map_columns(read_table(path, original_name=original_name), column_map)
    total = frame.height
    if batch is None:
        batch = ImportBatch.objects.create(
            programme=programme,
            original_name=original_name or path.name,
            sha256=file_sha256(path),
            column_map=column_map or {},
            partial=partial,
            uploaded_by=user,
            status=ImportBatch.Status.VALIDATING,
            rows_total=total,
            dry_run=dry_run,
            # the lease, committed before the long work (see cakupan.membership.runs)
            run_id=f"cli-{uuid.uuid4().hex}",
            **this_process(),
        )
    else:
        # forward only: a batch queued to be saved stays "saving"
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.UPLOADED).update(
            status=ImportBatch.Status.VALIDATING
        )
        ImportBatch.objects.filter(pk=batch.pk).update(rows_total=total)
    started(batch)
    # funding recorded after this point is re-checked when saving (see _save)
    seen_assignment = FundingAssignment.objects.aggregate(last=Max("pk"))["last"] or 0
    say("check", 0, total)
    pause_point("check")
    checked = check_rows(frame, import_catalogue(), default_income=programme.declared_income)
    total, blank = checked.total, checked.blank_rows  # blank lines are skipped, not rows
    del frame  # the file as text: not needed once every row is checked
    if cancelled():
        raise ImportCancelled
    say("link", checked.rows.height, total)
    pause_point("link")
    rows = checked.rows
    registry = registry_frame()
    attributes = registry.select(
        "worker_id",
        *(
            pl.col(c).alias(f"{c}_registry")
            for c in ("occupation", "sector", "kelurahan", "kecamatan", "vulnerable")
        ),
    )
    links = link(
        rows.select("row", "nik", "name", "birth_date", "sex", "kelurahan"),
        registry.select("worker_id", "nik", "name", "birth_date", "sex", "kelurahan"),
        linkage_settings(),
    )
    del registry  # the largest frame of an import; free it before the save
    linked = rows.join(links.drop("registry_status"), on="row", how="left")
    problems = [checked.problems]
    del links, rows, checked

    # The same person twice in the list, once with a NIK typo: not a question for anyone,
    # and nothing to fix before saving. The row it repeats is enrolled (or reviewed) once.
    repeats = linked.filter(
        (pl.col("status") == "duplicate_in_file") & (pl.col("reason") == "dup_typo")
    )
    problems.append(
        _problem(
            repeats["row"],
            "nik",
            "warning",
            "duplicate_typo",
            [
                f"Orang yang sama dengan baris {first}; NIK di baris ini salah ketik. "
                "Hanya baris itu yang dipakai."
                for first in repeats["dup_of_row"]
            ],
            "Hapus baris ini dari daftar berikutnya.",
        )
    )
    dups = linked.filter(
        (pl.col("status") == "duplicate_in_file") & (pl.col("reason") != "dup_typo")
    )
    problems.append(
        _problem(
            dups["row"],
            "nik",
            "rejected",
            "duplicate_in_file",
            [
                f"Baris ini sama dengan baris {first} di berkas yang sama."
                for first in dups["dup_of_row"]
            ],
            "Hapus salah satu baris.",
        )
    )
    reviews = linked.filter(pl.col("status").is_in(REVIEW_STATUSES))
    problems.append(
        _problem(
            reviews["row"],
            "nik",
            "review",
            reviews["status"].to_list(),
            [e or "Mungkin orang yang sudah terdaftar." for e in reviews["evidence"]],
            "Putuskan di antrean tinjauan.",
        )
    )
    # A NIK typo corrected automatically enrols the registered worker, like an exact match;
    # it is listed in the report and recorded (AutoLink) so that it can be undone.
    corrected = linked.filter(pl.col("status") == "corrected_typo")
    problems.append(
        _problem(
            corrected["row"],
            "nik",
            "corrected",
            "corrected_typo",
            corrected["evidence"].fill_null("NIK diperbaiki otomatis.").to_list(),
            "Bila keliru, batalkan dari halaman pekerja.",
        )
    )
    auto_payload = corrected.select(
        "row",
        "nik",
        "name",
        "birth_date",
        "sex",
        "kelurahan",
        "occupation",
        "worker_id",
        "reason",
        "score",
        "evidence",
    ).to_dicts()
    candidates = linked.filter(pl.col("status").is_in(["exact", "new", "corrected_typo"]))

    # Who is already funded, by whom, for the programme's months?
    existing_ids = [int(w) for w in candidates["worker_id"].drop_nulls().to_list()]
    clashes = _clashes(existing_ids, first, last, sponsor_id=programme.sponsor_id)
    already = [w for w, (prog_id, _label) in clashes.items() if prog_id == programme.pk]
    other = {w: label for w, (prog_id, label) in clashes.items() if prog_id != programme.pk}
    already_rows = candidates.filter(pl.col("worker_id").is_in(already))
    funded_elsewhere = candidates.filter(pl.col("worker_id").is_in(list(other)))
    problems.append(
        _problem(
            funded_elsewhere["row"],
            "nik",
            "rejected",
            "double_funding",
            [
                f"{other[w]}. Satu bulan kepesertaan hanya boleh punya satu pembayar."
                for w in funded_elsewhere["worker_id"]
            ],
        )
    )
    to_enrol = candidates.filter(
        ~pl.col("worker_id").is_in(list(clashes)) | pl.col("worker_id").is_null()
    )

    # A registered worker is judged on the registry's record (occupation, domicile,
    # vulnerability), not on what the file says of them; a new worker on the file's row.
    to_enrol = (
        to_enrol.join(attributes, on="worker_id", how="left")
        .with_columns(
            vulnerable=pl.coalesce("vulnerable_registry", "vulnerable_occupation"),
            **{
                c: pl.coalesce(f"{c}_registry", c)
                for c in ("occupation", "sector", "kelurahan", "kecamatan")
            },
        )
        .drop(cs.ends_with("_registry"))
    )
    # Eligibility is the programme's data applied to every row at once.
    reasons = ineligible_reason(to_enrol, programme.eligibility or {}, as_of=first)
    ineligible = to_enrol.filter(reasons.is_not_null())
    given = reasons.drop_nulls().to_list()
    problems.append(
        _problem(
            ineligible["row"],
            [_REASON_COLUMN.get(r.split(" ", 1)[0], "pekerjaan") for r in given],
            "rejected",
            "not_eligible",
            [f"Tidak memenuhi syarat program: {reason}." for reason in given],
        )
    )
    to_enrol = to_enrol.filter(reasons.is_null())

    all_problems = pl.concat(problems).unique(maintain_order=True).sort("row")
    rejected_rows = set(all_problems.filter(pl.col("severity") == "rejected")["row"].to_list())
    to_enrol = to_enrol.filter(~pl.col("row").is_in(list(rejected_rows)))
    counts = {
        "total": total,
        "blank": blank,
        "new": int((to_enrol["status"] == "new").sum()),
        # registered workers newly funded, with those whose NIK was corrected automatically
        "existing": int(to_enrol["status"].is_in(["exact", "corrected_typo"]).sum()),
        "corrected": int((to_enrol["status"] == "corrected_typo").sum()),
        "already_enrolled": already_rows.height,
        "review": reviews.height,
        "rejected": len(rejected_rows),
        "warnings": int((all_problems["severity"] == "warning").sum()),
    }

    # Budget and cohort cap: refuse the whole list, saying how many more would fit.
    budget = programme_budget(programme=programme)
    costs = cost_of(
        programme=programme,
        incomes=[programme.declared_income] * to_enrol.height,
        sectors=to_enrol["sector"].to_numpy(),
        first_months=[first] * to_enrol.height,
        last_months=[last] * to_enrol.height,
    )
    fits_budget = int(np.searchsorted(np.cumsum(costs), budget.remaining, side="right"))
    fits = (
        fits_budget if budget.cap is None else min(fits_budget, max(0, budget.cap - budget.members))
    )
    message = ""
    refuse = fits < to_enrol.height
    if refuse:
        message = (
            f"Daftar ini menambah {to_enrol.height} peserta, tetapi "
            + (
                f"batas program {budget.cap} peserta"
                if budget.cap is not None and fits < fits_budget
                else f"sisa anggaran {format_rupiah(budget.remaining)}"
            )
            + f" hanya cukup untuk {fits} peserta lagi."
        )
    elif rejected_rows and not partial:
        message = f"{len(rejected_rows)} baris ditolak: tidak ada yang disimpan. Perbaiki baris itu, atau pakai --partial."
    elif counts["new"] + counts["existing"] == 0:
        message = (
            "Tidak ada perubahan: semua baris sudah terdaftar di program ini."
            if already_rows.height
            else "Tidak ada baris yang dapat disimpan."
        )

    commit = not dry_run and not refuse and (partial or not rejected_rows)
    if cancelled():
        raise ImportCancelled
    review_payload = reviews.select(
        "row",
        "nik",
        "name",
        "birth_date",
        "sex",
        "kelurahan",
        "occupation",
        "worker_id",
        "status",
        "score",
        "evidence",
    ).to_dicts()
    if commit:
        if not message:
            message = (
                f"Tersimpan: {counts['new']} pekerja baru, {counts['existing']} pekerja terdaftar didanai program ini."
                + (
                    f" {counts['corrected']} di antaranya dengan NIK yang diperbaiki otomatis."
                    if counts["corrected"]
                    else ""
                )
            )
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.VALIDATING).update(
            status=ImportBatch.Status.COMMITTING
        )
        say("save", 0, to_enrol.height)
        try:
            _save(
                batch=batch,
                programme=programme,
                rows=to_enrol,
                reviews=review_payload,
                auto_links=auto_payload,
                first=first,
                last=last,
                user=user,
                say=say,
                cancelled=cancelled,
                seen_assignment=seen_assignment,
                # the saved status commits with the rows: no moment shows "saving" after them
                record=lambda: _record(
                    batch, all_problems, counts, message, committed=True, dry_run=False
                ),
            )
        except IntegrityError:
            # a NIK of the list was registered, or a membership made, while it was checked
            raise ImportConflict(
                "Sementara daftar ini diperiksa, sebagian pekerjanya didaftarkan lewat jalur lain. "
                "Tidak ada yang disimpan; unggah ulang daftar yang sama."
            ) from None
        pause_point("committed")
    else:
        _record(batch, all_problems, counts, message, committed=False, dry_run=dry_run)
    say("done", 0, 0)
    return ImportOutcome(
        batch,
        counts,
        all_problems,
        commit,
        message,
        fits if refuse else None,
        review_payload,
        seconds,
    )


def _clashes(
    worker_ids: list[int], first: dt.date, last: dt.date, *, sponsor_id: int | None = None
) -> dict[int, tuple[int | None, str]]:
    """Workers with any funded month in first..last: worker → (programme id, who pays which
    months). Another sponsor is named only as "pemberi dana lain": the report is read by the
    sponsor whose list it is, who must not learn whom other sponsors fund."""
    found: dict[int, tuple[int | None, str]] = {}
    wanted = set(worker_ids)
    # a worker's own payment yields to a sponsor: only sponsors' funding clashes
    qs = FundingAssignment.objects.filter(first_month__lte=last, programme__isnull=False).exclude(
        last_month__lt=first
    )
    if len(wanted) <= 5000:
        qs = qs.filter(membership__worker_id__in=wanted)
    rows = qs.values_list(
        "membership__worker_id",
        "programme_id",
        "programme__name",
        "programme__sponsor_id",
        "first_month",
        "last_month",
    )
    for w, prog, prog_name, payer_sponsor, f, lm in rows.iterator(chunk_size=50_000):
        if w in wanted:
            payer = f"program {prog_name}" if payer_sponsor == sponsor_id else OTHER_SPONSOR
            found[w] = (prog, f"Bulan {fmt_month(f)}..{fmt_month(lm)} sudah dibayar oleh {payer}")
    return found


@transaction.atomic
def _save(
    *,
    batch: ImportBatch,
    programme: FundingProgramme,
    rows: pl.DataFrame,
    reviews: list[dict],
    auto_links: list[dict],
    first: dt.date,
    last: dt.date,
    user: User | None,
    say: Progress,
    cancelled: Callable[[], bool],
    seen_assignment: int,
    record: Callable[[], None],
) -> None:
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
        clashes = set(_clashes(sorted(existing), first, last))
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
    cost = int(
        cost_of(
            programme=programme,
            incomes=[programme.declared_income] * rows.height,
            sectors=rows["sector"].to_numpy(),
            first_months=[first] * rows.height,
            last_months=[last] * rows.height,
        ).sum()
    )
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
    for start in range(0, new.height, _CHUNK):
        if cancelled():
            raise ImportCancelled
        part = new.slice(start, _CHUNK)
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
        say("save", start + part.height, rows.height)
    ids = dict(
        Worker.objects.filter(pk__gt=before, source=Worker.Source.IMPORT).values_list("nik", "pk")
    )
    rows = rows.with_columns(
        worker_id=pl.when(pl.col("worker_id").is_null())
        .then(pl.col("nik").replace_strict(ids, default=None, return_dtype=pl.Int64))
        .otherwise(pl.col("worker_id"))
    )
    have = _memberships(rows["worker_id"].to_list())
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


def _memberships(worker_ids: list[int]) -> dict[int, int]:
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


def _record(
    batch: ImportBatch,
    problems: pl.DataFrame,
    counts: dict[str, int],
    message: str,
    *,
    committed: bool,
    dry_run: bool,
) -> None:
    with transaction.atomic():
        ImportProblem.objects.filter(batch=batch).delete()
        if problems.height:
            insert_rows(
                ImportProblem, {c: problems[c].to_list() for c in PROBLEM_SCHEMA}, {"batch": batch}
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
