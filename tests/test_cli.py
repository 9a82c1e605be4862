"""The `cakupan` command: NIK checks, region import, users; `serve` as `make run` starts it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from cakupan.cli import app

runner = CliRunner()


@pytest.mark.usefixtures("malang")
def test_nik_check_json_prints_every_field() -> None:
    result = runner.invoke(app, ["nik", "check", "3573055203900002", "3573091203900000", "--json"])
    assert result.exit_code == 1  # one of them is invalid
    ok, bad = json.loads(result.stdout)
    assert ok == {
        "nik": "3573055203900002",
        "valid": True,
        "sex": "P",
        "birth_date": "1990-03-12",
        "region_code": "35.73.05",
        "problems": [],
    }
    assert {p["code"] for p in bad["problems"]} == {"unknown_region", "serial_zero"}


@pytest.mark.usefixtures("malang")
def test_nik_check_table_is_indonesian() -> None:
    result = runner.invoke(app, ["nik", "check", "3573051203900001"])
    assert result.exit_code == 0
    assert "sah" in result.stdout and "laki-laki" in result.stdout and "1990-03-12" in result.stdout


@pytest.mark.django_db
def test_regions_import_reports_rows_and_is_idempotent(tmp_path: Path) -> None:
    good = tmp_path / "wilayah.csv"
    good.write_text("kode,nama\n35,Jawa Timur\n35.73,Kota Malang\n")
    first = runner.invoke(app, ["regions", "import", str(good)])
    assert first.exit_code == 0 and "2 baru" in first.stdout
    again = runner.invoke(app, ["regions", "import", str(good)])
    assert again.exit_code == 0 and "Tidak ada perubahan" in again.stdout
    bad = tmp_path / "salah.csv"
    bad.write_text("kode,nama\n35,Jawa Timur\n35.7x,Salah\n")
    result = runner.invoke(app, ["regions", "import", str(bad)])
    assert result.exit_code == 2
    assert "baris 3" in result.stderr and "Tidak ada yang diimpor" in result.stderr
    missing = runner.invoke(app, ["regions", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "tidak ditemukan" in missing.stderr


@pytest.mark.django_db
def test_createuser_with_role_and_token() -> None:
    from cakupan.accounts.models import ApiToken, User

    result = runner.invoke(app, ["createuser", "sari", "--role", "city_officer", "--token"])
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="sari").role == "city_officer"
    assert ApiToken.objects.filter(user__username="sari").count() == 1
    refused = runner.invoke(app, ["createuser", "tono", "--role", "raja"])
    assert refused.exit_code == 2 and "tidak dikenal" in refused.stderr
    weak = runner.invoke(app, ["createuser", "tono", "--role", "sponsor", "--password", "123"])
    assert weak.exit_code == 2 and not User.objects.filter(username="tono").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_sets_up_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """What `make run` does, on a fresh embedded database."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CAKUPAN_VAR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cakupan.cli", "serve", "--port", str(port), "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/masuk/", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "Kata sandi" in body
        assert (tmp_path / "var" / "cakupan.sqlite3").exists()
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert "Akun admin pertama dibuat" in out and "cakupan berhenti" in out
    # the task worker was a child of the same session: nothing of it may be left running
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


