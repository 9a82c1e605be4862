"""Payment statements: the row report, matching set-based with payer_match's rules, all or
nothing unless partial, idempotent on the reference, prepayment, XLSX with Indonesian headers,
and `cakupan payments import`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from cakupan.contributions.billing import billing_run
from cakupan.contributions.check import ledger_check
from cakupan.contributions.models import Allocation, Bill, Invoice, Payment, PaymentStatement
from cakupan.contributions.services import account_of_membership, account_of_sponsor
from cakupan.contributions.statements import StatementRefused, statement_import
from cakupan.contributions.tests.factories import M, make_membership, make_programme

pytestmark = pytest.mark.django_db

D = dt.date


def write_csv(tmp_path: Path, text: str, name: str = "mutasi.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ledger(malang):
    """A CSR sponsor with three ojol drivers (8,400 a month, billed Oct and Nov 2026) and a
    petani paying for himself (8,400 a month, billed Oct and Nov)."""
    csr = make_programme(type="csr")
    drivers = [make_membership(fundings=[(csr, "2026-01", "2026-12")]) for _ in range(3)]
    farmer = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-10")
    billing_run(month="2026-11")
    return {
        "csr": csr,
        "sponsor": csr.sponsor,
        "drivers": drivers,
        "farmer": farmer,
        "november": Invoice.objects.get(programme=csr, month=M("2026-11")),
    }


def golden(ledger) -> str:
    sponsor, november, farmer = ledger["sponsor"], ledger["november"], ledger["farmer"]
    return "\n".join(
        [
            "reference,payer,amount,date,invoice,membership",
            # row 2: the sponsor pays its November invoice
            f"BNI-001,{sponsor.name},25200,10/11/2026,{november.number},",
            # row 3: the farmer pays two months, naming himself as payer
            f"BRI-002,{farmer.number},Rp 16.800,2026-11-12,,",
            # row 4: unknown payer → unmatched
            "BRI-003,PT Tidak Dikenal,50000,12/11/2026,,",
            # row 5: unknown invoice → unmatched
            f"BRI-004,{sponsor.name},8400,12/11/2026,INV/209901/00001,",
            # row 6: bad amount, row 7: bad date, row 8: empty reference, row 9: repeat of 2
            "BRI-005,PT X,dua ribu,12/11/2026,,",
            "BRI-006,PT X,8400,31/02/2026,,",
            ",PT X,8400,12/11/2026,,",
            f"BNI-001,{sponsor.name},25200,10/11/2026,,",
            "",
        ]
    )


def test_the_golden_statement_is_reported_row_by_row_and_saves_nothing_when_not_partial(
    ledger, tmp_path
):
    path = write_csv(tmp_path, golden(ledger))
    result = statement_import(path, user=None)
    assert not result.saved
    assert result.counts["rejected"] == 4
    assert result.counts["duplicate_in_file"] == 1
    assert (result.counts["matched"], result.counts["unmatched"]) == (2, 2)
    assert result.counts["unmatched_unknown_payer"] == 1
    assert result.counts["unmatched_unknown_reference"] == 1
    report = {(p["row"], p["code"]) for p in result.problems}
    assert {(6, "invalid_amount"), (7, "invalid_date"), (8, "required")} <= report
    assert (9, "duplicate_in_file") in report
    assert (4, "unknown_payer") in report and (5, "unknown_reference") in report
    # the report speaks the user's language (Indonesian by default) and names the fix
    bad_amount = next(p for p in result.problems if p["code"] == "invalid_amount")
    assert bad_amount["column"] == "Jumlah" and "dua ribu" in bad_amount["problem"]
    assert "16.800" in bad_amount["fix"]
    assert "Tidak ada yang disimpan" in result.refused_reason
    assert Payment.objects.count() == 0 and PaymentStatement.objects.count() == 0


def test_partial_saves_the_good_rows_and_the_unmatched_wait(ledger, tmp_path):
    path = write_csv(tmp_path, golden(ledger))
    result = statement_import(path, user=None, partial=True)
    assert result.saved and result.statement.status == "saved" and result.statement.partial
    assert result.counts["recorded"] == 4
    assert set(Payment.objects.values_list("reference", flat=True)) == {
        "BNI-001",
        "BRI-002",
        "BRI-003",
        "BRI-004",
    }
    # the sponsor's payment named November: November's bills are paid, October's not
    for m in ledger["drivers"]:
        assert Bill.objects.get(membership=m, month=M("2026-11")).paid_on == D(2026, 11, 10)
        assert Bill.objects.get(membership=m, month=M("2026-10")).paid_on is None
    # the farmer's 16,800 paid his two months, oldest first
    farmer_bills = Bill.objects.filter(membership=ledger["farmer"]).order_by("month")
    assert [b.paid_on for b in farmer_bills] == [D(2026, 11, 12), D(2026, 11, 12)]
    waiting = Payment.objects.filter(account__isnull=True)
    assert dict(waiting.values_list("reference", "unmatched_reason")) == {
        "BRI-003": "unknown_payer",
        "BRI-004": "unknown_reference",
    }
    assert result.counts["allocated"] == 25_200 + 16_800
    assert set(Payment.objects.values_list("statement", flat=True)) == {result.statement.pk}
    assert ledger_check() == []


def test_the_same_statement_twice_credits_nothing_the_second_time_and_says_so(ledger, tmp_path):
    sponsor, november = ledger["sponsor"], ledger["november"]
    text = (
        "referensi;pembayar;jumlah;tanggal;no_invoice\n"
        f"BNI-9;{sponsor.name};30000;10/11/2026;{november.number}\n"
    )
    path = write_csv(tmp_path, text)
    first = statement_import(path, user=None)
    account = account_of_sponsor(sponsor)
    account.refresh_from_db()
    # 25,200 pays November's invoice, the 4,800 left goes to the oldest month (October)
    assert first.saved and account.credit == 0
    credit, allocations = account.credit, Allocation.objects.count()
    again = statement_import(path, user=None)
    assert not again.saved
    assert again.counts["already_recorded"] == 1 and again.counts["to_record"] == 0
    assert "sudah tercatat" in again.refused_reason.lower()
    account.refresh_from_db()
    assert account.credit == credit and Allocation.objects.count() == allocations
    assert Payment.objects.count() == 1


def test_an_overpayment_becomes_credit_and_a_short_one_leaves_a_shortfall(ledger, tmp_path):
    sponsor, farmer = ledger["sponsor"], ledger["farmer"]
    text = (
        "reference,payer,amount,date\n"
        # 6 bills of 8,400 (Oct+Nov × 3): 60,000 pays them all and leaves 9,600 credit
        f"S-1,{sponsor.name},60000,01/11/2026\n"
        # the farmer pays 10,000: October paid, November short by 6,800
        f"S-2,{farmer.number},10000,02/11/2026\n"
    )
    result = statement_import(write_csv(tmp_path, text), user=None)
    assert result.saved
    account = account_of_sponsor(sponsor)
    assert account.credit == 60_000 - 6 * 8_400
    november = Bill.objects.get(membership=farmer, month=M("2026-11"))
    paid = sum(november.allocations.values_list("amount", flat=True))
    assert november.paid_on is None and november.amount - paid == 6_800
    assert account_of_membership(farmer).credit == 0
    assert ledger_check() == []


def test_a_payer_owing_nothing_waits_as_no_bill_unless_it_prepays_whole_months(malang, tmp_path):
    paid_up = make_membership(fundings=[(None, "2026-01", None)], occupation="ojol")
    idle = make_membership(fundings=[(None, "2026-01", None)], occupation="ojol")
    billing_run(month="2026-10")
    text = (
        "reference,payer,amount,date\n"
        f"P-0,{paid_up.number},8400,01/10/2026\n"
        f"P-1,{idle.number},8400,01/10/2026\n"
    )
    statement_import(write_csv(tmp_path, text, "first.csv"), user=None)
    # both owe nothing now: three months ahead (3 × 8,400) is a prepayment, 1,234 is not
    text = (
        "reference,payer,amount,date\n"
        f"P-2,{paid_up.number},25200,02/10/2026\n"
        f"P-3,{idle.number},1234,02/10/2026\n"
    )
    result = statement_import(write_csv(tmp_path, text, "second.csv"), user=None)
    assert result.counts["prepaid"] == 1 and result.counts["unmatched_no_bill"] == 1
    # a statement keeps the prepayment as the worker's credit (billing ahead per worker would
    # be a loop over rows); each month's run spends it, effective on the payment's date
    account = account_of_membership(paid_up)
    assert Payment.objects.get(reference="P-2").account == account
    assert account.credit == 25_200
    assert not Bill.objects.filter(membership=paid_up, month__gt=M("2026-10")).exists()
    for month in ("2026-11", "2026-12", "2027-01"):
        billing_run(month=month)
    paid_ahead = Bill.objects.filter(membership=paid_up, month__gt=M("2026-10"))
    assert [(b.month, b.paid_on) for b in paid_ahead.order_by("month")] == [
        (M("2026-11"), D(2026, 10, 2)),
        (M("2026-12"), D(2026, 10, 2)),
        (M("2027-01"), D(2026, 10, 2)),
    ]
    account.refresh_from_db()
    assert account.credit == 0
    assert Payment.objects.get(reference="P-3").unmatched_reason == "no_bill"
    assert ledger_check() == []


def test_xlsx_with_indonesian_headers_and_rupiah_spellings(ledger, tmp_path):
    sponsor, farmer = ledger["sponsor"], ledger["farmer"]
    book = Workbook()
    sheet = book.active
    sheet.append(["No Referensi", "Nama Pembayar", "Nominal", "Tanggal", "No Kepesertaan"])
    sheet.append(["X-1", sponsor.name, "16.800,00", "03/11/2026", ""])
    sheet.append(["X-2", "", 8400, dt.datetime(2026, 11, 4), farmer.number])
    sheet.append(["X-3", sponsor.name, "Rp 16.800", "2026-11-05", ""])
    path = tmp_path / "mutasi.xlsx"
    book.save(path)
    result = statement_import(path, user=None, dry_run=True)
    assert result.counts["rejected"] == 0, result.problems
    assert result.counts["matched"] == 3 and result.counts["amount"] == 16_800 + 8_400 + 16_800
    assert Payment.objects.count() == 0  # a dry run saves nothing
    saved = statement_import(path, user=None)
    assert saved.saved
    x2 = Payment.objects.get(reference="X-2")
    assert x2.paid_on == D(2026, 11, 4) and x2.membership == farmer
    assert x2.account == account_of_membership(farmer)


def test_a_file_without_the_required_columns_is_refused_naming_them(malang, tmp_path):
    path = write_csv(tmp_path, "ref,nama\nA,B\n")
    with pytest.raises(StatementRefused) as refused:
        statement_import(path, user=None)
    assert "Jumlah" in refused.value.message and "Tanggal" in refused.value.message


def test_cli_imports_a_statement_and_a_dry_run_saves_nothing(ledger, tmp_path):
    from typer.testing import CliRunner

    from cakupan.cli import app

    farmer = ledger["farmer"]
    path = write_csv(
        tmp_path, f"reference,payer,amount,date\nC-1,{farmer.number},8400,01/11/2026\n"
    )
    runner = CliRunner()
    dry = runner.invoke(app, ["payments", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert Payment.objects.count() == 0
    done = runner.invoke(app, ["payments", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "1" in done.output and Payment.objects.count() == 1
    again = runner.invoke(app, ["payments", "import", str(path)])
    assert "sudah tercatat: 1" in again.output
    bad = write_csv(tmp_path, "reference,payer,amount,date\nC-2,X,abc,01/11/2026\n", "bad.csv")
    refused = runner.invoke(app, ["payments", "import", str(bad)])
    assert refused.exit_code == 2 and "abc" in refused.output
    reverse = runner.invoke(app, ["payments", "reverse", "C-1", "--reason", "Salah input"])
    assert reverse.exit_code == 0, reverse.output
    assert Payment.objects.filter(reverses__reference="C-1").count() == 1


def test_partial_with_no_good_row_saves_nothing_and_says_why(malang, tmp_path):
    path = write_csv(tmp_path, "reference,payer,amount,date\nA,PT X,abc,01/11/2026\n")
    result = statement_import(path, user=None, partial=True)
    assert not result.saved and result.counts["rejected"] == 1
    assert "tidak satu baris pun" in result.refused_reason
    assert PaymentStatement.objects.count() == 0


def test_a_worker_naming_himself_as_payer_and_membership_is_matched(ledger, tmp_path):
    """The e2e statement's self-payer rows give the membership number in both columns."""
    farmer = ledger["farmer"]
    path = write_csv(
        tmp_path,
        "referensi,pembayar,jumlah,tanggal,invoice,kepesertaan\n"
        f"SELF-1,{farmer.number},8400,12/11/2026,,{farmer.number}\n",
    )
    result = statement_import(path, user=None)
    assert result.saved and result.counts["matched"] == 1 and result.counts["bills_paid"] == 1
