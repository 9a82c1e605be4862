"""Runs that die: every check or save of a list holds a lease naming its process, and a run whose
process is gone is marked failed (nothing saved) instead of showing "running" forever.

The lease is written once, committed before the long work starts: the computer's name, the
process id and the process's start time (a pid can later belong to another process; the start
time tells them apart). Why not a heartbeat in the database: on SQLite a save is one write
transaction holding the only write lock, so nothing can be written while it runs. A reader on
the same computer asks the operating system (psutil) whether the process still lives, which
also works for a run started by the `cakupan enrol import` command. A run on another computer
is possible only on PostgreSQL, where another connection can write during a save: such a run
refreshes `heartbeat_at` from a thread, and is judged gone when the heartbeat is older than
STALE.

The save writes the batch's final status in its own transaction, so "committed" and the saved
rows appear together: a run killed after its commit shows what it saved; one killed before
saved nothing (the transaction was rolled back).

`import_runs_reap` does the judging. It runs whenever a page shows a batch's status, when a task
starts on the worker, and when `cakupan serve` starts or restarts its worker. It also marks the
django-tasks result of a dead run failed, so no task stays "running" either.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from cakupan.membership.models import FundingAssignment, ImportBatch, ReviewCase

log = logging.getLogger(__name__)

RUNNING = (ImportBatch.Status.VALIDATING, ImportBatch.Status.COMMITTING)
HEARTBEAT = 20.0  # seconds between heartbeats of a run (PostgreSQL only)
STALE = dt.timedelta(minutes=2)  # a run on another computer silent this long is gone
# A task claimed by a worker takes its lease at once; one claimed this long ago without a lease
# lost its worker in between.
CLAIM_GRACE = dt.timedelta(minutes=1)
HOST = socket.gethostname()[:255]


def this_process() -> dict[str, object]:
    """The lease fields naming the running process."""
    return {
        "run_host": HOST,
        "run_pid": os.getpid(),
        "run_started": psutil.Process().create_time(),
        "heartbeat_at": timezone.now(),
    }


def process_alive(*, host: str, pid: int, started: float | None) -> bool | None:
    """Whether the process named by a lease still runs; None when it ran on another computer."""
    if host != HOST:
        return None
    try:
        process = psutil.Process(pid)
        if started is not None and abs(process.create_time() - started) > 1.0:
            return False  # the pid now belongs to another process
        return process.status() != psutil.STATUS_ZOMBIE  # killed, not yet waited for
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; another user's process


def owner_alive(batch: ImportBatch) -> bool:
    """Whether the process holding the batch's lease still runs (True while nobody holds it)."""
    if batch.run_pid is None:
        return True
    alive = process_alive(host=batch.run_host, pid=batch.run_pid, started=batch.run_started)
    if alive is not None:
        return alive
    if connection.vendor == "sqlite":
        # SQLite lives on one computer: another computer's run cannot be seen, nor can it beat
        return True
    return batch.heartbeat_at is not None and batch.heartbeat_at > timezone.now() - STALE


def lease_take(*, batch_id: int, run_id: str) -> bool:
    """Take the lease of a queued batch for this process (committed at once). False when the
    batch is no longer waiting to run (it was cancelled, or marked stopped, meanwhile)."""
    return bool(
        ImportBatch.objects.filter(pk=batch_id, status__in=RUNNING).update(
            run_id=run_id, **this_process()
        )
    )


class _Heartbeat(threading.Thread):
    """Refreshes the lease's heartbeat on its own connection until stopped (PostgreSQL)."""

    def __init__(self, batch_id: int, run_id: str) -> None:
        super().__init__(name=f"import-{batch_id}-heartbeat", daemon=True)
        self.batch_id, self.run_id = batch_id, run_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT):
                try:
                    ImportBatch.objects.filter(pk=self.batch_id, run_id=self.run_id).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    log.warning("heartbeat of import %s not written", self.batch_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection


@contextmanager
def heartbeat(batch: ImportBatch) -> Iterator[None]:
    """Beat while the block runs, where another connection can write during a save."""
    if connection.vendor == "sqlite" or not batch.run_id:
        yield
        return
    beat = _Heartbeat(batch.pk, batch.run_id)
    beat.start()
    try:
        yield
    finally:
        beat.stopped.set()
        beat.join(timeout=5)


def run_end(batch: ImportBatch, status: str, *, message: str = "", code: str = "") -> bool:
    """Record how a run ended, unless it had already ended (status only moves forward: a saved
    list is never marked failed afterwards, whatever happens next in its process)."""
    try:
        return bool(
            ImportBatch.objects.filter(pk=batch.pk, status__in=RUNNING, run_id=batch.run_id).update(
                status=status, message=message, message_code=code, finished_at=timezone.now()
            )
        )
    except DatabaseError:
        # the database itself is the trouble; import_runs_reap marks the batch once the
        # process is gone
        log.exception("could not record the end of import %s", batch.pk)
        return False


def _task_fail(task_id: str, why: str) -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=f"{__name__}.ProcessGone",
        traceback=why,
    )


