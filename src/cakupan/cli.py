"""The `cakupan` command: serve, set up, manage users, import regions, check NIKs, load demo data."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cakupan.calculate.cli import rules_app
from cakupan.claims.cli import claims_app
from cakupan.cliutil import console, django_setup, err, fail, id_number, id_seconds
from cakupan.contributions.cli import billing_app, cards_app, ledger_app, payments_app
from cakupan.coverage.cli import coverage_app
from cakupan.funding.cli import programme_app, sponsor_app
from cakupan.membership.cli import check_file, enrol_app

app = typer.Typer(
    help="cakupan: cakupan Jamsostek untuk pekerja kota (Jamsostek coverage for a city's workers).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
regions_app = typer.Typer(help="Wilayah Kemendagri (regions).", no_args_is_help=True)
nik_app = typer.Typer(help="Pemeriksaan NIK (NIK checks).", no_args_is_help=True)
token_app = typer.Typer(help="Token API (API tokens).", no_args_is_help=True)
app.add_typer(regions_app, name="regions")
app.add_typer(nik_app, name="nik")
app.add_typer(token_app, name="token")
app.add_typer(rules_app, name="rules")
app.add_typer(sponsor_app, name="sponsors")
app.add_typer(programme_app, name="programmes")
app.add_typer(enrol_app, name="enrol")
app.add_typer(billing_app, name="billing")
app.add_typer(ledger_app, name="ledger")
app.add_typer(cards_app, name="cards")
app.add_typer(payments_app, name="payments")
app.add_typer(claims_app, name="claims")
app.add_typer(coverage_app, name="coverage")


def _print_setup(result) -> None:
    if result.admin_password:
        console.print(
            "[bold]Akun admin pertama dibuat[/bold] (ditampilkan sekali saja):\n"
            f"  nama pengguna: [cyan]{escape(result.admin_username)}[/cyan]\n"
            f"  kata sandi:    [cyan]{escape(result.admin_password)}[/cyan]"
        )


@app.command()
def setup(
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Isi data demo bila basis data kosong.")
    ] = False,
) -> None:
    """Migrate the database and load the built-in data (regions, occupations, first admin)."""
    django_setup()
    from cakupan.bootstrap import setup as do_setup

    result = do_setup()
    console.print("Basis data siap.")
    _print_setup(result)
    if demo:
        _demo_if_empty()


def _demo_if_empty() -> None:
    from cakupan.registry.models import Worker

    if Worker.objects.exists():
        return
    console.print("Basis data kosong: memuat data demo (20.000 pekerja) …")
    _load_demo(workers=20_000, seed=2026, replace=False)
    _create_demo_users()


def _create_demo_users() -> None:
    """One account per role so a newcomer can see what each role sees (demo only)."""
    from cakupan.accounts.models import User
    from cakupan.accounts.roles import Role
    from cakupan.accounts.services import user_create
    from cakupan.funding.models import Sponsor

    # the demo sponsor account acts for the demo hospital, so it sees its 103 ojol drivers
    hospital = Sponsor.objects.filter(is_demo=True, type="csr").first()
    made = []
    for username, role in [
        ("bpjs", Role.BPJS_OFFICER),
        ("kota", Role.CITY_OFFICER),
        ("sponsor", Role.SPONSOR),
        ("rs", Role.HOSPITAL),
    ]:
        if role == Role.SPONSOR and hospital:
            User.objects.filter(username=username, role=role, sponsor=None).update(sponsor=hospital)
        if not User.objects.filter(username=username).exists():
            sponsor_id = hospital.pk if role == Role.SPONSOR and hospital else None
            _user, password = user_create(username=username, role=role, sponsor_id=sponsor_id)
            made.append((username, role.label, password))
    if made:
        table = Table(title="Akun demo (ditampilkan sekali saja)")
        for col in ("nama pengguna", "peran", "kata sandi"):
            table.add_column(col)
        for row in made:
            table.add_row(*(escape(str(c)) for c in row))
        console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Alamat yang didengar.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CAKUPAN_PORT", help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Isi data demo bila basis data kosong.")
    ] = True,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Jalankan pekerja tugas latar.")
    ] = True,
    threads: Annotated[int, typer.Option(help="Jumlah thread server web.")] = 8,
    processes: Annotated[
        int,
        typer.Option(
            envvar="CAKUPAN_PROCESSES",
            min=1,
            max=64,
            help="Jumlah proses server web (lebih dari 1: gunicorn, satu proses per inti).",
        ),
    ] = 1,
) -> None:
    """Set up, then serve the web app and API with the background task worker beside it.

    One process (the default) is served by waitress with `threads` threads; more processes by
    gunicorn's threaded workers, which use every core (Python runs one thread at a time per
    process)."""
    if processes > 1 and _port_taken(host, port):
        # gunicorn's workers bind with SO_REUSEPORT, which would share the port with another
        # server of this user instead of failing: refuse here, as waitress refuses
        raise fail(f"Port {port} di {host} sudah dipakai program lain.")
    django_setup()
    from waitress import serve as waitress_serve

    from cakupan.bootstrap import setup as do_setup
    from cakupan.wsgi import application

    _print_setup(do_setup())
    if demo:
        _demo_if_empty()
    # lists whose run died with the previous server (or a killed command) say so from now on
    if stopped := _reap_runs():
        console.print(f"{stopped} impor yang prosesnya berhenti sebelum selesai ditandai gagal.")
    supervisor = None
    if worker:
        from cakupan.supervisor import WorkerSupervisor

        supervisor = WorkerSupervisor(
            [sys.executable, "-m", "cakupan.manage", "db_worker", "--no-reload", "--interval", "1"],
            on_restart=_reap_runs,
        )
        supervisor.start()
    console.print(
        f"cakupan berjalan di [bold]http://{escape(host)}:{port}/[/bold] — "
        f"API: http://{escape(host)}:{port}/api/docs — Ctrl-C untuk berhenti."
    )

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    serving_pid = os.getpid()
    try:
        if processes > 1:
            _gunicorn(application, host=host, port=port, processes=processes, threads=threads)
        else:
            waitress_serve(
                application, host=host, port=port, threads=threads, ident="cakupan", _quiet=True
            )
    except KeyboardInterrupt:
        pass
    finally:
        # a gunicorn worker is a fork of this process: when one exits it passes through here
        # too, and must neither stop the task worker nor say that cakupan stopped
        if hasattr(application, "shutdown"):
            application.shutdown()  # the access-log rows still in memory (cakupan.apifast)
        if os.getpid() == serving_pid:
            if supervisor is not None:
                supervisor.stop()
            console.print("cakupan berhenti.")


def _port_taken(host: str, port: int) -> bool:
    """Whether a program listens on host:port: a bind without SO_REUSEPORT fails then, even
    when that program's socket has the option (SO_REUSEADDR only passes over the closed
    connections a server that just stopped leaves behind)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _gunicorn(application, *, host: str, port: int, processes: int, threads: int) -> None:
    """Serve with gunicorn's threaded workers (preloaded: the app is imported once, then the
    workers fork; each opens its own database connections)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    connections.close_all()  # never share the set-up's connection with forked workers

    def _worker_exit(server, worker):
        shutdown = getattr(application, "shutdown", None)
        if shutdown is not None:
            shutdown()

    class _App(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": processes,
                "worker_class": "gthread",
                "threads": threads,
                "preload_app": True,
                "accesslog": None,
                "loglevel": "warning",
                "graceful_timeout": 10,
                # each worker listens on a socket of its own (SO_REUSEPORT), among which the
                # kernel spreads the connections; on one shared socket the worker that woke
                # first took nearly all of a client's kept-alive connections, and one process
                # runs on one core (docs/benchmarks.md, the verify row's notes)
                "reuse_port": True,
                # the access-log rows the lean verify path holds in memory are written as each
                # worker stops (cakupan.apifast)
                "worker_exit": _worker_exit,
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    _App().run()


def _reap_runs() -> int:
    """Mark the import runs whose process is gone (also from the supervisor's thread)."""
    from django.db import connection

    from cakupan.membership.runs import import_runs_reap

    try:
        return import_runs_reap()
    finally:
        connection.close()  # this thread's connection; the next use opens a fresh one


@app.command()
def createuser(
    username: str,
    role: Annotated[str, typer.Option(help="admin, bpjs_officer, city_officer, sponsor, hospital")],
    password: Annotated[str | None, typer.Option(help="Kosongkan untuk dibuatkan.")] = None,
    email: Annotated[str, typer.Option()] = "",
    token: Annotated[bool, typer.Option("--token", help="Buat juga token API.")] = False,
    sponsor: Annotated[
        int | None, typer.Option(help="Untuk peran sponsor: id pemberi dana yang diwakili.")
    ] = None,
) -> None:
    """Create a user with a role."""
    django_setup()
    from django.core.exceptions import ValidationError

    from cakupan.accounts.services import token_create, user_create
    from cakupan.funding.models import Sponsor

    try:
        if sponsor is not None and not Sponsor.objects.filter(pk=sponsor).exists():
            raise ValueError(
                f"Pemberi dana dengan id {sponsor} tidak ada (lihat: cakupan sponsors list)."
            )
        user, pw = user_create(
            username=username, role=role, password=password, email=email, sponsor_id=sponsor
        )
    except ValueError as e:
        raise fail(str(e)) from None
    except ValidationError as e:
        raise fail("Kata sandi terlalu lemah: " + " ".join(e.messages)) from None
    console.print(
        f"Pengguna [cyan]{escape(user.username)}[/cyan] ({user.get_role_display()}) dibuat."
    )
    if password is None:
        console.print(f"Kata sandi (ditampilkan sekali saja): [cyan]{escape(pw)}[/cyan]")
    if token:
        _t, key = token_create(user=user, name="cli")
        console.print(f"Token API (ditampilkan sekali saja): [cyan]{escape(key)}[/cyan]")


@token_app.command("create")
def token_create_cmd(username: str, name: Annotated[str, typer.Option()] = "cli") -> None:
    """Create an API token for a user (shown once)."""
    django_setup()
    from cakupan.accounts.models import User
    from cakupan.accounts.services import token_create

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise fail(f"Pengguna '{username}' tidak ada atau tidak aktif.")
    _t, key = token_create(user=user, name=name)
    console.print(key, markup=False, highlight=False)


@regions_app.command("import")
def regions_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV dengan kolom kode,nama")],
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Jangan pensiunkan kode yang hilang.")
    ] = False,
    force_retire: Annotated[
        bool,
        typer.Option(
            "--force-retire",
            help="Pensiunkan kode yang hilang meski lebih dari 5% kode aktif provinsinya.",
        ),
    ] = False,
) -> None:
    """Import the official Kemendagri region list (idempotent; missing codes become retired)."""
    django_setup()
    from cakupan.regions.services import RegionImportError, parse_region_csv, regions_import

    check_file(file)
    try:
        rows = parse_region_csv(file.read_text(encoding="utf-8-sig"))
        result = regions_import(
            rows=rows, source=file.name, retire_missing=not keep_missing, force=force_retire
        )
    except UnicodeDecodeError:
        raise fail(f"Berkas {file} bukan teks UTF-8. Simpan ulang sebagai CSV UTF-8.") from None
    except RegionImportError as e:
        for p in e.problems[:50]:
            err.print(f"baris {p.row}, kolom {p.field}: {p.message}", markup=False)
        if len(e.problems) > 50:
            err.print(f"… dan {len(e.problems) - 50} masalah lain.")
        raise fail(f"Tidak ada yang diimpor: {len(e.problems)} masalah.") from None
    if not result.changed:
        console.print(f"Tidak ada perubahan: {result.total} kode sudah sama dengan basis data.")
    else:
        console.print(
            f"{result.total} kode dibaca: {result.created} baru, {result.renamed} berganti nama, "
            f"{result.reactivated} aktif kembali, {result.retired} dipensiunkan, {result.unchanged} tetap."
        )


