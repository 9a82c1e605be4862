"""Background work for bulk enrolment: checking and saving an uploaded list off the request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django_tasks import TaskContext, task

from cakupan.membership.imports import (
    SYSTEM_ERROR,
    FileProblem,
    HeaderProblem,
    ImportCancelled,
    enrol_import,
)
from cakupan.membership.models import ImportBatch
from cakupan.membership.runs import import_runs_reap, lease_take, run_end

log = logging.getLogger(__name__)


def cancel_flag(batch_id: int):
    """A file beside the uploads: on SQLite the import's write transaction holds the only write
    lock, so a cancel request cannot be written to the database while it runs."""
    return settings.MEDIA_ROOT / "imports" / f"cancel-{batch_id}"


@task(takes_context=True)
def import_batch_run(context: TaskContext, batch_id: int) -> dict:
    """Check (and, unless the batch is a dry run, save) an uploaded list; progress on the batch.

    The run first takes the batch's lease (this process, committed before the long work), so a
    worker killed halfway leaves a batch that import_runs_reap can tell is no longer running.
    How the run ends is recorded on the batch by enrol_import.
    """
    if not lease_take(batch_id=batch_id, run_id=str(context.task_result.id)):
        return {"status": "not running"}  # cancelled or marked stopped while it waited
    # runs whose worker died before this one started (a worker started by hand, say)
    import_runs_reap()
    batch = ImportBatch.objects.select_related("programme__sponsor", "uploaded_by").get(pk=batch_id)
    flag = cancel_flag(batch_id)

    def progress(stage: str, done: int, total: int) -> None:
        # Inside the save's transaction nobody else would see it, and on PostgreSQL it would
        # hold the batch's row (and its heartbeat) until the commit.
        if not connection.in_atomic_block:
            ImportBatch.objects.filter(pk=batch_id).update(stage=stage, rows_done=done)

    def cancelled() -> bool:
        return (
            flag.exists() or ImportBatch.objects.filter(pk=batch_id, cancel_requested=True).exists()
        )

    try:
        outcome = enrol_import(
            path=batch.file.path,
            programme=batch.programme,
            original_name=batch.original_name,
            column_map=batch.column_map,
            partial=batch.partial,
            dry_run=batch.dry_run,
            user=batch.uploaded_by,
            batch=batch,
            progress=progress,
            cancelled=cancelled,
        )
    except ImportCancelled:
        flag.unlink(missing_ok=True)
        return {"status": "cancelled"}
    except (HeaderProblem, FileProblem, ValueError) as e:
        # enrol_import recorded it, unless it failed before enrol_import began (no file)
        run_end(batch, ImportBatch.Status.FAILED, message=str(e))
        return {"status": "failed"}
    except Exception:
        # Whatever it was, the batch must not poll forever; the traceback goes to the log.
        log.exception("import batch %s failed", batch_id)
        run_end(batch, ImportBatch.Status.FAILED, message=SYSTEM_ERROR)
        return {"status": "failed"}
    return {"status": outcome.batch.status, **outcome.counts}
