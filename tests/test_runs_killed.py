"""Runs that die for real: a `cakupan enrol import` command and a task worker, each a real
subprocess killed with SIGKILL while checking, while linking, in the middle of the save and right
after the commit. No list may stay "running", nothing may be half-written, the page must say
what was saved, and a new run must complete. Also: `cakupan serve` starts a killed worker again.

The subprocess works on the test's own database: on PostgreSQL the test database by its URL
(hence transactional tests: the rows must be committed for another connection to see them); on
SQLite the in-memory test database is copied to a file for the subprocess and back afterwards.
The run is paused at the named stage by the test hook CAKUPAN_TEST_PAUSE_AT (runs.pause_point).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cakupan.membership.imports import enrol_import
from cakupan.membership.models import FundingAssignment, ImportBatch, Membership
from cakupan.membership.runs import RUNNING, import_runs_reap
from cakupan.membership.tests.test_imports import HEAD, line
from cakupan.registry.models import Worker

pytestmark = pytest.mark.slow

STAGES = ["check", "link", "save", "committed"]
NOTHING_SAVED = "Tidak ada yang disimpan dari daftar ini"


@dataclass
class SharedDb:
    """The test database as a subprocess reaches it."""

    url: str
    push: Callable[[], None]  # make the test's rows visible to the subprocess
    pull: Callable[[], None]  # make the subprocess's rows visible to the test


@pytest.fixture
def shared_db(transactional_db, tmp_path: Path) -> Iterator[SharedDb]:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        yield SharedDb(url, lambda: None, lambda: None)
        return
    path = tmp_path / "shared.sqlite3"

    def push() -> None:
        connection.ensure_connection()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()

    def pull() -> None:
        # a new connection recovers the file as a restarted server would: what the killed
        # process had not committed is not there
        source = sqlite3.connect(path)
        source.backup(connection.connection)
        source.close()

    yield SharedDb(f"sqlite:///{path}", push, pull)


def spawn(args: list[str], db: SharedDb, *, pause_at: str, marker: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "CAKUPAN_VAR": str(settings.VAR_DIR),  # the same uploads and cancel flags
        "CAKUPAN_TEST_PAUSE_AT": f"{pause_at}:{marker}",
        "PYTHONUNBUFFERED": "1",
    }
    log = (marker.parent / f"{marker.name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def kill_when_paused(proc: subprocess.Popen, marker: Path, timeout: float = 90) -> None:
    """Wait until the run pauses at its stage, then kill it outright."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log = Path(f"{marker}.log").read_text()
            pytest.fail(f"the run never paused (exit {proc.returncode}):\n{log}")
        time.sleep(0.05)
    assert int(marker.read_text()) == proc.pid
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def nothing_written() -> bool:
    return not (
        Worker.objects.exists() or Membership.objects.exists() or FundingAssignment.objects.exists()
    )


@pytest.mark.parametrize("stage", STAGES)
def test_a_killed_command_line_import_leaves_no_list_running(
    stage: str, shared_db: SharedDb, programme, officer, tmp_path: Path
) -> None:
    path = tmp_path / "daftar.csv"
    path.write_text(HEAD + line(1) + line(2) + line(3), encoding="utf-8")
    marker = tmp_path / "paused"
    shared_db.push()
    proc = spawn(
        ["-m", "cakupan.cli", "enrol", "import", str(path), "--programme", str(programme.pk)],
        shared_db,
        pause_at=stage,
        marker=marker,
    )
    kill_when_paused(proc, marker)
    shared_db.pull()

    batch = ImportBatch.objects.get()
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    batch.refresh_from_db()
    assert batch.status not in RUNNING and "every 1s" not in page and "/batal/" not in page
    if stage == "committed":
        # killed after its commit: it says what it saved, and it is all there
        assert batch.status == ImportBatch.Status.COMMITTED
        assert "Tersimpan: 3 pekerja baru" in page
        assert FundingAssignment.objects.filter(batch=batch).count() == 3
        again = enrol_import(path=path, programme=programme)
        assert again.unchanged and FundingAssignment.objects.count() == 3
        return
    assert batch.status == ImportBatch.Status.FAILED and NOTHING_SAVED in page
    assert "Jalankan impornya lagi" in page  # a command's list: no file to check again here
    assert nothing_written()
    again = enrol_import(path=path, programme=programme)  # the command run again
    assert again.committed and again.counts["new"] == 3
    assert FundingAssignment.objects.count() == 3


