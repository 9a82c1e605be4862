"""`cakupan claims export`, `cakupan claims return FILE` and `cakupan claims due`: the bank
batch of the approved payments waiting, the bank's return, and the scholarship instalments due
in a school year (or the next one's reminder list)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cakupan.cliutil import console, django_setup, err, fail, id_number, writable

claims_app = typer.Typer(
    help="Klaim JKK/JKM: pembayaran ke bank dan beasiswa.", no_args_is_help=True
)

FORMATS = ("csv", "xlsx")
DUE_HEADERS = (
    "kecamatan",
    "kelurahan",
    "klaim",
    "pekerja",
    "anak",
    "tahun_ajaran",
    "jenjang",
    "tahun_ke",
    "jumlah",
    "status",
    "kekurangan",
)


def _format(fmt: str | None, output: Path | None) -> str:
    """The file format: --format, else the output's extension, else CSV."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise fail(f"Format {fmt} tidak dikenal: pilih csv atau xlsx.")
        return fmt
    if output is not None and output.suffix.lower() == ".xlsx":
        return "xlsx"
    return "csv"


@claims_app.command("export")
def export_cmd(
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv atau xlsx (bawaan: dari nama berkas)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Berkas tujuan (bawaan: NOMOR-BATCH.csv)")
    ] = None,
) -> None:
    """Put every approved payment waiting into one bank batch and write its file."""
    django_setup()
    from django.db import transaction

    from cakupan.claims.payments import PaymentRefused, batch_export, batch_file

    fmt = _format(fmt, output)
    if output is not None:
        writable(output)
    try:
        # the batch is kept only when its file was written
        with transaction.atomic():
            batch = batch_export(user=None)
            target = output or Path(f"{batch.number}.{fmt}")
            if output is None:
                writable(target)
            target.write_bytes(batch_file(batch, fmt))
    except PaymentRefused as e:
        if e.code == "nothing_to_pay":
            console.print(f"{e.message} Tidak ada berkas yang dibuat.", markup=False)
            return
        raise fail(e.message) from None
    except OSError as e:
        raise fail(f"Berkas tidak dapat ditulis ({e.strerror}); tidak ada yang disimpan.") from None
    console.print(
        f"Batch {batch.number}: {id_number(batch.count)} transfer, jumlah "
        f"Rp {id_number(batch.total)}, ditulis ke {target}.",
        markup=False,
    )


@claims_app.command("return")
def return_cmd(
    file: Annotated[Path, typer.Argument(help="Berkas hasil transfer dari bank (.csv/.xlsx)")],
) -> None:
    """Read the bank's return: mark each transfer paid or failed (all or nothing)."""
    django_setup()
    from cakupan.claims.payments import PaymentRefused, batch_return

    if not file.is_file():
        raise fail(f"Berkas tidak ditemukan: {file}")
    try:
        result = batch_return(path=file, user=None, original_name=file.name)
    except PaymentRefused as e:
        raise fail(e.message) from None
    c = result.counts
    if not result.saved:
        for p in result.problems[:50]:
            value = f" (“{p['value']}”)" if p["value"] else ""
            err.print(
                f"Baris {p['row']}, {p['column']}{value}: {p['problem']} {p['fix']}",
                markup=False,
                highlight=False,
            )
        if len(result.problems) > 50:
            err.print(f"… dan {id_number(len(result.problems) - 50)} masalah lain.")
        raise fail(
            f"{id_number(len(result.problems))} baris bermasalah dari {id_number(c['rows'])}; "
            "tidak ada yang diubah. Perbaiki berkasnya lalu baca lagi."
        )
    if c["paid"] == c["failed"] == 0:
        console.print(
            f"Semua {id_number(c['already'])} baris sudah tercatat sebelumnya; tidak ada yang "
            "berubah.",
            markup=False,
        )
        return
    console.print(
        f"Baris: {id_number(c['rows'])}; dibayar: {id_number(c['paid'])}; "
        f"gagal: {id_number(c['failed'])}; sudah tercatat: {id_number(c['already'])}.",
        markup=False,
    )
    if c["failed"]:
        console.print(
            "Transfer yang gagal menunggu rekening diperbaiki lalu dikirim ulang dari halaman "
            "klaim.",
            markup=False,
        )