@pytest.mark.django_db
def test_demo_loads_workers_refuses_a_second_load_and_replaces() -> None:
    from cakupan.registry.models import DemoDataset, Worker

    first = runner.invoke(app, ["demo", "--workers", "300", "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert "300 pekerja" in first.stdout and Worker.objects.count() == 300
    from cakupan.accounts.models import User

    assert User.objects.get(username="sponsor").sponsor.name == "RS Hermina Malang (demo)"
    again = runner.invoke(app, ["demo", "--workers", "300", "--seed", "7", "--no-users"])
    assert again.exit_code == 2 and "--replace" in again.stderr
    replaced = runner.invoke(
        app, ["demo", "--workers", "50", "--seed", "8", "--replace", "--no-users"]
    )
    assert replaced.exit_code == 0 and Worker.objects.count() == 50
    assert DemoDataset.objects.get().seed == 8


@pytest.mark.django_db
def test_createuser_for_a_sponsor() -> None:
    from cakupan.accounts.models import User
    from cakupan.funding.services import sponsor_create

    sponsor = sponsor_create(type="csr", name="RS Hermina")
    ok = runner.invoke(
        app, ["createuser", "hermina", "--role", "sponsor", "--sponsor", str(sponsor.pk)]
    )
    assert ok.exit_code == 0, ok.output
    assert User.objects.get(username="hermina").sponsor == sponsor
    wrong = runner.invoke(
        app, ["createuser", "x", "--role", "city_officer", "--sponsor", str(sponsor.pk)]
    )
    assert wrong.exit_code == 2 and "sponsor" in wrong.stderr
    missing = runner.invoke(app, ["createuser", "y", "--role", "sponsor", "--sponsor", "999"])
    assert missing.exit_code == 2 and "tidak ada" in missing.stderr


@pytest.mark.usefixtures("malang")
def test_nik_check_prints_user_text_as_text_not_markup() -> None:
    result = runner.invoke(app, ["nik", "check", "[/x]"])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert "[/x]" in result.stdout and "not_16_digits" in result.stdout


def _programme():
    import datetime as dt

    from cakupan.funding.services import programme_create, sponsor_create

    return programme_create(
        sponsor=sponsor_create(type="csr", name="[bold]RS[/bold]"),
        name="Ojol [/red]",
        fiscal_year=2027,
        first_month=dt.date(2027, 1, 1),
        last_month=dt.date(2027, 12, 1),
        budget=10**9,
    )


@pytest.mark.usefixtures("malang")
def test_enrol_import_prints_cells_as_text_not_markup(tmp_path: Path) -> None:
    programme = _programme()
    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan\n"
        "3573055203900001,Siti,12-03-1990,P,[/bold],ojol\n"
    )
    result = runner.invoke(app, ["enrol", "import", str(path), "--programme", str(programme.pk)])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "Kelurahan '[/bold]' tidak dikenal" in result.stderr
    assert "Ojol [/red]" in result.stdout


@pytest.mark.usefixtures("malang")
def test_sponsor_and_programme_lists_print_names_as_text() -> None:
    _programme()
    sponsors = runner.invoke(app, ["sponsors", "list"])
    assert sponsors.exit_code == 0 and "[bold]RS[/bold]" in sponsors.stdout
    programmes = runner.invoke(app, ["programmes", "list"])
    assert programmes.exit_code == 0 and "[/red]" in programmes.stdout


@pytest.mark.usefixtures("malang")
def test_a_folder_is_not_a_file_to_import(tmp_path: Path) -> None:
    regions = runner.invoke(app, ["regions", "import", str(tmp_path)])
    assert regions.exit_code == 2 and "folder, bukan berkas" in regions.stderr
    programme = _programme()
    enrol = runner.invoke(app, ["enrol", "import", str(tmp_path), "--programme", str(programme.pk)])
    assert enrol.exit_code == 2 and "folder, bukan berkas" in enrol.stderr


@pytest.mark.usefixtures("malang")
def test_regions_import_refuses_a_partial_list_unless_forced(tmp_path: Path) -> None:
    from cakupan.regions.models import Region

    partial = tmp_path / "malang.csv"
    partial.write_text("kode,nama\n35.73,Kota Malang\n")
    refused = runner.invoke(app, ["regions", "import", str(partial)])
    assert refused.exit_code == 2 and "--keep-missing" in refused.stderr
    assert not Region.objects.filter(retired_on__isnull=False).exists()
    kept = runner.invoke(app, ["regions", "import", str(partial), "--keep-missing"])
    assert kept.exit_code == 0 and "Tidak ada perubahan" in kept.stdout
    forced = runner.invoke(app, ["regions", "import", str(partial), "--force-retire"])
    # every other East Java code, built in or loaded, is retired (kept, not deleted)
    assert forced.exit_code == 0 and "100 dipensiunkan" in forced.stdout


@pytest.mark.usefixtures("malang")
def test_enrol_list_shows_a_killed_import_as_failed_with_nothing_saved(tmp_path: Path) -> None:
    import psutil

    from cakupan.membership.models import ImportBatch
    from cakupan.membership.runs import HOST

    programme = _programme()
    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan\n"
        "3573055203900001,Siti,12-03-1990,P,Lowokwaru,ojol\n"
    )
    ran = runner.invoke(
        app, ["enrol", "import", str(path), "--programme", str(programme.pk), "--dry-run"]
    )
    assert ran.exit_code == 0, ran.output
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(gone.pid).create_time()
    gone.wait()
    # as a command killed while checking leaves it
    ImportBatch.objects.update(
        status="validating", run_host=HOST, run_pid=gone.pid, run_started=started
    )
    listed = runner.invoke(app, ["enrol", "list", "--programme", str(programme.pk)])
    assert listed.exit_code == 0, listed.output
    assert "Gagal" in listed.stdout and "Tidak ada yang disimpan" in listed.stdout
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


