"""`cakupan billing run` and `cakupan ledger check`."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.cliutil import console, django_setup, err, fail, id_number

billing_app = typer.Typer(help="Penagihan iuran (billing).", no_args_is_help=True)
ledger_app = typer.Typer(help="Buku besar iuran (the contributions ledger).", no_args_is_help=True)


@billing_app.command("run")
def billing_run_cmd(
    month: Annotated[str, typer.Option(help="Bulan iuran, mis. 2026-11")],
) -> None:
    """Bill every membership for a month (running it again adds only what is missing)."""
    django_setup()
    from cakupan.contributions.billing import billing_run
    from cakupan.errors import Refused
    from cakupan.months import MonthInvalid, fmt_month

    try:
        result = billing_run(month=month, progress=lambda stage: err.print(f"… {stage}"))
    except MonthInvalid as e:
        raise fail(str(e)) from None
    except Refused as e:
        raise fail(e.message) from None
    console.print(
        f"Penagihan {fmt_month(result.month)}: {id_number(result.bills_added)} tagihan baru "
        f"(Rp {id_number(result.amount_added)}), {id_number(result.invoices_added)} invoice, "
        f"{id_number(result.bills_voided)} tagihan dibatalkan karena ganti pembayar, "
        f"kredit terpakai Rp {id_number(result.credit_applied)}.",
        markup=False,
    )


@ledger_app.command("check")
def ledger_check_cmd() -> None:
    """Verify the ledger's invariants; exit 1 naming the first breach."""
    django_setup()
    from cakupan.contributions.check import ledger_check

    breaches = ledger_check()
    if not breaches:
        console.print("Buku besar konsisten: semua pemeriksaan lulus.")
        return
    for b in breaches:
        err.print(f"[red]Pelanggaran[/red] {b.check}: {b.message}", highlight=False)
    raise typer.Exit(1)
