"""`cakupan rules ...`: the contribution and benefit calculators on the command line.

Both commands call the rules engine (`cakupan.rules`, pure Python) directly: no database,
no Django set-up. Bad input is a red "Galat:" line on stderr naming the option or the JSON
field and the fix, with exit code 2.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from cakupan.cliutil import console, fail
from cakupan.rules import (
    BenefitLine,
    BenefitResult,
    ContributionResult,
    RuleInputError,
    RuleSetError,
    benefits_from_dict,
    contribution,
    default_rules,
)
from cakupan.rules.benefits import rupiah

rules_app = typer.Typer(help="Kalkulator iuran dan manfaat (rules engine).", no_args_is_help=True)


PAYABLE_ID = {
    "now": "dibayar sekarang",
    "after_arrears": "setelah tunggakan dilunasi",
    "not_payable": "tidak dibayar",
    "later": "pada tahun ajarannya",
}
PAYABLE_STYLE = {"now": "green", "after_arrears": "yellow", "not_payable": "red", "later": "cyan"}
# The office's calendar day, as the web pages and the API use it (settings.TIME_ZONE), without
# loading Django.
OFFICE_TZ = ZoneInfo("Asia/Jakarta")


def _today() -> date:
    return datetime.now(OFFICE_TZ).date()


EVENT_ID = {"jkk": "kecelakaan kerja (JKK)", "jkm": "meninggal bukan karena kerja (JKM)"}


def _broken_rules(e: RuleSetError) -> typer.Exit:
    # For the operator who edited a rule file (CAKUPAN_RULES_DIR): the message is English and
    # names the file and the rule set ids.
    return fail(f"berkas aturan tidak dapat dimuat (rule set error): {e}")


def _amount(value: int | None) -> str:
    return "sesuai tagihan" if value is None else rupiah(value)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _parse_income(text: str) -> int:
    """Whole Rupiah from "1000000", "1.000.000" or "Rp 1.000.000"; the engine checks the range."""
    cleaned = text.strip().removeprefix("Rp").replace(".", "").replace(" ", "")
    try:
        return int(cleaned)
    except ValueError:
        raise fail(
            f"--income: penghasilan {text!r} bukan bilangan bulat; tulis misalnya 1000000 "
            "atau 1.000.000 (tanpa desimal)."
        ) from None


@rules_app.command("contribution")
def contribution_cmd(
    income: Annotated[
        str, typer.Option(help="Penghasilan sebulan yang dilaporkan, Rupiah (mis. 1000000).")
    ],
    month: Annotated[
        str | None, typer.Option(help="Bulan iuran TTTT-BB; bawaan: bulan ini.")
    ] = None,
    category: Annotated[str, typer.Option(help="Kategori peserta: bpu.")] = "bpu",
    jht: Annotated[bool, typer.Option("--jht", help="Ikut Jaminan Hari Tua (opsional).")] = False,
    business_owner: Annotated[
        bool, typer.Option("--business-owner", help="Pemilik usaha: JHT wajib.")
    ] = False,
    sector: Annotated[
        str, typer.Option(help="Sektor pekerjaan, mis. transport, trade, other.")
    ] = "other",
    funding: Annotated[
        str, typer.Option(help="Sumber dana: apbd, apbn, apbdes, dbhcht, csr, self, other.")
    ] = "self",
    as_json: Annotated[bool, typer.Option("--json", help="Keluaran JSON lengkap.")] = False,
) -> None:
    """One participant's monthly contribution: bracket, each programme, PP 50/2025 discount."""
    try:
        result = contribution(
            category=category,
            income=_parse_income(income),
            month=month or date.today().strftime("%Y-%m"),
            programmes=["jht"] if jht else None,
            sector=sector,
            funding=funding,
            business_owner=business_owner,
        )
    except RuleInputError as e:
        option = "--" + e.field.replace("_", "-")
        raise fail(f"{option}: {e.message}") from None
    except RuleSetError as e:
        raise _broken_rules(e) from None
    if as_json:
        _print_json(result.to_dict())
    else:
        _print_contribution(result)


def _print_contribution(result: ContributionResult) -> None:
    upper = rupiah(result.income_to) if result.income_to is not None else "ke atas"
    console.print(
        f"[bold]Iuran {result.category.upper()} bulan {result.month:%Y-%m}[/bold] — penghasilan "
        f"{rupiah(result.income)} → kelas {result.bracket} ({rupiah(result.income_from)} – "
        f"{upper}), dasar iuran {rupiah(result.base)}",
        highlight=False,
    )
    console.print(f"Sektor: {result.sector} · sumber dana: {result.funding}", highlight=False)
    table = Table(show_footer=True)
    table.add_column("Program", footer="Jumlah")
    table.add_column("Iuran", justify="right", no_wrap=True, footer=rupiah(result.total_gross))
    table.add_column("Diskon", justify="right", no_wrap=True, footer=rupiah(result.total_discount))
    table.add_column("Dibayar", justify="right", no_wrap=True, footer=rupiah(result.total))
    table.add_column("Dasar hukum")
    for line in result.lines:
        basis = line.basis
        if line.discount:
            basis += f"; diskon {line.discount_basis}"
        kind = "wajib" if line.mandatory else "pilihan"
        table.add_row(
            f"{line.label_id} ({kind})",
            rupiah(line.gross),
            rupiah(line.discount),
            rupiah(line.net),
            basis,
        )
    console.print(table, highlight=False)
    console.print(f"[bold]Dibayar sebulan: {rupiah(result.total)}[/bold]", highlight=False)
    for note in result.notes:
        console.print(f"Catatan: {escape(note.message)}", highlight=False)
    console.print(f"Aturan: {', '.join(result.rule_ids)}", highlight=False)