def _stop(batch: ImportBatch, why: str) -> bool:
    """Mark a run whose process is gone: failed with nothing saved, or saved when its save had
    committed (a run from before the save recorded its own status)."""
    from cakupan.membership.tasks import cancel_flag

    with transaction.atomic():
        saved = (
            FundingAssignment.objects.filter(batch=batch).exists()
            or ReviewCase.objects.filter(batch=batch).exists()
        )
        # only the run judged: not one started again meanwhile
        done = ImportBatch.objects.filter(
            pk=batch.pk, status=batch.status, run_id=batch.run_id, run_pid=batch.run_pid
        ).update(
            status=ImportBatch.Status.COMMITTED if saved else ImportBatch.Status.FAILED,
            message="",
            message_code=ImportBatch.STOPPED_SAVED if saved else ImportBatch.STOPPED,
            finished_at=timezone.now(),
        )
        if done and batch.task_id:
            _task_fail(batch.task_id, why)
    if done:
        cancel_flag(batch.pk).unlink(missing_ok=True)
        log.warning("import %s: %s; marked %s", batch.pk, why, "saved" if saved else "failed")
    return bool(done)


def _queued_task_gone(batch: ImportBatch) -> str:
    """Why a batch queued for the worker (no lease yet) will never run, or "" while it may."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if not batch.task_id:
        return "no task was queued for it"
    task = DBTaskResult.objects.filter(id=batch.task_id).first()
    if task is None:
        return "its task is gone"
    if task.status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL):
        return "its task ended without finishing it"
    if (
        task.status == TaskResultStatus.RUNNING
        and task.started_at is not None
        and task.started_at < timezone.now() - CLAIM_GRACE
    ):
        return "the worker that took its task stopped before starting it"
    return ""


def import_runs_reap(batch_ids: Iterable[int] | None = None) -> int:
    """Mark the runs whose process is gone (of these batches, or of all); returns how many.

    Also marks failed the task results of import runs whose worker is gone, such as one killed
    right after its save committed (its batch already says "saved").
    """
    qs = ImportBatch.objects.filter(status__in=RUNNING)
    if batch_ids is not None:
        qs = qs.filter(pk__in=list(batch_ids))
    stopped = 0
    for batch in qs:
        if batch.run_pid is not None:
            if not owner_alive(batch):
                stopped += _stop(
                    batch,
                    f"its process (pid {batch.run_pid} on {batch.run_host}) stopped before it finished",
                )
        elif why := _queued_task_gone(batch):
            stopped += _stop(batch, why)
    if batch_ids is None:
        _reap_task_results()
    return stopped


def _reap_task_results() -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from cakupan.membership.tasks import import_batch_run

    for task in DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path=import_batch_run.module_path
    ):
        args = (task.args_kwargs or {}).get("args") or [None]
        batch = ImportBatch.objects.filter(pk=args[0]).first()
        if batch is None:
            _task_fail(str(task.id), "its import batch no longer exists")
        elif batch.run_id == str(task.id):
            if batch.status not in RUNNING and not owner_alive(batch):
                _task_fail(
                    str(task.id),
                    f"its process (pid {batch.run_pid} on {batch.run_host}) stopped after the "
                    f"import ended ({batch.status})",
                )
        elif task.started_at is not None and task.started_at < timezone.now() - CLAIM_GRACE:
            _task_fail(str(task.id), "the worker that took it stopped before starting it")


def pause_point(stage: str) -> None:
    """Test hook: with CAKUPAN_TEST_PAUSE_AT=stage:marker-file the first run to reach that
    stage writes its pid to the marker file and sleeps there, so a test can kill it at that
    point; later runs (the marker exists) go on. A no-op without the variable."""
    wanted = os.environ.get("CAKUPAN_TEST_PAUSE_AT", "")
    if not wanted:
        return
    at, _, marker = wanted.partition(":")
    if at != stage:
        return
    if marker:
        if Path(marker).exists():
            return
        Path(marker).write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("CAKUPAN_TEST_PAUSE_SECONDS", "60")))
