"""`cakupan sponsors ...` and `cakupan programmes ...`: payers and their funding programmes."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cakupan.cliutil import console, django_setup, fail, id_number

sponsor_app = typer.Typer(help="Pemberi dana (sponsors).", no_args_is_help=True)
programme_app = typer.Typer(help="Program pendanaan (funding programmes).", no_args_is_help=True)


@sponsor_app.command("create")
def sponsor_create_cmd(
    name: Annotated[str, typer.Option(help="Nama pemberi dana")],
    type: Annotated[str, typer.Option(help="apbd, apbn, apbdes, dbhcht, csr, bpjs, self, other")],
    contact: Annotated[str, typer.Option(help="Narahubung")] = "",
    phone: Annotated[str, typer.Option(help="Telepon narahubung")] = "",
) -> None:
    """Create a sponsor."""
    django_setup()
    from cakupan.funding.services import FundingInvalid, sponsor_create

    try:
        sponsor = sponsor_create(type=type, name=name, contact_name=contact, contact_phone=phone)
    except FundingInvalid as e:
        raise fail(" ".join(m for msgs in e.errors.values() for m in msgs)) from None
    console.print(
        f"Pemberi dana {sponsor.pk}: {sponsor.name} ({sponsor.get_type_display()})", markup=False
    )


@sponsor_app.command("list")
def sponsor_list_cmd() -> None:
    """List sponsors."""
    django_setup()
    from cakupan.funding.models import Sponsor

    table = Table("id", "nama", "jenis")
    for s in Sponsor.objects.all():
        table.add_row(str(s.pk), escape(s.name), s.get_type_display())
    console.print(table)


@programme_app.command("create")
def programme_create_cmd(
    sponsor: Annotated[int, typer.Option(help="id pemberi dana")],
    name: Annotated[str, typer.Option(help="Nama program")],
    year: Annotated[int, typer.Option(help="Tahun anggaran")],
    first: Annotated[str, typer.Option(help="Bulan pertama, mis. 2026-01")],
    last: Annotated[str, typer.Option(help="Bulan terakhir, mis. 2026-12")],
    budget: Annotated[int, typer.Option(help="Anggaran (Rp)")],
    jht: Annotated[bool, typer.Option("--jht", help="Paket termasuk JHT")] = False,
    income: Annotated[
        int, typer.Option(help="Penghasilan yang dilaporkan (Rp), menentukan kelas iuran")
    ] = 1_000_000,
    eligibility: Annotated[
        str, typer.Option(help='Syarat sebagai JSON, mis. {"occupations": ["ojol"]}')
    ] = "{}",
    cap: Annotated[int | None, typer.Option(help="Batas jumlah peserta")] = None,
) -> None:
    """Create a funding programme (priced by the rules engine)."""
    django_setup()
    from cakupan.funding.models import Sponsor
    from cakupan.funding.services import FundingInvalid, programme_create
    from cakupan.months import parse_month

    payer = Sponsor.objects.filter(pk=sponsor).first()
    if payer is None:
        raise fail(f"Pemberi dana dengan id {sponsor} tidak ada (lihat: cakupan sponsors list).")
    try:
        rules = json.loads(eligibility)
        if not isinstance(rules, dict):
            raise ValueError
    except ValueError:
        raise fail('--eligibility harus objek JSON, mis. {"occupations": ["ojol"]}.') from None
    try:
        programme = programme_create(
            sponsor=payer,
            name=name,
            fiscal_year=year,
            first_month=parse_month(first),
            last_month=parse_month(last),
            budget=budget,
            programmes=["jkk", "jkm", *(["jht"] if jht else [])],
            declared_income=income,
            eligibility=rules,
            cohort_cap=cap,
        )
    except ValueError as e:
        raise fail(str(e)) from None
    except FundingInvalid as e:
        raise fail(" ".join(f"{k}: {m}" for k, msgs in e.errors.items() for m in msgs)) from None
    console.print(
        f"Program {programme.pk}: {programme} — anggaran Rp {id_number(programme.budget)}",
        markup=False,
    )


@programme_app.command("list")
def programme_list_cmd() -> None:
    """List funding programmes with budget, committed amount and members."""
    django_setup()
    from cakupan.funding.models import FundingProgramme
    from cakupan.funding.selectors import programme_budget

    table = Table("id", "program", "pemberi dana", "bulan", "anggaran", "terpakai", "peserta")
    for p in FundingProgramme.objects.select_related("sponsor"):
        b = programme_budget(programme=p)
        table.add_row(
            str(p.pk),
            escape(p.name),
            escape(p.sponsor.name),
            f"{p.first_month:%Y-%m}..{p.last_month:%Y-%m}",
            f"Rp {id_number(b.budget)}",
            f"Rp {id_number(b.committed)}",
            id_number(b.members),
        )
    console.print(table)
