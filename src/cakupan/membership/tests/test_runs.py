"""Runs that die: leases, the judging of runs whose process is gone, status only moving forward,
and what the page says. The real kills are in tests/test_runs_killed.py."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cakupan.membership.imports import ImportConflict, enrol_import
from cakupan.membership.models import FundingAssignment, ImportBatch, Membership
from cakupan.membership.runs import import_runs_reap, process_alive
from cakupan.membership.services import membership_enrol
from cakupan.membership.tests.test_imports import NOV, programme, write
from cakupan.membership.tests.test_imports import line as row
from cakupan.membership.tests.test_pages import HEAD, line, run_worker, upload, worker_test
from cakupan.registry.models import Worker
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")

STOPPED_ID = "Tidak ada yang disimpan dari daftar ini"


@pytest.fixture
def web_programme():
    """A programme running this year and next: the web and the worker import as of today."""
    year = dt.date.today().year
    return programme(
        name="Ojol sehat",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year + 1, 12, 1),
    )


def dead_process() -> tuple[int, float]:
    """The pid and start time of a process that has ended (and been waited for)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(proc.pid).create_time()
    proc.wait()
    return proc.pid, started


def lease(batch: ImportBatch, *, pid: int, started: float, host: str | None = None, **more) -> None:
    from cakupan.membership.runs import HOST

    ImportBatch.objects.filter(pk=batch.pk).update(
        run_id=batch.task_id or "cli-test",
        run_host=host or HOST,
        run_pid=pid,
        run_started=started,
        **more,
    )


def test_a_process_is_told_apart_from_one_reusing_its_pid() -> None:
    me = psutil.Process()
    assert process_alive(host=me_host(), pid=me.pid, started=me.create_time()) is True
    # the same pid with another start time: the process that held the lease is gone
    assert process_alive(host=me_host(), pid=me.pid, started=me.create_time() - 3600) is False
    pid, started = dead_process()
    assert process_alive(host=me_host(), pid=pid, started=started) is False
    assert process_alive(host="elsewhere", pid=me.pid, started=me.create_time()) is None


def me_host() -> str:
    from cakupan.membership.runs import HOST

    return HOST


def test_an_import_conflict_leaves_the_batch_failed_not_checking(tmp_path: Path) -> None:
    """A list refused at the save (someone enrolled meanwhile) must not stay "checking"."""
    worker = make_worker(full_name="Rebutan")
    rows = [
        f"{worker.nik},{worker.full_name},{worker.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n",
        row(1),
    ]
    city = programme("apbd", name="Pemkot")
    calls = {"n": 0}

    def officer_enrols_meanwhile() -> bool:
        calls["n"] += 1
        if calls["n"] == 2:  # after the checks, before the save
            membership_enrol(worker=worker, programme=city, start=NOV)
        return False

    with pytest.raises(ImportConflict):
        enrol_import(
            path=write(tmp_path, rows),
            programme=programme("csr", name="RS"),
            as_of=NOV,
            cancelled=officer_enrols_meanwhile,
        )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert "didanai pihak lain" in batch.status_message() and batch.finished_at is not None
    assert Worker.objects.count() == 1 and FundingAssignment.objects.count() == 1


def test_a_run_stopped_by_ctrl_c_says_it_stopped_and_saved_nothing(tmp_path: Path) -> None:
    def ctrl_c() -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        enrol_import(
            path=write(tmp_path, [row(1)]), programme=programme(), as_of=NOV, cancelled=ctrl_c
        )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.message_code == batch.STOPPED
    assert STOPPED_ID in batch.status_message() and not Worker.objects.exists()


def test_a_list_being_saved_never_shows_checking_again(tmp_path: Path) -> None:
    """The command line: checking, then saving, then saved; the saved status comes with the rows."""
    seen: list[tuple[str, str, int]] = []

    def watch(stage: str, done: int, total: int) -> None:
        batch = ImportBatch.objects.order_by("-pk").first()
        if batch is not None:
            seen.append((stage, batch.status, Membership.objects.count()))

    enrol_import(
        path=write(tmp_path, [row(i) for i in range(3)]),
        programme=programme(),
        as_of=NOV,
        progress=watch,
    )
    statuses = [status for _stage, status, _m in seen]
    order = ["validating", "committing", "committed"]
    assert statuses == sorted(statuses, key=order.index)  # never backwards
    assert ("link", "validating", 0) in seen and ("save", "committing", 0) in seen
    assert seen[-1] == ("done", "committed", 3)


