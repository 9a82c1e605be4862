#!/usr/bin/env bash
# End to end from the command line, on a fresh SQLite database (or DATABASE_URL): set up with
# demo data, bill this month twice, pay the sponsors' invoices and some workers' months with a
# statement file (twice: the second credits nothing), reverse one payment, then verify the
# ledger's invariants with `cakupan ledger check`; then pay the demo claim waiting for approval
# through a bank batch and the bank's return (read twice: the second changes nothing), and list
# the scholarships due; build the coverage snapshots and write the UCJ and impact reports.
# CI runs it after `make test`.
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

# Claims: the demo work accident verified by nobody is approved by the demo BPJS officer, sent
# to the bank in a batch file and marked paid from the bank's return.
$BIN/cakupan manage shell -c "
from cakupan.accounts.models import User
from cakupan.claims.models import Claim
from cakupan.claims.services import claim_approve
claim = Claim.objects.get(status='verified')
claim_approve(claim=claim, user=User.objects.get(username='bpjs'))
"
batch="$CAKUPAN_VAR/batch.csv"
$BIN/cakupan claims export --output "$batch"
returned="$CAKUPAN_VAR/retur.csv"
$BIN/cakupan manage shell -c "
import csv, datetime as dt
rows = list(csv.reader(open('$batch')))
with open('$returned', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['referensi', 'status', 'tanggal', 'no_transaksi'])
    for i, r in enumerate(rows[1:]):
        w.writerow([r[1], 'berhasil', dt.date.today().strftime('%d/%m/%Y'), f'TRX{i}'])
"
$BIN/cakupan claims return "$returned"
$BIN/cakupan claims return "$returned"
$BIN/cakupan manage shell -c "
from cakupan.claims.models import Claim
assert Claim.objects.filter(status='paid').count() == 1, 'the paid claim'
"
$BIN/cakupan claims due
$BIN/cakupan ledger check

# Coverage: the months the payments above changed are built again (closed ones stay as they
# were) and next month's lapse forecast is counted and stored (outside any transaction: on
# SQLite through its temporary table); the city's UCJ report and a sponsor's impact report are
# written
$BIN/cakupan coverage snapshot
$BIN/cakupan coverage report --output "$CAKUPAN_VAR/ucj.pdf"
$BIN/cakupan coverage report --sponsor 1 --output "$CAKUPAN_VAR/dampak.pdf"
head -c 5 "$CAKUPAN_VAR/ucj.pdf" | grep -q '%PDF-'
head -c 5 "$CAKUPAN_VAR/dampak.pdf" | grep -q '%PDF-'
$BIN/cakupan manage shell -c "
from cakupan.coverage.models import Snapshot
from cakupan.contributions.forecast import forecast_latest, lapse_rows, stored_rows
assert Snapshot.objects.filter(status='closed').exists(), 'a closed month'
run = forecast_latest()
assert run is not None and run.status == 'done', 'a stored lapse forecast'
assert list(stored_rows(run)) == list(lapse_rows(run.on)), 'the stored forecast is the live one'
"