@pytest.mark.usefixtures("malang")
def test_enrol_import_maps_values_and_suggests_the_mapping(tmp_path: Path) -> None:
    from cakupan.membership.models import ImportValueMap
    from cakupan.registry.models import Worker

    programme = _programme()
    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan\n"
        "3573055203900001,Siti,12-03-1990,P,Lowokwaru,Mitra Gojke\n"
        "3573051506880002,Budi,15-06-1988,L,Lowokwaru,mitra gojke\n"
        "3573051708790003,Agus,17-08-1979,L,Lowokwaru,Driver Grab\n"
    )
    args = ["enrol", "import", str(path), "--programme", str(programme.pk)]
    first = runner.invoke(app, args)
    assert first.exit_code == 1
    # the suggestion, ready to copy, and what to do (the command line may name its options)
    assert "--map-value 'pekerjaan:Mitra Gojke=ojol'  (2 baris)" in first.stdout
    assert "pakai --partial" in first.stdout and not Worker.objects.exists()
    second = runner.invoke(app, [*args, "--map-value", "pekerjaan:Mitra Gojke=ojol"])
    assert second.exit_code == 0, second.output
    assert Worker.objects.count() == 3
    m = ImportValueMap.objects.get()
    assert (m.column, m.value, m.key, m.mapped_to) == (
        "pekerjaan",
        "Mitra Gojke",
        "mitra gojke",
        "ojol",
    )


@pytest.mark.usefixtures("malang")
@pytest.mark.parametrize(
    "bad", ["Mitra Gojek=ojol", "pekerjaan:Mitra Gojek", "nik:123=456", "pekerjaan:=ojol"]
)
def test_a_malformed_map_value_says_the_form_it_takes(tmp_path: Path, bad: str) -> None:
    from cakupan.membership.models import ImportBatch

    programme = _programme()
    path = tmp_path / "daftar.csv"
    path.write_text("nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan\n")
    result = runner.invoke(
        app, ["enrol", "import", str(path), "--programme", str(programme.pk), "--map-value", bad]
    )
    assert result.exit_code == 2  # bad input
    assert "'kolom:nilai di berkas=arti'" in result.stderr
    assert "pekerjaan:Mitra Gojek=ojol" in result.stderr
    assert not ImportBatch.objects.exists()


MANY = ["--processes", "2", "--threads", "2"]


def test_serve_with_several_processes_answers_and_stops_them_all(tmp_path: Path) -> None:
    """`cakupan serve --processes 2` (gunicorn's threaded workers): pages answer, and one
    SIGTERM stops the workers and the task worker, saying so once."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CAKUPAN_VAR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cakupan.cli", "serve", "--port", str(port), "--no-demo", *MANY],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        bodies = []
        while time.monotonic() < deadline and len(bodies) < 6:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/masuk/", timeout=2) as r:
                    bodies.append(r.read().decode())
            except OSError:
                time.sleep(0.5)
        assert len(bodies) == 6 and all("Kata sandi" in b for b in bodies)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # two web workers and the task worker
        # a client's kept-alive connections are spread over both web workers (each listens on
        # a socket of its own): 16 of them all in one would happen once in 30,000 runs
        kept = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(16)]
        for connection in kept:
            connection.request("GET", "/masuk/")
            connection.getresponse().read()
        holding = {
            c.pid
            for c in children
            for n in c.net_connections("tcp")
            if n.status == psutil.CONN_ESTABLISHED and n.laddr.port == port
        }
        for connection in kept:
            connection.close()
        assert len(holding) == 2
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert out.count("cakupan berhenti.") == 1, out
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_a_port_in_use_is_seen_even_when_its_socket_shares_it() -> None:
    """gunicorn's workers bind with SO_REUSEPORT, which lets a second server of the same user
    share a port silently: `serve` asks first, with a bind that does not share."""
    from cakupan.cli import _port_taken

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert _port_taken("127.0.0.1", port)
        result = runner.invoke(app, ["serve", "--port", str(port), "--processes", "2"])
        assert result.exit_code == 2
        assert f"Port {port} di 127.0.0.1 sudah dipakai program lain." in result.stderr
    assert not _port_taken("127.0.0.1", port)
