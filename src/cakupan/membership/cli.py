"""`cakupan enrol ...`: bulk enrolment of a list of workers for a funding programme."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cakupan.cliutil import console, django_setup, err, fail, id_number
from cakupan.exports import safe_frame

enrol_app = typer.Typer(help="Pendaftaran peserta (enrolment).", no_args_is_help=True)

STAGES = {
    "read": "Membaca berkas",
    "check": "Memeriksa baris",
    "link": "Mencocokkan dengan registri",
    "save": "Menyimpan",
    "done": "Selesai",
}
COUNT_LABELS = [
    ("new", "pekerja baru"),
    ("existing", "pekerja terdaftar, didanai program ini"),
    ("corrected", "  di antaranya NIK diperbaiki otomatis"),
    ("already_enrolled", "sudah terdaftar di program ini"),
    ("review", "perlu ditinjau"),
    ("rejected", "ditolak: data perlu diperbaiki"),
    ("not_eligible", "di luar sasaran program"),
    ("warnings", "peringatan"),
    ("blank", "baris kosong dilewati"),
    ("example", "baris contoh templat dilewati"),
]


def parse_value_map(item: str) -> tuple[str, str, str]:
    """'pekerjaan:Mitra Gojek=ojol' → ('pekerjaan', 'Mitra Gojek', 'ojol'); a malformed one stops
    the command with the form it takes."""
    from cakupan.membership.imports import MAPPABLE

    column, colon, rest = item.partition(":")
    value, equals, mapped_to = rest.rpartition("=")
    column, value, mapped_to = column.strip(), value.strip(), mapped_to.strip()
    if not colon or not equals or not value or not mapped_to or column not in MAPPABLE:
        raise fail(
            f"--map-value '{item}' tidak sah: tulis 'kolom:nilai di berkas=arti', mis. "
            f"--map-value 'pekerjaan:Mitra Gojek=ojol'; kolom salah satu dari {', '.join(MAPPABLE)}."
        )
    return column, value, mapped_to


def check_file(file: Path) -> None:
    """Stop with an Indonesian message unless `file` is a readable file (not a folder)."""
    if file.is_dir():
        raise fail(
            f"{file} adalah folder, bukan berkas. Sebutkan berkasnya, mis. {file}/daftar.csv."
        )
    if not file.is_file():
        raise fail(f"Berkas {file} tidak ditemukan.")


@enrol_app.command("import")
def enrol_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV atau XLSX dengan kolom templat")],
    programme: Annotated[int, typer.Option(help="id program pendanaan")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Periksa saja, jangan simpan")] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Simpan baris yang sah meski ada yang ditolak")
    ] = False,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Pemetaan kolom: 'Kolom Berkas=nik'")
    ] = None,
    map_value: Annotated[
        list[str] | None,
        typer.Option(
            "--map-value",
            help="Arti sebuah nilai untuk setiap baris yang memuatnya: 'pekerjaan:Mitra Gojek=ojol' (boleh berulang)",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Tulis laporan baris bermasalah ke CSV ini")
    ] = None,
) -> None:
    """Check, link and enrol a list of workers (all or nothing unless --partial)."""
    django_setup()
    from cakupan.funding.models import FundingProgramme
    from cakupan.membership.imports import COLUMNS, FileProblem, HeaderProblem, enrol_import

    target = FundingProgramme.objects.select_related("sponsor").filter(pk=programme).first()
    if target is None:
        raise fail(f"Program dengan id {programme} tidak ada (lihat: cakupan programmes list).")
    check_file(file)
    column_map = {}
    for item in map_ or []:
        source, _, column = item.rpartition("=")
        if not source or column not in COLUMNS:
            raise fail(
                f"--map '{item}' tidak sah: tulis 'Kolom Berkas=kolom', kolom salah satu dari {', '.join(COLUMNS)}."
            )
        column_map[source] = column
    value_maps = [parse_value_map(item) for item in map_value or []]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(STAGES["read"], total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=STAGES[stage], completed=done, total=total or None)

        try:
            outcome = enrol_import(
                path=file,
                programme=target,
                column_map=column_map,
                value_maps=value_maps,
                partial=partial,
                dry_run=dry_run,
                progress=progress,
            )
        except HeaderProblem as e:
            hint = "; ".join(f"--map '{h}={c}'" for c, h in e.guesses.items())
            raise fail(str(e) + (f" Mungkin: {hint}" if hint else "")) from None
        except FileProblem as e:
            raise fail(str(e)) from None
        except ValueError as e:
            raise fail(str(e)) from None
    table = Table(title=f"{escape(file.name)} → {escape(target.name)} (impor {outcome.batch.pk})")
    table.add_column("baris")
    table.add_column("jumlah", justify="right")
    for key, label in COUNT_LABELS:
        if key == "corrected" and not outcome.counts.get(key):
            continue  # a sub-count: only when there is something to say
        table.add_row(label, id_number(outcome.counts.get(key, 0)))
    console.print(table)
    console.print(
        "Waktu: "
        + " · ".join(
            f"{STAGES[k].lower()} {v:.1f} s".replace(".", ",") for k, v in outcome.seconds.items()
        ),
        highlight=False,
    )
    for r in (
        # rejected rows first: they are what stops the list
        outcome.problems.filter(outcome.problems["severity"] != "warning")
        .sort(by=["severity", "row"], descending=[False, False])
        .head(20)
        .iter_rows(named=True)
    ):
        err.print(
            f"baris {r['row']}, kolom {r['column']}: {r['message']} {r['suggestion']}".rstrip(),
            markup=False,
            highlight=False,
        )
    if outcome.problems.height > 20:
        err.print(f"… {outcome.problems.height - 20} masalah lain: lihat laporan.")
    if report is not None:
        safe_frame(outcome.problems).write_csv(report)
        console.print(f"Laporan: {report}", markup=False)
    _hint_value_maps(outcome)
    console.print(
        outcome.message
        or ("Pemeriksaan selesai, tidak ada yang disimpan (--dry-run)." if dry_run else ""),
        markup=False,
    )
    if outcome.refused and not partial and not outcome.committed and outcome.fits is None:
        console.print(
            "Perbaiki baris itu, petakan nilainya dengan --map-value, atau pakai --partial "
            "untuk menyimpan baris yang sah saja.",
            markup=False,
        )
    if not outcome.committed and not dry_run and not outcome.unchanged:
        raise typer.Exit(1)


def _hint_value_maps(outcome) -> None:
    """One --map-value per unrecognised value with a suggestion (or the sponsor's earlier
    choice), ready to copy."""
    import polars as pl

    from cakupan.membership.imports import MAPPABLE, VALUE_CODES, value_key
    from cakupan.membership.selectors import value_maps_offered

    unknown = outcome.problems.filter(
        pl.col("code").is_in(VALUE_CODES)
        & pl.col("column").is_in(MAPPABLE)
        & pl.col("value").is_not_null()
        & (pl.col("value") != "")
    )
    if not unknown.height:
        return
    earlier = value_maps_offered(
        sponsor_id=outcome.batch.programme.sponsor_id, exclude_batch_id=outcome.batch.pk
    )
    groups = (
        unknown.group_by("column", "value")
        .agg(pl.col("suggested").first(), pl.len().alias("n"))
        .sort("n", "value", descending=[True, False])
    )
    lines = []
    for column, value, suggested, n in groups.iter_rows():
        meaning = earlier.get((column, value_key(value))) or suggested
        if meaning:
            lines.append(f"  --map-value '{column}:{value}={meaning}'  ({n} baris)")
    if lines:
        console.print("Nilai yang tidak dikenal, dengan sarannya:", markup=False)
        for line in lines[:30]:
            console.print(line, markup=False, highlight=False)


@enrol_app.command("list")
def enrol_list_cmd(
    programme: Annotated[int | None, typer.Option(help="hanya impor program ini")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="jumlah impor terakhir")] = 20,
) -> None:
    """The latest imports with their status; a run whose process is gone is shown as failed."""
    django_setup()
    from cakupan.membership.models import ImportBatch
    from cakupan.membership.runs import RUNNING, import_runs_reap

    batches = ImportBatch.objects.select_related("programme")
    if programme is not None:
        batches = batches.filter(programme_id=programme)
    running = [
        pk for pk, status in batches.values_list("pk", "status")[:limit] if status in RUNNING
    ]
    if running:
        import_runs_reap(batch_ids=running)
    shown = list(batches[:limit])
    if not shown:
        console.print("Belum ada impor.")
    # one line per import (no table): a long message stays whole and can be searched
    for b in shown:
        message = b.status_message()
        console.print(
            f"{b.pk}  {b.original_name} → {b.programme.name}: {b.get_status_display()}"
            + (f" — {message}" if message else ""),
            markup=False,
            highlight=False,
        )


@enrol_app.command("template")
def template_cmd(
    out: Annotated[Path, typer.Argument(help="templat.csv atau templat.xlsx")],
) -> None:
    """Write the upload template with its Indonesian headers and one example row."""
    django_setup()
    from cakupan.membership.template_file import write_template

    write_template(out)
    console.print(f"Templat ditulis: {out}", markup=False)
