"""Background work for bulk enrolment: checking and saving an uploaded list off the request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from cakupan.membership.importing import FileProblem, HeaderProblem
from cakupan.membership.imports import ImportCancelled, enrol_import
from cakupan.membership.models import ImportBatch

log = logging.getLogger(__name__)


def cancel_flag(batch_id: int):  # type: ignore[no-untyped-def]
    """A file beside the uploads: on SQLite the import's write transaction holds the only write
    lock, so a cancel request cannot be written to the database while it runs."""
    return settings.MEDIA_ROOT / "imports" / f"cancel-{batch_id}"


@task()
def import_batch_run(batch_id: int) -> dict:
    """Check (and, unless the batch is a dry run, save) an uploaded list; progress on the batch."""
    batch = ImportBatch.objects.select_related("programme__sponsor", "uploaded_by").get(pk=batch_id)
    flag = cancel_flag(batch_id)

    def progress(stage: str, done: int, total: int) -> None:
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
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.CANCELLED,
            message="Dibatalkan: tidak ada yang disimpan.",
            finished_at=timezone.now(),
        )
        flag.unlink(missing_ok=True)
        return {"status": "cancelled"}
    except (HeaderProblem, FileProblem, ValueError) as e:
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.FAILED, message=str(e), finished_at=timezone.now()
        )
        return {"status": "failed"}
    except Exception:
        # Whatever it was, the batch must not poll forever; the traceback goes to the log.
        log.exception("import batch %s failed", batch_id)
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.FAILED,
            message="Impor gagal karena kesalahan sistem dan tidak ada yang disimpan. "
            "Kesalahan sudah dicatat; coba lagi atau hubungi administrator.",
            finished_at=timezone.now(),
        )
        return {"status": "failed"}
    return {"status": outcome.batch.status, **outcome.counts}