@pytest.mark.parametrize("stage", STAGES)
def test_a_killed_task_worker_leaves_no_list_or_task_running(
    stage: str, shared_db: SharedDb, programme, officer, tmp_path: Path
) -> None:
    from cakupan.membership.tests.test_pages import run_worker, upload

    upload(officer, programme, HEAD + line(1) + line(2) + line(3))
    batch = ImportBatch.objects.get()
    saving = stage in ("save", "committed")
    if saving:  # the check runs to the end; the save is the run killed
        run_worker()
        officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    batch.refresh_from_db()
    task_id = batch.task_id
    marker = tmp_path / "paused"
    shared_db.push()
    proc = spawn(
        ["-m", "cakupan.manage", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        shared_db,
        pause_at=stage,
        marker=marker,
    )
    kill_when_paused(proc, marker)
    shared_db.pull()
    assert DBTaskResult.objects.get(id=task_id).status == TaskResultStatus.RUNNING

    # what a restarted server or worker does first
    import_runs_reap()
    assert DBTaskResult.objects.get(id=task_id).status == TaskResultStatus.FAILED
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    batch.refresh_from_db()
    assert batch.status not in RUNNING and "every 1s" not in page and "/batal/" not in page
    if stage == "committed":
        assert batch.status == ImportBatch.Status.COMMITTED
        assert "Tersimpan: 3 pekerja baru" in page and "Periksa lagi" not in page
        assert FundingAssignment.objects.filter(batch=batch).count() == 3
        return
    assert batch.status == ImportBatch.Status.FAILED
    assert NOTHING_SAVED in page and "Periksa lagi" in page
    assert nothing_written()
    # started again from the page: checked, then saved
    officer.post(f"/pendaftaran/impor/{batch.pk}/ulang/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.counts["new"] == 3
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert FundingAssignment.objects.filter(batch=batch).count() == 3


def _wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# Runs beside the server, on its database: "start" queues a list; "after" reports on it and
# queues another, waiting for the worker to check it.
SCRIPT = """
import os, sys, time, datetime as dt
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cakupan.settings")
import django; django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from cakupan.funding.models import FundingProgramme
from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import ImportBatch
from cakupan.membership.services import import_batch_create, import_batch_start
mode, body = sys.argv[1:]
if mode == "start":
    year = dt.date.today().year
    programme = programme_create(
        sponsor=sponsor_create(type="csr", name="RS"), name="Ojol", fiscal_year=year,
        first_month=dt.date(year, 1, 1), last_month=dt.date(year, 12, 1), budget=10**8,
    )
else:
    programme = FundingProgramme.objects.get()
    killed = ImportBatch.objects.get()
    print(killed.status, killed.message_code, DBTaskResult.objects.get(id=killed.task_id).status)
upload = SimpleUploadedFile("daftar.csv", body.encode(), content_type="text/csv")
batch = import_batch_create(programme=programme, upload=upload, user=None)
import_batch_start(batch=batch, dry_run=True)
deadline = time.monotonic() + 90
while mode == "after" and time.monotonic() < deadline:
    batch.refresh_from_db()
    if batch.status not in ("validating", "committing"):
        break
    time.sleep(0.2)
print(batch.status, batch.counts.get("new"))
"""


def test_serve_starts_a_killed_worker_again_marks_its_run_and_takes_the_next_upload(
    tmp_path: Path,
) -> None:
    """On its own fresh embedded database, as `make run` starts it."""
    from tests.test_cli import _free_port

    port = _free_port()
    marker = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CAKUPAN_VAR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
        CAKUPAN_TEST_PAUSE_AT=f"check:{marker}",  # the first list checked pauses there
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cakupan.cli", "serve", "--port", str(port), "--no-demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip

    def script(mode: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, mode, HEAD + line(1) + line(2)],
            env=env, capture_output=True, text=True, timeout=150,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.split()

    try:
        serve = psutil.Process(proc.pid)

        def worker() -> psutil.Process | None:
            for child in serve.children():
                try:
                    if "db_worker" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                        return child
                except psutil.NoSuchProcess:
                    pass
            return None

        first = _wait_for(worker, 90, "the task worker")
        assert script("start") == ["validating", "None"]
        _wait_for(marker.exists, 90, "the worker to pause while checking")
        assert int(marker.read_text()) == first.pid
        first.kill()
        second = _wait_for(lambda: (w := worker()) and w.pid != first.pid and w, 60, "a new worker")
        assert second.is_running()
        # the killed worker's list and task were marked before the new worker started
        assert script("after") == ["failed", "stopped", "FAILED", "previewed", "2"]
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert "berhenti dengan kode -9" in out and "dijalankan lagi" in out, out
    assert "cakupan berhenti" in out
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
