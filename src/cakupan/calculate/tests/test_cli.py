"""`cakupan rules contribution|benefits`: golden figures, JSON output, bad input → exit 2."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cakupan.calculate.cli import OFFICE_TZ
from cakupan.cli import app
from cakupan.rules.benefits import rupiah

runner = CliRunner()
OJOL_2026_11 = ["--income", "1.000.000", "--month", "2026-11", "--sector", "transport"]


def _contribution(*args: str):
    return runner.invoke(app, ["rules", "contribution", *args])


def _benefits(tmp_path: Path, event: object, *args: str):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event) if not isinstance(event, str) else event)
    return runner.invoke(app, ["rules", "benefits", str(path), *args])


@pytest.mark.parametrize(
    ("args", "total"),
    [
        (["--income", "1000000", "--month", "2025-06"], "Rp 16.800"),  # docs/regulations.md §3
        (["--income", "1000000", "--month", "2025-06", "--jht"], "Rp 36.800"),
        ([*OJOL_2026_11, "--funding", "csr"], "Rp 8.400"),
        ([*OJOL_2026_11, "--funding", "apbd"], "Rp 16.800"),
        (["--income", "1000000", "--month", "2027-04", "--sector", "transport"], "Rp 16.800"),
        (["--income", "1000000", "--month", "2027-01", "--sector", "trade"], "Rp 16.800"),
        (["--income", "50000000", "--month", "2025-06", "--business-owner"], "Rp 627.800"),
    ],
)
def test_contribution_table_shows_the_golden_figures(args: list[str], total: str) -> None:
    result = _contribution(*args)
    assert result.exit_code == 0, result.output
    assert f"Dibayar sebulan: {total}" in result.stdout
    assert "Dasar hukum" in result.stdout and "Program" in result.stdout


def test_contribution_table_is_itemised_and_says_why_no_discount() -> None:
    result = _contribution(
        "--income", "1000000", "--month", "2026-11", "--sector", "transport", "--funding", "apbd"
    )
    out = result.stdout
    assert "Rp 10.000" in out and "Rp 6.800" in out and "kelas 1" in out
    assert "Tanpa keringanan PP 50/2025: iuran dibayar dari APBD." in out


def test_contribution_json_is_the_full_result() -> None:
    result = _contribution(
        "--income", "1000000", "--month", "2026-11", "--sector", "transport", "--funding", "csr",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"] == 8_400 and data["total_discount"] == 8_400
    assert [line["programme"] for line in data["lines"]] == ["jkk", "jkm"]
    assert data["lines"][0]["discount_rule_id"] == "discount-pp50-2025"
    assert set(data) >= {"bracket", "base", "rule_ids", "notes", "month"}


def test_contribution_month_defaults_to_this_month() -> None:
    from datetime import date

    data = json.loads(_contribution("--income", "1000000", "--json").stdout)
    assert data["month"] == date.today().strftime("%Y-%m")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--income", "-5"], "--income"),
        (["--income", "satu juta"], "--income"),
        (["--income", "1000000", "--category", "astronaut"], "--category"),
        (["--income", "1000000", "--sector", "piracy"], "--sector"),
        (["--income", "1000000", "--funding", "lottery"], "--funding"),
        (["--income", "1000000", "--month", "2010-01"], "--month"),
        (["--income", "1000000", "--month", "November"], "--month"),
    ],
)
def test_contribution_bad_input_exits_2_naming_the_option(args: list[str], named: str) -> None:
    result = _contribution(*args)
    assert result.exit_code == 2
    assert "Galat:" in result.stderr and named in result.stderr
    assert "Traceback" not in result.output


def test_benefits_jkm_death_is_42_million(tmp_path: Path) -> None:
    result = _benefits(tmp_path, {"type": "jkm", "event_date": "2026-03-15"})
    assert result.exit_code == 0, result.output
    assert "Jumlah seluruhnya: Rp 42.000.000" in result.stdout
    assert "dibayar sekarang" in result.stdout and "PP 82/2019" in result.stdout


def test_benefits_jkk_death_at_the_lowest_bracket_is_70_million(tmp_path: Path) -> None:
    event = {"type": "jkk", "event_date": "2026-03-15", "income": 900_000, "death": True}
    result = _benefits(tmp_path, event, "--json")
    data = json.loads(result.stdout)
    assert data["total"] == 70_000_000 and data["wage"] == 1_000_000
    table = _benefits(tmp_path, event).stdout
    assert "Jumlah seluruhnya: Rp 70.000.000 + perawatan medis sesuai tagihan" in table


def test_benefits_arrears_and_the_scholarship_schedule(tmp_path: Path) -> None:
    event = {
        "type": "jkm",
        "event_date": "2026-03-15",
        "months_in_arrears": 2,
        "contribution_months": 40,
        "children": [
            {"name": "Ani", "birth_date": "2016-05-01", "level": "tk_sd", "year_in_level": 4},
            {"name": "Budi", "birth_date": "2000-01-01", "level": "s1", "year_in_level": 3},
        ],
    }
    out = _benefits(tmp_path, event).stdout
    assert "Dibayar sekarang: Rp 10.000.000" in out  # the funeral, at once
    # lump sum, periodic benefit and Ani's TK-SD instalments from 2025/26 to this school year
    today = datetime.now(OFFICE_TZ).date()
    due_years = (today.year if today.month >= 7 else today.year - 1) - 2025 + 1
    held = rupiah(32_000_000 + 1_500_000 * min(due_years, 5))
    assert f"Ditahan sampai tunggakan dilunasi: {held}" in out
    assert "2025/2026" in out and "TK-SD" in out and "S1/vokasi" in out
    assert "Anak 2 (Budi): tidak menerima" in out


def test_benefits_reads_stdin() -> None:
    event = json.dumps({"type": "jkm", "event_date": "2019-06-01"})
    result = runner.invoke(app, ["rules", "benefits", "-", "--json"], input=event)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == 24_000_000  # PP 44/2015, docs/regulations.md §5


CHILD = {"birth_date": "2015-01-01", "level": "smp", "year_in_level": 1}


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (
            {"type": "jkm", "event_date": "2026-03-15", "contribution_months": 40}
            | {"children": [CHILD | {"chosen": True}] * 3},
            "children[2].chosen",
        ),
        (
            {"type": "jkk", "event_date": "2026-03-15", "wage": 1_000_000}
            | {"disability": [{"item": "eye_one", "function_loss_percent": 150}]},
            "disability[0].function_loss_percent",
        ),
        ({"type": "jkm", "event_date": "2026-03-15", "spouse": "Sri"}, "spouse"),
        ({"type": "jkm", "event_date": "2010-01-01"}, "event_date"),
        ({"type": "jkx", "event_date": "2026-03-15"}, "type"),
        ([1, 2], "event"),
        ('{"type": "jkm",', "bukan JSON yang sah"),
    ],
)
def test_benefits_bad_input_exits_2_naming_the_field(
    tmp_path: Path, event: object, named: str
) -> None:
    result = _benefits(tmp_path, event)
    assert result.exit_code == 2
    assert "Galat:" in result.stderr and named in result.stderr
    assert "Traceback" not in result.output


def test_benefits_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "benefits", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "tidak ditemukan" in result.stderr


def test_the_rules_commands_need_no_database() -> None:
    import subprocess

    code = (
        "import sys; from typer.testing import CliRunner; from cakupan.cli import app; "
        "r = CliRunner().invoke(app, ['rules', 'contribution', '--income', '1', '--json']); "
        "assert r.exit_code == 0, r.output; assert 'django.db' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


SUPPLEMENT = """
[supplement]
id = "disability-extra-2026"
extends = "disability-table-lampiran-iii"
title = "Tambahan tabel cacat"
source = "Surat BPJS Ketenagakerjaan Malang, 2026-02"
confidence = "L"

