"""Every CSV and XLSX that cakupan writes goes through here, so no cell can run in a spreadsheet.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by Excel and LibreOffice (CSV/formula injection: `=HYPERLINK(...)` in a worker's name
becomes a link that leaks data, or worse). Names, uploaded headers and messages quoting a
user's input all reach these files.

- CSV: such text gets a leading apostrophe (`'=HYPERLINK(...)`), which spreadsheets show as
  text — OWASP's advice for CSV.
- XLSX: the cell is stored as text (openpyxl would otherwise store any text starting with `=`
  as a formula) and marked "quote prefix", so it stays text even when someone edits it; the
  value itself is kept as written.

Only text is touched: numbers (a negative amount), dates and empty cells are written as they
are and stay numbers in the spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet will evaluate: risky text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` whose rows pass through `safe_cell`; `writerow` returns what the underlying
    file's write returned (so the echo-buffer pattern of a streaming response still works)."""

    def __init__(self, f: _Writable, **kwargs: Any) -> None:
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(f: _Writable, **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(f, **kwargs)


class _Echo:
    """A file that hands back what is written: the CSV writer's line, to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(heading: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """A CSV file as lines to stream (a StreamingHttpResponse): the byte-order mark and the
    heading, then each row, every cell made safe as above."""
    writer = csv_writer(_Echo())
    yield "\ufeff" + writer.writerow(heading)
    for row in rows:
        yield writer.writerow(row)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The same neutralisation for a Polars frame about to be written with `write_csv`,
    vectorised: only text columns change."""
    import polars as pl  # only the import CLI needs it; web pages should not load Polars

    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def xlsx_append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet with every text cell stored as text, never as a
    formula; numbers and dates keep their types."""
    row = list(values)
    sheet.append(row)
    for cell, value in zip(sheet[sheet.max_row], row, strict=False):
        if isinstance(value, str):
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True


def xlsx_stream_append(
    sheet: Any, values: Iterable[Any], formats: dict[int, str] | None = None
) -> None:
    """Append a row to a write-only worksheet (openpyxl `Workbook(write_only=True)`, for files
    of many rows) with the same protection as `xlsx_append`: text stays text, never a formula.
    `formats` gives a number format by column index (amounts, dates)."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for i, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True
        if formats and i in formats:
            cell.number_format = formats[i]
        cells.append(cell)
    sheet.append(cells)


def table_file(
    headers: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    fmt: str,
    *,
    title: str = "",
    bom: bool = False,
) -> bytes:
    """A small table as a whole file: CSV (UTF-8, comma; with `bom` a byte-order mark so Excel
    reads the accents) or XLSX ("xlsx"; one sheet named `title`), every cell through the same
    protection. For lists of a few thousand rows (a bank batch, the scholarships due); larger
    ones stream (xlsx_stream_append)."""
    import io

    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        if title:
            sheet.title = title[:31]
        xlsx_append(sheet, headers)
        for row in rows:
            xlsx_append(sheet, row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    if bom:
        text.write("\ufeff")
    writer = csv_writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")