@worker_test
def test_a_save_on_the_worker_stays_saving_until_saved(officer, web_programme) -> None:
    """The page polled during a save said "checking": the save run began by flipping it back."""
    from cakupan.membership import tasks

    upload(officer, web_programme, HEAD + line(1) + line(2))
    run_worker()
    batch = ImportBatch.objects.get()
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    seen = []
    original = tasks.enrol_import

    def spy(**kw):
        progress = kw["progress"]

        def watch(stage: str, done: int, total: int) -> None:
            progress(stage, done, total)
            seen.append((stage, ImportBatch.objects.get(pk=batch.pk).status))

        return original(**{**kw, "progress": watch})

    tasks.enrol_import = spy
    try:
        run_worker()
    finally:
        tasks.enrol_import = original
    assert {s for stage, s in seen if stage != "done"} == {"committing"}, seen
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and "Tersimpan" in batch.message


@worker_test
def test_a_worker_gone_mid_check_is_marked_failed_and_can_be_checked_again(
    officer, web_programme
) -> None:
    upload(officer, web_programme, HEAD + line(1))
    batch = ImportBatch.objects.get()
    DBTaskResult.objects.filter(id=batch.task_id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now()
    )
    pid, started = dead_process()
    lease(batch, pid=pid, started=started)
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert STOPPED_ID in page and "Periksa lagi" in page and "every 1s" not in page
    assert DBTaskResult.objects.get(id=batch.task_id).status == TaskResultStatus.FAILED
    officer.post(f"/pendaftaran/impor/{batch.pk}/ulang/")
    run_worker()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.counts["new"] == 1
    assert batch.message_code == "" and batch.status_message() == ""


@worker_test
def test_a_live_run_is_left_running(officer, web_programme) -> None:
    upload(officer, web_programme, HEAD + line(1))
    batch = ImportBatch.objects.get()
    me = psutil.Process()
    lease(batch, pid=me.pid, started=me.create_time())
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATING and "every 1s" in page
    assert import_runs_reap() == 0


def test_a_run_on_another_computer_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    enrol_import(path=write(tmp_path, [row(1)]), programme=programme(), as_of=NOV, dry_run=True)
    batch = ImportBatch.objects.get()
    old = timezone.now() - dt.timedelta(minutes=10)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.VALIDATING)
    lease(batch, pid=1, started=0.0, host="server-lain", heartbeat_at=old)
    reaped = import_runs_reap()
    batch.refresh_from_db()
    if connection.vendor == "sqlite":
        # SQLite is one computer's file: a run elsewhere cannot be seen, nor judged
        assert reaped == 0 and batch.status == ImportBatch.Status.VALIDATING
    else:
        assert reaped == 1 and batch.status == ImportBatch.Status.FAILED
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.VALIDATING)
        lease(batch, pid=1, started=0.0, host="server-lain", heartbeat_at=timezone.now())
        assert import_runs_reap() == 0


@worker_test
def test_a_task_taken_by_a_worker_that_died_before_starting_it(officer, web_programme) -> None:
    upload(officer, web_programme, HEAD + line(1))
    batch = ImportBatch.objects.get()
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    DBTaskResult.objects.filter(id=batch.task_id).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago
    )
    assert import_runs_reap() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert DBTaskResult.objects.get(id=batch.task_id).status == TaskResultStatus.FAILED


@worker_test
def test_a_queued_check_waits_for_the_worker(officer, web_programme) -> None:
    upload(officer, web_programme, HEAD + line(1))
    assert import_runs_reap() == 0
    assert ImportBatch.objects.get().status == ImportBatch.Status.VALIDATING