[[items]]
code = "thumb_right"
label_id = "Ibu jari kanan"
label_en = "Right thumb"
percent = 15
"""


def test_an_operator_adds_a_disability_row(tmp_path: Path, monkeypatch) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "disability_extra.toml").write_text(SUPPLEMENT)
    monkeypatch.setenv("CAKUPAN_RULES_DIR", str(rules_dir))
    event = {"type": "jkk", "event_date": "2026-03-15", "wage": 1_000_000}
    event["disability"] = [{"item": "thumb_right"}]
    data = json.loads(_benefits(tmp_path, event, "--json").stdout)
    (line,) = [line for line in data["lines"] if line["code"].startswith("disability_0")]
    assert line["amount"] == 12_000_000 and line["confidence"] == "L"  # 15% × 80 × wage
    # a row whose code exists must say replaces = true: the error names both rule sets
    (rules_dir / "disability_extra.toml").write_text(SUPPLEMENT.replace("thumb_right", "eye_one"))
    monkeypatch.setenv("CAKUPAN_RULES_DIR", f"{rules_dir}{os.pathsep}")  # loads afresh
    broken = _benefits(tmp_path, event)
    assert broken.exit_code == 2 and "disability-extra-2026" in broken.stderr
    assert "replaces = true" in broken.stderr
    assert "Traceback" not in broken.output


def test_benefits_future_event_exits_2_naming_event_date(tmp_path: Path) -> None:
    """The command passes today as the as-of date: an event after it is refused."""
    from datetime import timedelta

    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    result = _benefits(tmp_path, {"type": "jkm", "event_date": tomorrow})
    assert result.exit_code == 2
    assert "event_date" in result.stderr and "setelah hari ini" in result.stderr
    assert "Traceback" not in result.output


def test_benefits_three_children_two_scheduled_one_max_children(tmp_path: Path) -> None:
    event = {
        "type": "jkm",
        "event_date": "2026-03-15",
        "contribution_months": 40,
        "children": [
            {"name": "Ani", "birth_date": "2015-01-01", "level": "smp", "year_in_level": 1},
            {"name": "Budi", "birth_date": "2010-01-01", "level": "sma", "year_in_level": 1},
            {"name": "Citra", "birth_date": "2018-01-01", "level": "tk_sd", "year_in_level": 3},
        ],
    }
    result = _benefits(tmp_path, event)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Anak 3 (Citra): tidak menerima" in out and "paling banyak 2 anak" in out
    data = json.loads(_benefits(tmp_path, event, "--json").stdout)
    assert data["total"] == data["total_now"] + data["total_after_arrears"] + data["total_later"]
    # the table shows the three amounts apart, each the sum of its own lines
    assert f"Dibayar sekarang: {rupiah(data['total_now'])}" in out
    assert f"Jadwal beasiswa tahun ajaran berikutnya: {rupiah(data['total_later'])}" in out
    assert f"Jumlah seluruhnya: {rupiah(data['total'])}" in out