@nik_app.command("check")
def nik_check_cmd(
    niks: Annotated[list[str], typer.Argument(help="Satu NIK atau lebih")],
    as_json: Annotated[bool, typer.Option("--json", help="Keluaran JSON.")] = False,
) -> None:
    """Check NIKs: validity, sex, birth date, issuing kecamatan and every problem found."""
    django_setup()
    from cakupan.registry.selectors import nik_check_many

    results = nik_check_many(niks)
    if as_json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            status = "[green]sah[/green]" if r.valid else "[red]tidak sah[/red]"
            console.print(f"[bold]{escape(r.nik)}[/bold]: {status}")
            sex = {"L": "laki-laki", "P": "perempuan"}.get(r.sex or "", "-")
            console.print(
                f"  jenis kelamin: {sex}; tanggal lahir: {r.birth_date or '-'}; "
                f"kecamatan: {escape(r.region_code or '-')}"
            )
            for p in r.problems:
                color = "red" if p.severity == "error" else "yellow"
                console.print(f"  [{color}]{p.code}[/{color}]: {escape(p.message)}")
    if not all(r.valid for r in results):
        raise typer.Exit(1)


@nik_app.command("normalise")
def nik_normalise_cmd() -> None:
    """Rewrite NIKs stored with non-ASCII digits in ASCII; list the workers left to merge."""
    django_setup()
    from cakupan.registry.nik import mask_nik, normalise_nik
    from cakupan.registry.services import nik_constraints_validate, stored_niks_normalise

    repair = stored_niks_normalise()
    console.print(
        f"NIK diubah ke angka ASCII: {repair.workers_fixed} pekerja, {repair.heirs_fixed} ahli waris."
    )
    for pk, name, stored, holder in repair.twins:
        console.print(
            f"[yellow]Pekerja {pk}[/yellow] ({escape(name)}, NIK {mask_nik(normalise_nik(stored))}) "
            f"terdaftar dua kali: NIK yang sama dipakai pekerja {holder}. Periksa kedua data, "
            f"pindahkan kepesertaan dan ahli waris ke pekerja {holder}, lalu hapus pekerja {pk}."
        )
    for pk, name, stored in repair.unreadable:
        console.print(
            f"[yellow]Pekerja {pk}[/yellow] ({escape(name)}): NIK tersimpan bukan 16 angka "
            f"({len(stored)} karakter). Perbaiki NIK-nya di halaman pekerja."
        )
    if repair.twins or repair.unreadable:
        raise typer.Exit(1)
    nik_constraints_validate()
    console.print("Semua NIK tersimpan sebagai 16 angka ASCII.")