def _write_due(rows: list[dict], output: Path) -> None:
    from cakupan.claims.scholarships import DUE_COLUMNS
    from cakupan.exports import table_file

    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    table = [[row[k] for k in DUE_COLUMNS] for row in rows]
    output.write_bytes(table_file(DUE_HEADERS, table, fmt, title="Beasiswa"))


@claims_app.command("due")
def due_cmd(
    school_year: Annotated[
        int | None,
        typer.Option(
            "--school-year", min=2000, max=2100, help="Tahun awal tahun ajaran, mis. 2026"
        ),
    ] = None,
    reminders: Annotated[
        bool,
        typer.Option("--reminders", help="Daftar tahun ajaran berikutnya dan tanggal pengingat."),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="Tulis ke berkas .csv atau .xlsx")
    ] = None,
) -> None:
    """The scholarship instalments due in a school year, by kecamatan, with what is missing."""
    django_setup()
    from django.utils import timezone
    from rich.markup import escape
    from rich.table import Table

    from cakupan.claims.scholarships import due_rows, reminder_window, school_year_of
    from cakupan.rules import default_rules

    if output is not None:
        if output.suffix.lower() not in (".csv", ".xlsx"):
            raise fail("Nama berkas harus berakhiran .csv atau .xlsx.")
        writable(output)
    today = timezone.localdate()
    start_month = default_rules().scholarship(today).school_year_start_month
    if reminders:
        if school_year is not None:
            raise fail("Pilih salah satu: --school-year atau --reminders.")
        year, send_on = reminder_window(today, start_month)
        console.print(
            f"Pengingat bukti sekolah tahun ajaran {year}/{year + 1} dikirim mulai "
            f"{send_on:%d/%m/%Y}.",
            markup=False,
        )
    else:
        year = school_year or school_year_of(today, start_month)
    rows = due_rows(start_year=year)
    if not rows:
        console.print(
            f"Tidak ada angsuran beasiswa tahun ajaran {year}/{year + 1} yang menunggu.",
            markup=False,
        )
        return
    if output is not None:
        _write_due(rows, output)
        console.print(
            f"{id_number(len(rows))} angsuran tahun ajaran {year}/{year + 1} "
            f"(Rp {id_number(sum(r['amount'] for r in rows))}) ditulis ke {output}.",
            markup=False,
        )
        return
    table = Table(title=f"Beasiswa tahun ajaran {year}/{year + 1}")
    for header in ("Kecamatan", "Kelurahan", "Klaim", "Anak", "Jenjang", "Jumlah", "Kurang"):
        table.add_column(header, justify="right" if header == "Jumlah" else "left")
    for r in rows:
        cells = (
            r["kecamatan"],
            r["kelurahan"],
            r["claim"],
            r["child"],
            f"{r['level_label']} {r['year_in_level']}",
            f"Rp {id_number(r['amount'])}",
            r["missing"] or "-",
        )
        table.add_row(*(escape(str(c)) for c in cells))
    console.print(table)
    counts: dict[str, list[int]] = {}
    for r in rows:
        k = counts.setdefault(r["kecamatan"] or "-", [0, 0])
        k[0] += 1
        k[1] += r["amount"]
    for name, (n, amount) in counts.items():
        console.print(f"{name}: {id_number(n)} angsuran, Rp {id_number(amount)}", markup=False)
    console.print(
        f"Jumlah: {id_number(len(rows))} angsuran, Rp {id_number(sum(r['amount'] for r in rows))}.",
        markup=False,
    )
