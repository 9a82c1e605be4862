"""Background work of the ledger: a month's billing started from the web, and a recount of the
lapse forecast (at the end).

The page takes the billing lock at once (`billing.run_start`, committed in the request), so a
second officer is told a run is in progress before any worker starts; the run waits as
"queued" until the task worker (`cakupan serve` runs one) picks it up. The task then takes the
run's lease (this process: host, pid, start time — see membership/runs.py) and bills the month
with `billing.billing_run`, which records the outcome on the run and releases the lock.

Progress: billing a month is one transaction. Its stages are written to the run from a second
connection on PostgreSQL (the billing transaction holds only a key-share lock on the run's row,
so the update does not wait); on SQLite the transaction holds the only write lock, so the page
shows "billing" until the result is there.
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection, connections
from django.utils import timezone
from django_tasks import TaskContext, task

from cakupan.contributions.billing import billing_run, run_fail
from cakupan.contributions.forecast import (
    check_date,
    forecast_month,
    forecast_pending,
    forecast_store,
)
from cakupan.contributions.models import BillingRun, ForecastRun
from cakupan.errors import Refused
from cakupan.membership.runs import CLAIM_GRACE, process_alive, this_process

log = logging.getLogger(__name__)

STOPPED = "The process running this billing stopped; nothing was billed. Start it again."
TASK_GONE = "The background worker did not run this billing; nothing was billed. Start it again."
FAILED = "The billing stopped on an unexpected error; nothing was billed. Start it again."
FAILED_COUNT = "The count stopped on an unexpected error; the previous count stays. Ask again."


def _stage_write(run_id: int, stage: str) -> None:
    """Record the stage the run has reached where other connections can see it at once."""
    if not connection.in_atomic_block:
        BillingRun.objects.filter(pk=run_id).update(stage=stage)
        return
    if connection.vendor != "postgresql":
        return  # SQLite: the billing transaction holds the only write lock

    def write() -> None:
        try:
            BillingRun.objects.filter(pk=run_id, lock=True).update(stage=stage)
        except DatabaseError:
            log.warning("stage of billing run %s not written", run_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=write, name=f"billing-{run_id}-stage", daemon=True)
    thread.start()
    thread.join(timeout=5)


@task(takes_context=True)
def billing_month_run(context: TaskContext, run_id: int) -> dict:
    """Bill the month of a queued billing run; the outcome is recorded on the run."""
    lease = {k: v for k, v in this_process().items() if k != "heartbeat_at"}
    taken = BillingRun.objects.filter(pk=run_id, lock=True, status=BillingRun.Status.QUEUED).update(
        status=BillingRun.Status.RUNNING,
        stage="start",
        task_id=str(context.task_result.id),
        **lease,
    )
    if not taken:
        return {"status": "not running"}  # marked stopped meanwhile
    run = BillingRun.objects.select_related("started_by").get(pk=run_id)
    try:
        result = billing_run(
            month=run.month,
            run=run,
            progress=lambda stage: _stage_write(run_id, stage),
        )
    except Refused as e:
        return {"status": "failed", "message": e.message}
    except Exception:
        # the run must not poll forever; the traceback goes to the log
        log.exception("billing run %s failed", run_id)
        BillingRun.objects.filter(pk=run_id, lock=True).update(lock=None)
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.FAILED, message=FAILED, finished_at=timezone.now()
        )
        return {"status": "failed"}
    return {
        "status": "done",
        "bills_added": result.bills_added,
        "amount_added": result.amount_added,
        "invoices_added": result.invoices_added,
    }


def billing_start(*, month, user) -> BillingRun:
    """Take the billing lock for `month` now (or refuse: BillingInProgress) and queue the
    billing for the task worker."""
    from cakupan.contributions.billing import run_start

    run = run_start(month=month, user=user)
    # the lease is the worker's once it starts; until then the run waits for its task
    result = billing_month_run.enqueue(run.pk)
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.QUEUED,
        task_id=str(result.id),
        run_host="",
        run_pid=None,
        run_started=None,
    )
    run.refresh_from_db()
    return run


def _task_gone(run: BillingRun) -> bool:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if not run.task_id:
        return False  # a run of the command line, judged by its process
    try:
        found = DBTaskResult.objects.filter(id=run.task_id).first()
    except (ValueError, DatabaseError):
        return False  # another task backend (tests' immediate backend)
    if found is None:
        return True
    if found.status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL):
        return True
    return (
        run.status == BillingRun.Status.QUEUED
        and found.status == TaskResultStatus.RUNNING
        and found.started_at is not None
        and found.started_at < timezone.now() - CLAIM_GRACE
    )


def billing_runs_reap() -> int:
    """Mark failed the billing runs still holding the lock whose process or task is gone (a
    worker killed mid-run: its transaction was rolled back, nothing was billed)."""
    stopped = 0
    for run in BillingRun.objects.filter(lock=True):
        if run.run_pid:
            alive = process_alive(host=run.run_host, pid=run.run_pid, started=run.run_started)
            if alive is False:
                run_fail(run, STOPPED)
                stopped += 1
        elif run.status == BillingRun.Status.QUEUED and _task_gone(run):
            run_fail(run, TASK_GONE)
            stopped += 1
    return stopped


# -- a recount of the lapse forecast ----------------------------------------------------------


@task()
def forecast_count(run_id: int) -> dict:
    """Count and store the lapse forecast of a queued recount (contributions.forecast)."""
    run = ForecastRun.objects.filter(pk=run_id, status=ForecastRun.Status.QUEUED).first()
    if run is None:
        return {"status": "not queued"}
    try:
        run = forecast_store(run=run)  # asked today
    except Exception:
        # the page must not wait forever; the traceback goes to the log
        log.exception("forecast run %s failed", run_id)
        ForecastRun.objects.filter(pk=run_id).update(
            status=ForecastRun.Status.FAILED, error=FAILED_COUNT, finished_at=timezone.now()
        )
        return {"status": "failed"}
    return {"status": "done", "total": run.total}


def forecast_request(*, user) -> ForecastRun:
    """Queue a recount of the lapse forecast for the task worker; a recount already waiting or
    counting is returned instead of a second one."""
    pending = forecast_pending()
    if pending is not None:
        return pending
    on = timezone.localdate()
    run = ForecastRun.objects.create(
        on=on, month=forecast_month(on), check_date=check_date(on), requested_by=user
    )
    forecast_count.enqueue(run.pk)
    return run
