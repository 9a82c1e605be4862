"""Every CSV and XLSX cakupan writes: a cell a spreadsheet would run (leading =, +, -, @, tab,
CR) is neutralised, numbers stay numbers, and no module writes one around the helper."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

import cakupan
from cakupan.exports import FORMULA_START, safe_cell, safe_frame
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.tests.factories import make_worker

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tTab", "\rCR"]


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.mark.usefixtures("malang")
def test_worker_export_neutralises_formula_names_and_keeps_numbers(make_user) -> None:
    for i, name in enumerate(FORMULAS):
        worker = make_worker(welfare_decile=i + 1)
        # the registry may refuse such names today; rows saved before (or by an import) exist
        Worker.objects.filter(pk=worker.pk).update(full_name=name)
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    response = client.get("/pekerja/ekspor.csv")
    header, *rows = _csv_rows(b"".join(response.streaming_content))
    names = [row[header.index("nama")] for row in rows]
    assert sorted(names) == sorted("'" + n for n in FORMULAS)
    assert sorted(int(row[header.index("desil")]) for row in rows) == [1, 2, 3, 4, 5, 6]
    for row in rows:
        assert not row[header.index("nik")].startswith("'")  # digits stay as they were


@pytest.mark.usefixtures("malang")
def test_import_report_neutralises_every_text_cell(make_user) -> None:
    from cakupan.funding.services import programme_create, sponsor_create
    from cakupan.membership.models import ImportBatch, ImportProblem

    programme = programme_create(
        sponsor=sponsor_create(type="csr", name="RS"),
        name="Ojol",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=1_000_000,
    )
    batch = ImportBatch.objects.create(programme=programme, original_name="a.csv", sha256="0")
    for i, value in enumerate(FORMULAS, start=2):
        ImportProblem.objects.create(
            batch=batch,
            row=i,
            column=value[:40],
            severity="rejected",
            code="x",
            message=value,
            suggestion=value,
        )
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    _header, *rows = _csv_rows(client.get(f"/pendaftaran/impor/{batch.pk}/laporan.csv").content)
    assert [row[0] for row in rows] == ["2", "3", "4", "5", "6", "7"]
    for row, value in zip(rows, FORMULAS, strict=True):
        assert (row[1], row[4], row[5]) == ("'" + value,) * 3


@pytest.mark.usefixtures("malang")
def test_upload_template_xlsx_stores_formula_looking_names_as_text(make_user) -> None:
    from cakupan.regions.models import Region

    Region.objects.filter(code="35.73.05.1011").update(name=FORMULAS[0])
    Occupation.objects.filter(code="ojol").update(name="@SUM(A1)", aliases="=1+1|ojek")
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    response = client.get("/pendaftaran/templat.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells), [c.value for c in cells if c.data_type == "f"]
    by_value = {c.value: c for c in cells}
    for value in (FORMULAS[0], "@SUM(A1)", "=1+1, ojek"):
        assert by_value[value].data_type == "s" and by_value[value].quotePrefix, value
    csv_rows = _csv_rows(client.get("/pendaftaran/templat.csv").content)
    assert csv_rows[0][0] == "nik" and csv_rows[1][0] == "3573055203900001"


@pytest.mark.usefixtures("malang")
def test_cli_import_report_keeps_row_numbers_and_every_problem(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cakupan.cli import app
    from cakupan.membership.tests.test_imports import HEAD, programme

    out = io.StringIO()
    csv.writer(out).writerow(["=1+2", "@SUM(A1)", "-1+2", "+1", "=kel", "=occ", "", "=1"])
    path = tmp_path / "daftar.csv"
    path.write_text(HEAD + out.getvalue(), encoding="utf-8")
    report = tmp_path / "laporan.csv"
    args = ["enrol", "import", str(path), "--programme", str(programme().pk), "--dry-run"]
    result = CliRunner().invoke(app, [*args, "--report", str(report)])
    assert report.exists(), result.output
    rows = list(csv.DictReader(report.open(encoding="utf-8", newline="")))
    assert rows and all(r["row"] == "2" for r in rows)  # the row number stays a number
    assert {r["column"] for r in rows} >= {"nik", "kelurahan", "pekerjaan"}


def test_safe_frame_changes_only_risky_text() -> None:
    frame = pl.DataFrame({"row": [1, -2, 3], "text": ["=A1", "ok", "-1+2"], "n": [-1.5, 0.0, 2.0]})
    safe = safe_frame(frame)
    assert safe["text"].to_list() == ["'=A1", "ok", "'-1+2"]
    assert safe["row"].to_list() == [1, -2, 3] and safe["n"].to_list() == [-1.5, 0.0, 2.0]


@given(st.text(max_size=30))
def test_a_neutralised_cell_never_starts_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert cell == text or cell == "'" + text


def test_numbers_are_not_touched() -> None:
    assert [safe_cell(v) for v in (-5, -1.25, 0, None)] == [-5, -1.25, 0, None]


def test_no_module_writes_a_spreadsheet_around_the_helper() -> None:
    """New exports must use cakupan.exports: a CSV writer, a Polars write_csv/write_excel or
    an openpyxl row appended anywhere else fails this test."""
    package = Path(cakupan.__file__).parent
    direct = re.compile(r"csv\.(writer|DictWriter)\(|\.write_(csv|excel)\(")
    offenders = []
    for source in package.rglob("*.py"):
        if "tests" in source.parts or source.name == "exports.py":
            continue
        text = source.read_text()
        builds_xlsx = "Workbook(" in text
        for number, line in enumerate(text.splitlines(), start=1):
            # a database load (PostgreSQL COPY input) is CSV that no person opens
            bypass = (
                direct.search(line) and "safe_frame(" not in line and "# COPY input" not in line
            )
            xlsx_row = builds_xlsx and re.search(r"(?<!xlsx_)\bappend\(", line)
            if bypass or xlsx_row:
                offenders.append(f"{source.relative_to(package)}:{number}: {line.strip()}")
    assert not offenders, offenders
