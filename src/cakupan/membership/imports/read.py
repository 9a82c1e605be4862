"""Stage 1, read: a list of workers (CSV, TSV or XLSX) as text cells, and its headers mapped
to cakupan's columns. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz, process

# Canonical columns (the template's Indonesian headers) and the other headers accepted for each.
COLUMNS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "no_nik", "nomor_nik", "no_ktp", "nomor_ktp", "ktp", "national_id", "id_number"),
    "nama": ("nama", "nama_lengkap", "name", "full_name", "nama_peserta"),
    "tanggal_lahir": (
        "tanggal_lahir",
        "tgl_lahir",
        "tanggal_lahir_(dd-mm-yyyy)",
        "birth_date",
        "date_of_birth",
        "dob",
        "birthdate",
    ),
    "jenis_kelamin": ("jenis_kelamin", "jk", "kelamin", "l/p", "sex", "gender"),
    "kelurahan": ("kelurahan", "desa", "kelurahan/desa", "kode_kelurahan", "village"),
    "pekerjaan": ("pekerjaan", "profesi", "jenis_pekerjaan", "occupation", "job"),
    "no_hp": (
        "no_hp",
        "hp",
        "nomor_hp",
        "no_telepon",
        "telepon",
        "no_wa",
        "phone",
        "phone_number",
        "mobile",
    ),
    "penghasilan": (
        "penghasilan",
        "pendapatan",
        "penghasilan_per_bulan",
        "income",
        "monthly_income",
    ),
}
REQUIRED = ("nik", "nama", "tanggal_lahir", "jenis_kelamin", "kelurahan", "pekerjaan")
TEMPLATE_HEADERS = list(COLUMNS)

# What each column is called where a person reads it (the mapping step, the preview, the report).
COLUMN_LABELS: dict[str, Promise] = {
    "nik": _("NIK"),
    "nama": _("Name"),
    "tanggal_lahir": _("Birth date"),
    "jenis_kelamin": _("Sex"),
    "kelurahan": _("Kelurahan"),
    "pekerjaan": _("Occupation"),
    "no_hp": _("Phone number"),
    "penghasilan": _("Monthly income"),
}
# Optional columns whose absence changes what is saved: the mapping step warns when they are
# ignored.
IMPORTANT = ("penghasilan", "no_hp")


def column_label(column: str) -> str:
    """The human name of a cakupan column (the column's own name for anything else)."""
    return str(COLUMN_LABELS.get(column, column))


def header_key(header: str) -> str:
    """'Tanggal Lahir ' → 'tanggal_lahir'."""
    return re.sub(r"[\s.\-]+", "_", str(header).strip().lower().lstrip("\ufeff")).strip("_")


class HeaderProblem(Exception):
    """Required columns are missing: the user maps the file's headers in a step of the upload."""

    def __init__(self, missing: list[str], headers: list[str], guesses: dict[str, str]):
        self.missing = missing
        self.headers = headers
        self.guesses = guesses
        super().__init__(
            gettext(
                "Required columns not found: %(missing)s. Columns in the file: %(headers)s. "
                "Match the file's columns to cakupan's columns."
            )
            % {
                "missing": ", ".join(column_label(c) for c in missing),
                "headers": ", ".join(headers),
            }
        )


class FileProblem(Exception):
    """The file cannot be read at all (wrong type, empty, broken)."""


def read_table(path: Path | str, *, original_name: str | None = None) -> pl.DataFrame:
    """All cells as text, plus `_row`: the spreadsheet row number (the header is row 1 unless
    blank rows come before it). Blank rows are kept so that `_row` matches what the user sees;
    `check_rows` skips them."""
    path = Path(path)
    name = (original_name or path.name).lower()
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        try:
            frame = pl.read_excel(
                path, engine="calamine", infer_schema_length=0, drop_empty_rows=False
            )
        except Exception as e:  # the reader raises many types for a broken workbook
            raise FileProblem(
                "Berkas Excel tidak dapat dibaca. Simpan ulang sebagai .xlsx atau CSV."
            ) from e
        header_row = _xlsx_header_row(path) if name.endswith((".xlsx", ".xlsm")) else 1
    elif name.endswith((".csv", ".txt", ".tsv")):
        text = decode_text(path.read_bytes())
        # Polars skips blank lines above the header; count them so row numbers stay right.
        body = text.lstrip("\r\n")
        header_row = 1 + text[: len(text) - len(body)].count("\n")
        separator = guess_separator(body.split("\n", 1)[0])
        try:
            frame = pl.read_csv(
                io.StringIO(body),
                separator=separator,
                infer_schema=False,
                truncate_ragged_lines=True,
            )
        except pl.exceptions.PolarsError as e:
            detail = str(e).strip().split("\n", 1)[0]
            raise FileProblem(
                "Berkas CSV tidak dapat dibaca: periksa tanda pemisah (koma atau titik koma) "
                f"dan tanda kutip. Rincian: {detail}"
            ) from e
    else:
        raise FileProblem("Jenis berkas tidak didukung. Unggah .csv atau .xlsx.")
    if frame.width == 0:
        raise FileProblem("Berkas kosong: baris pertama harus berisi nama kolom.")
    # PostgreSQL refuses NUL in text. (Lone surrogates cannot reach here: Polars text is UTF-8
    # and `decode_text` replaces what does not decode.)
    frame = frame.rename({c: c.replace("\x00", "") for c in frame.columns})
    frame = frame.with_columns(pl.all().cast(pl.String).str.replace_all("\x00", "", literal=True))
    return frame.with_row_index("_row", offset=header_row + 1).with_columns(
        pl.col("_row").cast(pl.Int64)
    )


# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(raw: bytes) -> str:
    """The text of a CSV or TSV file, whichever way a spreadsheet program saved it.

    A byte-order mark decides: Excel's "Unicode Text" is UTF-16 LE with a mark (and TABs),
    "CSV UTF-8" is UTF-8 with one. Without a mark, UTF-16 still shows as a NUL beside every
    ASCII character; otherwise the text is UTF-8 if it decodes as such, else Windows' ANSI code
    page (cp1252, a superset of Latin-1 for the printable characters), which is what Excel on
    Windows writes as "CSV". A byte that fits none of these becomes U+FFFD, never an error
    (so a lone surrogate cannot come out of here either: PostgreSQL could not store it).
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding, errors="replace")
    head = raw[:200]
    if len(head) >= 4:
        # UTF-16 without a mark: ASCII text has a NUL in every other byte, on one side only.
        even, odd = head[0::2].count(0) / len(head[0::2]), head[1::2].count(0) / len(head[1::2])
        if odd >= 0.4 and even <= 0.1:
            return raw.decode("utf-16-le", errors="replace")
        if even >= 0.4 and odd <= 0.1:
            return raw.decode("utf-16-be", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def guess_separator(header: str) -> str:
    """The separator the header line uses most: comma, semicolon (Excel where the decimal mark
    is a comma, as in Indonesia) or TAB (Excel's "Unicode Text", .tsv)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _xlsx_header_row(path: Path) -> int:
    """The sheet row of the header: the Excel reader starts at the first non-empty row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # the frame was read; only the row numbering is at stake
        return 1
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for n, values in enumerate(rows, start=1):
            if any(v is not None and str(v) != "" for v in values):
                return n
        return 1
    finally:
        workbook.close()


def recognise(headers: list[str], column_map: dict[str, str] | None = None) -> dict[str, str]:
    """{file header: cakupan column} for the headers that name one: the user's choice in the
    mapping step first, then the known names (case, spaces, dots and dashes aside). A column is
    taken by its first header only."""
    column_map = column_map or {}
    found: dict[str, str] = {}
    for h in headers:
        if h in column_map:
            target = column_map[h] or None  # "" in the map: the user chose to ignore it
        else:
            target = next((col for col, names in COLUMNS.items() if header_key(h) in names), None)
        if target in COLUMNS and target not in found.values():
            found[h] = target
    return found


@dataclass(frozen=True)
class ColumnReport:
    """What the file's headers were recognised as, for the mapping step and the preview."""

    recognised: dict[str, str]  # file header → cakupan column
    ignored: list[str]  # file headers no column takes
    missing_required: list[str]  # cakupan columns no header gives
    missing_important: list[str]  # optional columns that change what is saved

    @property
    def rows(self) -> list[tuple[str, str | None]]:
        """(file header, column or None) in the file's order."""
        order = [*self.recognised, *self.ignored]
        return [(h, self.recognised.get(h)) for h in order]


def column_report(headers: list[str], column_map: dict[str, str] | None = None) -> ColumnReport:
    headers = [h for h in headers if h != "_row"]
    found = recognise(headers, column_map)
    taken = set(found.values())
    return ColumnReport(
        recognised={h: found[h] for h in headers if h in found},
        ignored=[h for h in headers if h not in found],
        missing_required=[c for c in REQUIRED if c not in taken],
        missing_important=[c for c in IMPORTANT if c not in taken],
    )


def map_columns(frame: pl.DataFrame, column_map: dict[str, str] | None = None) -> pl.DataFrame:
    """Rename the file's headers to cakupan's columns; raise HeaderProblem when a required
    one cannot be found. `column_map` ({file header: column}) comes from the mapping step."""
    headers = [c for c in frame.columns if c != "_row"]
    rename = recognise(headers, column_map)
    missing = [c for c in REQUIRED if c not in rename.values()]
    if missing:
        unmatched = [h for h in headers if h not in rename]
        guesses = {}
        for col in missing:
            best = (
                process.extractOne(col, unmatched, scorer=fuzz.WRatio, score_cutoff=60)
                if unmatched
                else None
            )
            if best:
                guesses[col] = best[0]
        raise HeaderProblem(missing, headers, guesses)
    frame = frame.select(["_row", *rename]).rename(rename)
    for col in COLUMNS:
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    return frame.with_columns(pl.col(c).str.strip_chars() for c in COLUMNS)