def _read_event(file: str) -> Any:
    name = "stdin" if file == "-" else file
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise fail(f"Berkas {file} tidak ditemukan; periksa nama dan foldernya.") from None
    except IsADirectoryError:
        raise fail(f"{file} adalah folder; berikan berkas JSON kejadian.") from None
    except UnicodeDecodeError:
        raise fail(f"Berkas {file} bukan teks UTF-8; simpan ulang sebagai UTF-8.") from None
    except OSError as e:
        raise fail(f"Berkas {file} tidak dapat dibaca: {e.strerror}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(
            f"{name} bukan JSON yang sah (baris {e.lineno}, kolom {e.colno}: {e.msg}); "
            "periksa tanda kutip, koma dan kurung."
        ) from None


@rules_app.command("benefits")
def benefits_cmd(
    file: Annotated[
        str, typer.Argument(help="Berkas JSON kejadian (lihat docs/rules.md); '-' = stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Keluaran JSON lengkap.")] = False,
) -> None:
    """Benefits after a work accident (JKK) or a death not from work (JKM), itemised: what is
    paid now, what waits for the arrears, the later scholarship schedule, and the total."""
    data = _read_event(file)
    try:
        result = benefits_from_dict(data, as_of=_today())
    except RuleInputError as e:
        raise fail(f"kolom {e.field!r}: {e.message}") from None
    except RuleSetError as e:
        raise _broken_rules(e) from None
    if as_json:
        _print_json(result.to_dict())
    else:
        _print_benefits(result)


def _lines_table(lines: tuple[BenefitLine, ...], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("Manfaat · dasar hukum")
    table.add_column("Jumlah", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for line in lines:
        table.add_row(
            f"[bold]{escape(line.label_id)}[/bold]\n{escape(line.calculation)}\n"
            f"[dim]{escape(f'{line.basis} [{line.confidence}]')}[/dim]",
            _amount(line.amount),
            _status(line),
        )
    return table


def _status(line: BenefitLine) -> str:
    style = PAYABLE_STYLE.get(line.payable, "")
    text = PAYABLE_ID.get(line.payable, line.payable)
    if line.payable == "later" and "tunggakan" in line.note:
        text += ", setelah tunggakan dilunasi"
    return f"[{style}]{text}[/{style}]"


def _print_benefits(result: BenefitResult) -> None:
    head = (
        f"[bold]Manfaat {EVENT_ID.get(result.event_type, result.event_type)}[/bold] — kejadian "
        f"{result.event_date.isoformat()}, dihitung per {result.as_of.isoformat()}, tunggakan "
        f"iuran {result.months_in_arrears} bulan"
    )
    if result.wage is not None:
        head += f", upah {rupiah(result.wage)}"
    console.print(head, highlight=False)
    console.print(_lines_table(result.lines, "Jatuh tempo sekarang"), highlight=False)
    for line in result.lines:
        if line.note:
            console.print(f"• {escape(line.label_id)}: {escape(line.note)}", highlight=False)
    if result.scholarships is not None:
        _print_scholarships(result)
    # The three amounts apart, each the sum of its own lines; then their sum.
    console.print(f"Dibayar sekarang: [bold]{rupiah(result.total_now)}[/bold]", highlight=False)
    if result.months_in_arrears:
        console.print(
            f"Ditahan sampai tunggakan dilunasi: [bold]{rupiah(result.total_after_arrears)}[/bold]",
            highlight=False,
        )
    if result.scholarships is not None:
        console.print(
            f"Jadwal beasiswa tahun ajaran berikutnya: [bold]{rupiah(result.total_later)}[/bold]",
            highlight=False,
        )
    total = f"Jumlah seluruhnya: [bold]{rupiah(result.total)}[/bold]"
    if result.as_incurred:
        total += " + perawatan medis sesuai tagihan (tanpa plafon)"
    console.print(total, highlight=False)
    console.print(f"Aturan: {', '.join(result.rule_ids)}", highlight=False)


def _print_scholarships(result: BenefitResult) -> None:
    """Each child's instalments, one row per school year, with the status of its line."""
    scholarships = result.scholarships
    assert scholarships is not None
    levels = default_rules().vocabulary(result.event_date, field="event_date").education_levels
    lines = {(line.child, line.school_year): line for line in (*result.lines, *result.schedule)}
    console.print(
        "[bold]Beasiswa pendidikan anak[/bold] "
        + escape(
            f"({scholarships.basis} [{scholarships.confidence}]; paling banyak "
            f"{scholarships.max_children} anak; tahun ajaran ini {scholarships.current_school_year})"
        ),
        highlight=False,
    )
    for child in scholarships.children:
        who = f"Anak {child.index + 1}" + (f" ({escape(child.name)})" if child.name else "")
        if not child.eligible:
            reasons = escape(" ".join(r.message for r in child.reasons))
            console.print(f"{who}: [red]tidak menerima[/red] — {reasons}", highlight=False)
            continue
        table = Table(title=f"{who}: {rupiah(child.total)}", title_justify="left")
        table.add_column("Tahun ajaran", no_wrap=True)
        table.add_column("Jenjang")
        table.add_column("Tahun ke", justify="right")
        table.add_column("Jumlah", justify="right", no_wrap=True)
        table.add_column("Status")
        for year in child.schedule:
            term = levels.get(year.level)
            line = lines[(child.index, year.school_year)]
            table.add_row(
                year.school_year,
                term.label_id if term else year.level,
                str(year.year_in_level),
                rupiah(year.amount),
                _status(line) + (" (tahun ajaran sudah lewat)" if year.when == "past" else ""),
            )
        console.print(table, highlight=False)
    console.print(f"Jumlah beasiswa: {rupiah(scholarships.total)}", highlight=False)
