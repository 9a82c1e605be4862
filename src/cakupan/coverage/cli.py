"""`cakupan coverage snapshot`: build the monthly coverage snapshots (docs/coverage.md)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cakupan.cliutil import console, django_setup, fail, id_number, id_seconds, writable

coverage_app = typer.Typer(help="Cakupan UCJ: snapshot bulanan (coverage).", no_args_is_help=True)

STATUS = {"closed": "ditutup", "provisional": "sementara"}


def _line(snapshot) -> str:
    city = snapshot.areas.filter(level=2).first()
    ucj = (
        f"UCJ kota {city.ucj:.2f}%".replace(".", ",")
        if city and city.ucj is not None
        else ("UCJ kota: belum ada penyebut")
    )
    return (
        f"{snapshot.month:%m/%Y} ({STATUS[snapshot.status]}, buku besar per "
        f"{snapshot.as_of:%d-%m-%Y}): terdaftar {id_number(snapshot.registered)}, peserta BPU "
        f"{id_number(snapshot.members)}, aktif {id_number(snapshot.active)}; {ucj}; "
        f"{id_seconds(snapshot.seconds)}."
    )


@coverage_app.command("snapshot")
def snapshot_cmd(
    month: Annotated[
        str | None,
        typer.Option("--month", help="Bulan YYYY-MM (bawaan: semua bulan yang belum ditutup)"),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Bangun ulang bulan yang sudah ditutup")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Alasan membangun ulang bulan yang ditutup")
    ] = "",
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Nama pengguna cakupan yang membangun ulang (bawaan: pengguna OS)"
        ),
    ] = None,
) -> None:
    """Build a month's coverage snapshot, or every month not yet closed and next month's lapse
    forecast (run it daily)."""
    django_setup()
    from cakupan.accounts.models import User
    from cakupan.contributions.forecast import forecast_store
    from cakupan.coverage.snapshots import snapshot_build, snapshots_catch_up
    from cakupan.errors import Refused
    from cakupan.months import MonthInvalid, parse_month

    user = None
    if by:
        user = User.objects.filter(username=by, is_active=True).first()
        if user is None:
            raise fail(f"Pengguna {by} tidak ada atau tidak aktif.")
    if month is None:
        if rebuild:
            raise fail("Sebutkan bulan yang dibangun ulang: --month YYYY-MM.")
        built = snapshots_catch_up(user=user)
        if not built:
            console.print("Belum ada kepesertaan BPU: tidak ada snapshot yang dibangun.")
            return
        for snapshot in built:
            console.print(escape(_line(snapshot)), highlight=False)
        # and next month's lapse forecast, which the lapse-risk page reads
        run = forecast_store(user=user)
        console.print(
            f"Prakiraan putus {run.month:%m/%Y}: {id_number(run.total)} kepesertaan berisiko "
            f"(per {run.on:%d-%m-%Y}); {id_seconds(run.seconds)}.",
            highlight=False,
        )
        return
    try:
        when = parse_month(month)
    except MonthInvalid as e:
        raise fail(str(e)) from None
    try:
        snapshot = snapshot_build(
            when,
            user=user,
            by_name=by or f"shell:{getpass.getuser()}",
            rebuild=rebuild,
            reason=reason,
        )
    except Refused as e:
        hint = {
            "snapshot_closed": ' Untuk membangun ulang: --rebuild --reason "alasannya".',
            "reason_required": ' Tambahkan --reason "alasannya".',
        }.get(e.code, "")
        raise fail(e.message + hint) from None
    console.print(escape(_line(snapshot)), highlight=False)


@coverage_app.command("report")
def report_cmd(
    month: Annotated[
        str | None,
        typer.Option("--month", help="Bulan YYYY-MM (bawaan: bulan terakhir yang ditutup)"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Berkas PDF (bawaan: laporan-ucj-YYYY-MM.pdf atau dampak-ID.pdf)"
        ),
    ] = None,
    sponsor: Annotated[
        int | None,
        typer.Option("--sponsor", help="Laporan dampak pemberi dana ini (ID), bukan laporan UCJ"),
    ] = None,
    scenario: Annotated[
        int | None,
        typer.Option("--scenario", help="Rencana yang disajikan (ID skenario; bawaan: terakhir)"),
    ] = None,
) -> None:
    """Write the city's UCJ report (PDF) of a month, or a sponsor's impact report."""
    django_setup()
    from cakupan.coverage.reports import city_report_data, city_report_pdf, impact_pdf
    from cakupan.coverage.selectors import impact
    from cakupan.errors import Refused
    from cakupan.funding.models import Sponsor
    from cakupan.months import MonthInvalid, parse_month

    if sponsor is not None:
        found = Sponsor.objects.filter(pk=sponsor).first()
        if found is None:
            raise fail(f"Pemberi dana {sponsor} tidak ada; lihat: cakupan sponsors list.")
        target = output or Path(f"dampak-{found.pk}.pdf")
        writable(target)
        target.write_bytes(impact_pdf(found, impact(found)))
        console.print(f"Laporan dampak {escape(found.name)} ditulis ke {escape(str(target))}.")
        return

    try:
        when = parse_month(month) if month else None
    except MonthInvalid as e:
        raise fail(str(e)) from None
    plan = None
    if scenario is not None:
        from cakupan.coverage.models import Scenario

        plan = Scenario.objects.filter(pk=scenario).first()
        if plan is None:
            raise fail(f"Skenario {scenario} tidak ada.")
    try:
        report = city_report_data(when, scenario=plan)
    except Refused as e:
        raise fail(e.message) from None
    target = output or Path(f"laporan-ucj-{report.snapshot.month:%Y-%m}.pdf")
    writable(target)
    target.write_bytes(city_report_pdf(report))
    console.print(f"Laporan UCJ {report.snapshot.month:%m/%Y} ditulis ke {escape(str(target))}.")
