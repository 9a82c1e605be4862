"""The upload template: Indonesian headers, an example row, and (XLSX) the valid values."""

from __future__ import annotations

import io
from pathlib import Path

from cakupan.exports import csv_writer, xlsx_append
from cakupan.membership.imports import TEMPLATE_HEADERS
from cakupan.membership.imports.check import EXAMPLE_MARK
from cakupan.regions.selectors import city_kelurahan
from cakupan.registry.models import Occupation

# The example row shows how each cell is written; its name starts with CONTOH ("example"), and
# the import skips such a row wherever it is (cakupan.membership.imports.check.EXAMPLE_MARK):
# a template sent back with its example still in it never enrols Siti Aminah.
EXAMPLE = [
    "3573055203900001",
    f"{EXAMPLE_MARK} Siti Aminah (baris ini tidak didaftarkan)",
    "12-03-1990",
    "P",
    "Lowokwaru",
    "ojol",
    "081234567890",
    "1000000",
]


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerow(EXAMPLE)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """An XLSX whose NIK and phone columns are text (so Excel keeps every digit), with sheets
    listing the kelurahan and occupations the import accepts."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "peserta"
    xlsx_append(ws, TEMPLATE_HEADERS)
    xlsx_append(ws, EXAMPLE)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ("A", "G"):
        for cell in ws[column]:
            cell.number_format = "@"
        ws.column_dimensions[column].width = 20
    ws.column_dimensions["B"].width = 28
    kel = wb.create_sheet("kelurahan")
    xlsx_append(kel, ["kode", "kelurahan", "kecamatan"])
    for k in city_kelurahan().select_related("parent"):
        xlsx_append(kel, [k.code, k.name, k.parent.name if k.parent else ""])
    occ = wb.create_sheet("pekerjaan")
    xlsx_append(occ, ["kode", "pekerjaan", "sektor", "nama lain"])
    for o in Occupation.objects.filter(active=True).order_by("code"):
        xlsx_append(occ, [o.code, o.name, o.sector, o.aliases.replace("|", ", ")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_template(path: Path) -> None:
    path = Path(path)
    path.write_bytes(template_xlsx() if path.suffix.lower() == ".xlsx" else template_csv())