@app.command()
def demo(
    workers: Annotated[int, typer.Option(min=1, max=5_000_000, help="Jumlah pekerja.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Benih acak (hasil sama untuk benih sama).")] = 2026,
    replace: Annotated[bool, typer.Option("--replace", help="Ganti data demo yang ada.")] = False,
    users: Annotated[
        bool, typer.Option("--users/--no-users", help="Buat akun demo per peran.")
    ] = True,
) -> None:
    """Fill the database with deterministic synthetic workers of Kota Malang."""
    django_setup()
    from cakupan.bootstrap import setup as do_setup

    _print_setup(do_setup())
    _load_demo(workers=workers, seed=seed, replace=replace)
    if users:
        _create_demo_users()


def _load_demo(*, workers: int, seed: int, replace: bool) -> None:
    from django.utils import timezone
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from cakupan.claims.demo import demo_claims_delete, demo_claims_load
    from cakupan.contributions.demo import demo_ledger_delete, demo_ledger_load
    from cakupan.coverage.demo import demo_coverage_delete, demo_coverage_load
    from cakupan.membership.demo import demo_funding_delete, demo_funding_load
    from cakupan.registry.demo import DemoError, demo_load

    if replace:
        demo_coverage_delete()
        demo_claims_delete()
        demo_ledger_delete()
        demo_funding_delete()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Membuat pekerja demo", total=workers)
        try:
            result = demo_load(
                workers=workers,
                seed=seed,
                replace=replace,
                progress=lambda done, total: progress.update(task, completed=done),
            )
        except DemoError as e:
            raise fail(str(e)) from None
    console.print(
        f"Data demo: {id_number(result.workers)} pekerja, {id_number(result.heirs)} ahli waris "
        f"dalam {id_seconds(result.seconds)}."
    )
    funding = demo_funding_load(seed=seed, year=timezone.localdate().year)
    console.print(
        f"Pendanaan demo: {funding.sponsors} pemberi dana, {funding.programmes} program, "
        f"{id_number(funding.memberships)} kepesertaan."
    )
    ledger = demo_ledger_load(seed=seed, today=timezone.localdate())
    console.print(
        f"Iuran demo: {ledger.months} bulan ditagih ({id_number(ledger.bills)} tagihan), "
        f"{id_number(ledger.payments)} pembayaran."
    )
    claims = demo_claims_load(today=timezone.localdate())
    console.print(f"Klaim demo: {claims.claims} klaim.")
    coverage = demo_coverage_load(today=timezone.localdate())
    console.print(
        f"Cakupan demo: {coverage.inputs} angka rujukan, {coverage.snapshots} snapshot bulanan."
    )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (e.g. `cakupan manage createsuperuser`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cakupan.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cakupan manage", *ctx.args])


def main() -> None:
    from cakupan.errors import Refused

    try:
        app()
    except Refused as e:  # what a user can fix: the message and exit 2, never a traceback
        raise SystemExit(fail(str(e)).exit_code) from None


if __name__ == "__main__":
    main()
