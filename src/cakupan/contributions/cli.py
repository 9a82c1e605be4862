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


cards_app = typer.Typer(
    help="Kartu peserta: kunci tanda tangan (membership card signing keys).",
    no_args_is_help=True,
)


@cards_app.command("key-rotate")
def cards_key_rotate_cmd() -> None:
    """Make a new signing key for new cards; cards signed before stay valid."""
    django_setup()
    from cakupan.contributions.cards import key_dir, signing_key_rotate

    key = signing_key_rotate()
    console.print(
        f"Kunci baru {key.kid} aktif (kunci privat di {key_dir()}). Kartu lama tetap sah "
        f"sampai kuncinya dipensiunkan: cakupan cards key-retire KID.",
        markup=False,
    )


@cards_app.command("key-list")
def cards_key_list_cmd() -> None:
    """List the signing keys: id, status, made on, public key."""
    django_setup()
    from cakupan.contributions.models import SigningKey

    keys = list(SigningKey.objects.order_by("created_at", "id"))
    if not keys:
        console.print("Belum ada kunci: kunci pertama dibuat saat kartu pertama dicetak.")
        return
    for k in keys:
        status = "pensiun" if k.retired_at else ("aktif" if k.active else "sah")
        console.print(f"{k.kid}  {status:7}  {k.created_at:%d/%m/%Y}  {k.public_key}", markup=False)


@cards_app.command("key-retire")
def cards_key_retire_cmd(
    kid: Annotated[str, typer.Argument(help="Id kunci, mis. 3F2A")],
) -> None:
    """Retire a key: every card it signed is refused from now on."""
    django_setup()
    from cakupan.contributions.cards import signing_key_retire
    from cakupan.errors import Refused

    try:
        key = signing_key_retire(kid)
    except Refused as e:
        raise fail(e.message) from None
    console.print(f"Kunci {key.kid} dipensiunkan: kartunya kini ditolak.", markup=False)


payments_app = typer.Typer(help="Pembayaran iuran (payments).", no_args_is_help=True)


@payments_app.command("import")
def payments_import_cmd(
    file: Annotated[str, typer.Argument(help="Mutasi pembayaran (.csv atau .xlsx)")],
    partial: Annotated[
        bool, typer.Option("--partial", help="Simpan baris yang baik saja bila ada baris salah.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Periksa saja, tanpa menyimpan.")
    ] = False,
) -> None:
    """Import a payment statement: check every row, then save all rows (or the good ones)."""
    django_setup()
    from pathlib import Path

    from cakupan.contributions.statements import StatementRefused, statement_import

    path = Path(file)
    if not path.is_file():
        raise fail(f"Berkas tidak ditemukan: {file}")
    try:
        result = statement_import(path, user=None, partial=partial, dry_run=dry_run)
    except StatementRefused as e:
        raise fail(e.message) from None
    c = result.counts
    console.print(
        f"Baris: {id_number(c['rows'])}; salah: {id_number(c['rejected'])}; "
        f"sudah tercatat: {id_number(c['already_recorded'])}; "
        f"dicatat: {id_number(c['to_record'] if result.saved or dry_run else 0)} "
        f"(cocok {id_number(c['matched'])}, menunggu dicocokkan {id_number(c['unmatched'])}); "
        f"jumlah Rp {id_number(c['amount'])}.",
        markup=False,
    )
    for p in result.problems[:20]:
        if p["severity"] == "rejected":
            err.print(
                f"Baris {p['row']}, {p['column']}: {p['problem']} {p['fix']}",
                markup=False,
                highlight=False,
            )
    if c["rejected"] > 20:
        err.print(f"… dan baris lain; {id_number(c['rejected'])} baris salah seluruhnya.")
    if dry_run:
        console.print("Pemeriksaan saja (--dry-run): tidak ada yang disimpan.")
        return
    if result.saved:
        console.print(
            f"Tersimpan: {id_number(c['recorded'])} pembayaran; "
            f"teralokasi Rp {id_number(c['allocated'])}, "
            f"{id_number(c['bills_paid'])} tagihan lunas.",
            markup=False,
        )
        return
    if c["rejected"]:
        raise fail(result.refused_reason)
    console.print(result.refused_reason, markup=False)


@payments_app.command("reverse")
def payments_reverse_cmd(
    reference: Annotated[str, typer.Argument(help="Referensi pembayaran")],
    reason: Annotated[str, typer.Option(help="Alasan pembatalan")],
) -> None:
    """Reverse a payment with entries (never an edit): its months are unpaid again."""
    django_setup()
    from cakupan.contributions.models import Payment
    from cakupan.contributions.services import PaymentRefused, payment_reverse

    payment = Payment.objects.filter(reference=reference.strip()).first()
    if payment is None:
        raise fail(f"Pembayaran dengan referensi {reference} tidak ditemukan.")
    try:
        reversal = payment_reverse(payment=payment, user=None, reason=reason)
    except PaymentRefused as e:
        raise fail(e.message) from None
    console.print(
        f"Dibatalkan: {payment.reference} (Rp {id_number(payment.amount)}); "
        f"entri pembatalan {reversal.reference}.",
        markup=False,
    )
