"""`cakupan claims export`, `return` and `due` on an approved JKM claim (a widow and two
children in school): the batch file's total is what was approved, the bank's return marks the
claim paid once, a bad return changes nothing and names its rows, the due list goes by
kecamatan."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cakupan.claims.models import Batch, Claim, Instruction
from cakupan.claims.services import claim_approve, claim_file, claim_verify, party_add
from cakupan.claims.tests.factories import bill_and_pay, csr_ojol
from cakupan.cli import app

pytestmark = pytest.mark.django_db

runner = CliRunner()
D = dt.date
TODAY = D(2026, 12, 2)
SITI = {"bank_code": "014", "account_number": "0123456789", "account_name": "Siti Aminah"}


@pytest.fixture
def approved(malang, make_user):
    officers = [make_user("bpjs_officer", f"petugas{n}") for n in range(3)]
    member = csr_ojol("2023-07")
    bill_and_pay(member, "2023-07", "2026-10")
    claim = claim_file(
        claim_type="jkm", membership=member, event_date=D(2026, 11, 10), user=officers[0], on=TODAY
    )
    party_add(
        claim=claim,
        user=officers[0],
        on=TODAY,
        full_name="Siti Aminah",
        relation="spouse",
        share_percent=100,
        **SITI,
    )
    for name, born, level, year in (
        ("Ani", D(2012, 5, 1), "smp", 2),
        ("Bima", D(2015, 3, 1), "tk_sd", 6),
    ):
        party_add(
            claim=claim,
            user=officers[0],
            on=TODAY,
            full_name=name,
            relation="child",
            birth_date=born,
            level=level,
            year_in_level=year,
        )
    claim_verify(claim=claim, user=officers[1])
    return claim_approve(claim=claim, user=officers[2])


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_export_writes_a_batch_whose_total_is_what_was_approved(approved, tmp_path):
    approved_total = sum(
        Instruction.objects.filter(claim=approved).values_list("amount", flat=True)
    )
    assert approved_total == 42_000_000
    out = tmp_path / "batch.csv"
    result = runner.invoke(app, ["claims", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert rows[0][:3] == ["no", "referensi", "kode_bank"]
    assert sum(int(r[6]) for r in rows[1:]) == approved_total
    assert f"{len(rows) - 1} transfer" in result.stdout and "Rp 42.000.000" in result.stdout
    # nothing waits any more: said plainly, exit 0, no file, no empty batch
    again = runner.invoke(app, ["claims", "export", "--output", str(tmp_path / "lagi.csv")])
    assert again.exit_code == 0
    assert "Tidak ada pembayaran" in again.stdout and "Tidak ada berkas" in again.stdout
    assert not (tmp_path / "lagi.csv").exists() and Batch.objects.count() == 1


def test_export_as_xlsx_and_a_file_already_there_is_never_overwritten(approved, tmp_path):
    taken = tmp_path / "ada.xlsx"
    taken.write_bytes(b"keep")
    refused = runner.invoke(app, ["claims", "export", "--output", str(taken)])
    assert refused.exit_code == 2 and "sudah ada" in refused.stderr
    assert taken.read_bytes() == b"keep"
    assert not Batch.objects.exists()
    assert not Instruction.objects.exclude(status="pending").exists()
    out = tmp_path / "batch.xlsx"
    result = runner.invoke(app, ["claims", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    amounts = [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sum(amounts) == 42_000_000


def test_return_marks_paid_and_a_second_run_says_already_recorded(approved, tmp_path):
    out = tmp_path / "batch.csv"
    assert runner.invoke(app, ["claims", "export", "--output", str(out)]).exit_code == 0
    refs = [r[1] for r in read_csv(out)[1:]]
    back = tmp_path / "retur.csv"
    with back.open("w", newline="") as f:
        csv.writer(f).writerows(
            [["referensi", "status", "tanggal", "no_transaksi"]]
            + [[ref, "berhasil", "01/12/2026", f"TRX{n}"] for n, ref in enumerate(refs)]
        )
    first = runner.invoke(app, ["claims", "return", str(back)])
    assert first.exit_code == 0, first.output
    assert f"dibayar: {len(refs)}" in first.stdout
    assert Claim.objects.get(pk=approved.pk).status == Claim.Status.PAID
    second = runner.invoke(app, ["claims", "return", str(back)])
    assert second.exit_code == 0
    assert "sudah tercatat" in second.stdout and "tidak ada yang berubah" in second.stdout


def test_a_bad_return_exits_2_with_the_row_report_and_changes_nothing(approved, tmp_path):
    out = tmp_path / "batch.csv"
    runner.invoke(app, ["claims", "export", "--output", str(out)])
    refs = [r[1] for r in read_csv(out)[1:]]
    back = tmp_path / "retur.csv"
    with back.open("w", newline="") as f:
        csv.writer(f).writerows(
            [
                ["referensi", "status", "tanggal"],
                [refs[0], "berhasil", "01/12/2026"],
                ["JKM-2026-999999-001", "berhasil", "01/12/2026"],
                [refs[1], "mungkin", "01/12/2026"],
            ]
        )
    result = runner.invoke(app, ["claims", "return", str(back)])
    assert result.exit_code == 2
    assert "Baris 3" in result.stderr and "JKM-2026-999999-001" in result.stderr
    assert "Baris 4" in result.stderr and "mungkin" in result.stderr
    assert "tidak ada yang diubah" in result.stderr
    assert not Instruction.objects.filter(status="paid").exists()
    headless = tmp_path / "kosong.csv"
    headless.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["claims", "return", str(headless)])
    assert result.exit_code == 2 and "Galat" in result.stderr
    missing = runner.invoke(app, ["claims", "return", str(tmp_path / "tidak-ada.csv")])
    assert missing.exit_code == 2 and "tidak ditemukan" in missing.stderr


def test_due_lists_the_school_year_by_kecamatan_with_what_is_missing(approved, tmp_path):
    kecamatan = approved.worker.kelurahan.parent.name
    result = runner.invoke(app, ["claims", "due", "--school-year", "2026"])
    assert result.exit_code == 0, result.output
    assert "2026/2027" in result.stdout
    assert f"{kecamatan}: 2 angsuran" in result.stdout
    assert "Ani" in result.stdout and "Bima" in result.stdout
    out = tmp_path / "beasiswa.csv"
    result = runner.invoke(app, ["claims", "due", "--school-year", "2026", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert rows[0][0] == "kecamatan" and rows[0][-1] == "kekurangan"
    assert sorted(r[4] for r in rows[1:]) == ["Ani", "Bima"]
    assert {r[0] for r in rows[1:]} == {kecamatan}
    assert all(r[-1] for r in rows[1:])  # each still needs its proof of enrolment
    empty = runner.invoke(app, ["claims", "due", "--school-year", "2040"])
    assert empty.exit_code == 0 and "Tidak ada angsuran" in empty.stdout


def test_due_with_reminders_lists_the_next_school_year_and_the_day_they_go_out(approved):
    from django.utils import timezone

    from cakupan.claims.scholarships import reminder_window

    year, send_on = reminder_window(timezone.localdate())
    assert send_on == D(year, 5, 1)  # two months before the school year starts in July
    result = runner.invoke(app, ["claims", "due", "--reminders"])
    assert result.exit_code == 0, result.output
    assert f"{year}/{year + 1}" in result.stdout
    assert f"dikirim mulai {send_on:%d/%m/%Y}" in result.stdout
    assert "Ani" in result.stdout and "Bima" in result.stdout
    both = runner.invoke(app, ["claims", "due", "--reminders", "--school-year", "2026"])
    assert both.exit_code == 2
