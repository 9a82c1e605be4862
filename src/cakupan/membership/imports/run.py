"""Stage 5, run: a list of workers for a funding programme, read, checked, linked, priced and
saved (cakupan.membership.services.import_rows_save) by one run.

Nothing is written unless every row is accepted, or `partial` ("save the valid rows only") is
asked for, in which case the accepted rows are saved together and the refused ones reported.
Re-importing the same file changes nothing and says so.

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

import polars as pl
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import enrolment_months
from cakupan.membership.imports.catalogue import import_catalogue
from cakupan.membership.imports.check import check_rows
from cakupan.membership.imports.link import link_rows
from cakupan.membership.imports.price import price_rows
from cakupan.membership.imports.problems import NOT_ELIGIBLE, REJECTED, WARNING
from cakupan.membership.imports.read import FileProblem, HeaderProblem, map_columns, read_table
from cakupan.membership.models import FundingAssignment, ImportBatch
from cakupan.membership.runs import heartbeat, pause_point, run_end, this_process
from cakupan.membership.selectors import value_maps_of
from cakupan.membership.services import (
    ImportCancelled,
    ImportConflict,
    import_batch_record,
    import_rows_save,
    import_value_maps_set,
)
from cakupan.months import fmt_month

Progress = Callable[[str, int, int], None]
CANCELLED = "Dibatalkan: tidak ada yang disimpan."
SYSTEM_ERROR = (
    "Impor gagal karena kesalahan sistem dan tidak ada yang disimpan. "
    "Kesalahan sudah dicatat; coba lagi atau hubungi administrator."
)


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

    @property
    def refused(self) -> int:
        """Rows not saved: bad data or outside the programme's target."""
        return self.counts.get("rejected", 0) + self.counts.get("not_eligible", 0)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refused_message(counts: dict[str, int]) -> str:
    """Why nothing was saved when some rows are refused, in words for every channel (the page
    offers "save the valid rows only"; the command line names its own option)."""
    parts = []
    if counts.get("rejected"):
        parts.append(f"{counts['rejected']} baris ditolak karena datanya")
    if counts.get("not_eligible"):
        parts.append(f"{counts['not_eligible']} baris di luar sasaran program")
    return " dan ".join(parts) + ": tidak ada yang disimpan."


def enrol_import(
    *,
    path: Path,
    programme: FundingProgramme,
    original_name: str | None = None,
    column_map: dict[str, str] | None = None,
    value_maps: list[tuple[str, str, str]] | None = None,
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

    `value_maps` ((column, value in the file, value it means), the command line's --map-value)
    are recorded with the batch; a batch given is checked with the mappings recorded with it.
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
                value_maps=value_maps,
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
    value_maps: list[tuple[str, str, str]] | None,
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
    # read
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
    if value_maps:
        import_value_maps_set(batch=batch, maps=value_maps, user=user)
    # funding recorded after this point is re-checked when saving (see import_rows_save)
    seen_assignment = FundingAssignment.objects.aggregate(last=Max("pk"))["last"] or 0
    # check, per column
    say("check", 0, total)
    pause_point("check")
    checked = check_rows(
        frame,
        import_catalogue(),
        default_income=programme.declared_income,
        value_maps=value_maps_of(batch_id=batch.pk),
    )
    total = checked.total  # blank lines and the template's example are skipped, not rows
    del frame  # the file as text: not needed once every row is checked
    if cancelled():
        raise ImportCancelled
    # link: registry, double funding, eligibility
    say("link", checked.rows.height, total)
    pause_point("link")
    linked = link_rows(checked, programme=programme, first=first, last=last)
    all_problems = pl.concat([checked.problems, *linked.problems]).unique(maintain_order=True)
    all_problems = all_problems.sort("row", maintain_order=True)
    blank, example = checked.blank_rows, checked.example_rows
    del checked
    rejected_rows = set(all_problems.filter(pl.col("severity") == REJECTED)["row"].to_list())
    outside = set(all_problems.filter(pl.col("severity") == NOT_ELIGIBLE)["row"].to_list())
    to_enrol = linked.to_enrol.filter(~pl.col("row").is_in(list(rejected_rows | outside)))
    reviews = linked.reviews
    auto_links = linked.auto_links
    counts = {
        "total": total,
        "blank": blank,
        "example": example,
        "new": int((to_enrol["status"] == "new").sum()),
        # registered workers newly funded, with those whose NIK was corrected automatically
        "existing": int(to_enrol["status"].is_in(["exact", "corrected_typo"]).sum()),
        "corrected": int((to_enrol["status"] == "corrected_typo").sum()),
        "already_enrolled": linked.already,
        "review": reviews.height,
        "rejected": len(rejected_rows),
        "not_eligible": len(outside - rejected_rows),
        "warnings": int((all_problems["severity"] == WARNING).sum()),
    }
    del linked

    # price: budget and cohort cap refuse the whole list, saying how many more would fit
    priced = price_rows(to_enrol, programme=programme, first=first, last=last)
    refused_rows = counts["rejected"] + counts["not_eligible"]
    message = priced.message
    if priced.refused:
        counts["fits"] = priced.fits
    elif refused_rows and not partial:
        message = refused_message(counts)
    elif counts["new"] + counts["existing"] == 0:
        message = (
            "Tidak ada perubahan: semua baris sudah terdaftar di program ini."
            if counts["already_enrolled"]
            else "Tidak ada baris yang dapat disimpan: daftar ini hanya berisi baris contoh "
            "templat, yang tidak pernah didaftarkan."
            if counts["example"] and not counts["total"]
            else "Tidak ada baris yang dapat disimpan."
        )

    commit = not dry_run and not priced.refused and (partial or not refused_rows)
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
    del reviews
    # save, one transaction
    if commit:
        if not message:
            message = (
                f"Tersimpan: {counts['new']} pekerja baru, {counts['existing']} pekerja terdaftar "
                "didanai program ini."
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
            import_rows_save(
                batch=batch,
                programme=programme,
                rows=to_enrol,
                reviews=review_payload,
                auto_links=auto_links,
                first=first,
                last=last,
                user=user,
                progress=say,
                cancelled=cancelled,
                seen_assignment=seen_assignment,
                # the saved status commits with the rows: no moment shows "saving" after them
                record=lambda: import_batch_record(
                    batch=batch,
                    problems=all_problems,
                    counts=counts,
                    message=message,
                    committed=True,
                    dry_run=False,
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
        import_batch_record(
            batch=batch,
            problems=all_problems,
            counts=counts,
            message=message,
            committed=False,
            dry_run=dry_run,
        )
    say("done", 0, 0)
    return ImportOutcome(
        batch,
        counts,
        all_problems,
        commit,
        message,
        priced.fits if priced.refused else None,
        review_payload,
        seconds,
    )
