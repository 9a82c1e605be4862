#!/usr/bin/env bash
# End to end from the command line, on a fresh SQLite database (or DATABASE_URL): set up with
# demo data, bill this month twice, pay the sponsors' invoices and some workers' months with a
# statement file (twice: the second credits nothing), reverse one payment, then verify the
# ledger's invariants with `cakupan ledger check`. CI runs it after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export CAKUPAN_VAR="$(mktemp -d)"
trap 'rm -rf "$CAKUPAN_VAR"' EXIT
month="$(date +%Y-%m)"

$BIN/cakupan setup --demo >/dev/null
$BIN/cakupan billing run --month "$month"
$BIN/cakupan billing run --month "$month"

statement="$CAKUPAN_VAR/mutasi.csv"
$BIN/cakupan manage shell -c "
import csv, datetime as dt
from cakupan.contributions.models import Bill, Invoice
from django.db.models import Sum
today = dt.date.today()
with open('$statement', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['referensi', 'pembayar', 'jumlah', 'tanggal', 'invoice', 'kepesertaan'])
    for i, inv in enumerate(Invoice.objects.select_related('programme__sponsor')):
        total = inv.bills.filter(voided_at__isnull=True).aggregate(s=Sum('amount'))['s'] or 0
        w.writerow([f'TRF-{i:05d}', inv.programme.sponsor.name, total, today.strftime('%d/%m/%Y'), inv.number, ''])
    selves = Bill.objects.filter(programme__isnull=True, voided_at__isnull=True, paid_periods__isnull=True).select_related('membership').order_by('month')[:200]
    for i, b in enumerate(selves):
        w.writerow([f'SELF-{i:05d}', b.membership.number, b.amount, today.isoformat(), '', b.membership.number])
    w.writerow(['UNKNOWN-1', 'PT Tidak Dikenal', 50000, today.isoformat(), '', ''])
"
$BIN/cakupan payments import "$statement"
$BIN/cakupan payments import "$statement"
$BIN/cakupan payments reverse SELF-00000 --reason "Salah transfer (uji ujung ke ujung)"
$BIN/cakupan ledger check