@worker_test
def test_a_worker_killed_after_the_commit_leaves_a_saved_list_and_a_failed_task(
    officer, web_programme
) -> None:
    upload(officer, web_programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    run_worker()
    batch.refresh_from_db()
    # as if its worker died between the commit and recording the task's end
    DBTaskResult.objects.filter(id=batch.task_id).update(status=TaskResultStatus.RUNNING)
    pid, started = dead_process()
    lease(batch, pid=pid, started=started)
    import_runs_reap()
    assert DBTaskResult.objects.get(id=batch.task_id).status == TaskResultStatus.FAILED
    page = officer.get(f"/pendaftaran/impor/{batch.pk}/").content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and "Tersimpan: 1 pekerja baru" in page
    assert "/batal/" not in page


@worker_test
def test_a_cancel_during_a_save_promises_nothing_it_cannot_keep(officer, web_programme) -> None:
    upload(officer, web_programme, HEAD + line(1))
    run_worker()
    batch = ImportBatch.objects.get()
    officer.post(f"/pendaftaran/impor/{batch.pk}/simpan/")
    me = psutil.Process()
    lease(batch, pid=me.pid, started=me.create_time())
    page = officer.post(f"/pendaftaran/impor/{batch.pk}/batal/", follow=True).content.decode()
    assert "Bila sampai sebelum penyimpanan selesai" in page
    assert "tidak ada dari daftar ini yang akan disimpan" not in page
    assert "Pembatalan diminta: menunggu proses berhenti" in page


def test_the_programme_page_shows_a_dead_run_as_failed(officer, tmp_path: Path) -> None:
    p = programme()
    enrol_import(path=write(tmp_path, [row(1)]), programme=p, as_of=NOV, dry_run=True)
    batch = ImportBatch.objects.get()
    pid, started = dead_process()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.VALIDATING)
    lease(batch, pid=pid, started=started)
    page = officer.get(f"/program/{p.pk}/").content.decode()
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert "Gagal" in page and "Memeriksa" not in page


def test_the_supervisor_starts_a_dead_worker_again_and_stops_it(caplog) -> None:
    from cakupan.supervisor import WorkerSupervisor

    restarted = []
    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        on_restart=lambda: restarted.append(1),
        min_backoff=0.1,
    )
    caplog.set_level(logging.WARNING, logger="cakupan.serve")
    supervisor.start()
    try:
        first = supervisor.child
        first.kill()
        deadline = time.monotonic() + 10
        while supervisor.child is first and time.monotonic() < deadline:
            time.sleep(0.05)
        second = supervisor.child
        assert second is not first and second.poll() is None and restarted == [1]
        assert "berhenti dengan kode -9" in caplog.text and "dijalankan lagi" in caplog.text
    finally:
        supervisor.stop(timeout=5)
    assert second.poll() is not None  # stopped with the supervisor
    assert supervisor.restarts == 1


def test_the_supervisor_waits_longer_after_each_quick_death() -> None:
    """A worker that cannot start is not started again in a tight loop."""
    from cakupan.supervisor import WorkerSupervisor

    restarts: list[float] = []
    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "raise SystemExit(3)"],
        on_restart=lambda: restarts.append(time.monotonic()),
        min_backoff=0.2,
        max_backoff=0.8,
    )
    supervisor.start()
    try:
        deadline = time.monotonic() + 60
        while len(restarts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        supervisor.stop(timeout=5)
    assert len(restarts) >= 3
    # 0.2 s before the first restart, then 0.4, then 0.8 (the ceiling): at least that apart
    assert restarts[1] - restarts[0] >= 0.4 and restarts[2] - restarts[1] >= 0.8


@worker_test
def test_a_run_beats_where_another_connection_can_write_during_its_save(
    tmp_path: Path, monkeypatch
) -> None:
    from cakupan.membership import runs

    enrol_import(path=write(tmp_path, [row(1)]), programme=programme(), as_of=NOV, dry_run=True)
    batch = ImportBatch.objects.get()
    before = batch.heartbeat_at
    monkeypatch.setattr(runs, "HEARTBEAT", 0.05)
    with runs.heartbeat(batch):
        deadline = time.monotonic() + (0.5 if connection.vendor == "sqlite" else 20)
        while time.monotonic() < deadline:
            batch.refresh_from_db()
            if batch.heartbeat_at != before:
                break
            time.sleep(0.05)
    if connection.vendor == "sqlite":
        # one computer, judged by its process: no thread, no write during the save's lock
        assert batch.heartbeat_at == before
    else:
        assert batch.heartbeat_at > before
