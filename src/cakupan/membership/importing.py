"""Reading and checking a list of workers (CSV or XLSX) before anything is written.

Every row is checked at once with Polars; a row that fails a vectorised check is re-checked by
the one NIK validator (`cakupan.registry.nik.parse_nik`) so that its problem codes and messages
are exactly those users see everywhere else. Nothing here touches the database: region and
occupation facts come in as a `Catalogue`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

from cakupan.digits import frame_ascii_digits
from cakupan.funding.eligibility import age_expr
from cakupan.registry.nik import RegionState, parse_nik, region_state, shown_value

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

_SEX = {
    "l": "L",
    "lk": "L",
    "laki": "L",
    "laki-laki": "L",
    "laki laki": "L",
    "pria": "L",
    "m": "L",
    "male": "L",
    "p": "P",
    "pr": "P",
    "perempuan": "P",
    "wanita": "P",
    "f": "P",
    "female": "P",
    "w": "P",
}


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
            f"Kolom wajib tidak ditemukan: {', '.join(missing)}. Kolom di berkas: {', '.join(headers)}. "
            "Cocokkan kolom berkas dengan kolom cakupan (langkah pemetaan kolom)."
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
                f"Berkas Excel tidak dapat dibaca ({type(e).__name__}). Simpan ulang sebagai .xlsx atau CSV."
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


def map_columns(frame: pl.DataFrame, column_map: dict[str, str] | None = None) -> pl.DataFrame:
    """Rename the file's headers to cakupan's columns; raise HeaderProblem when a required
    one cannot be found. `column_map` ({file header: column}) comes from the mapping step."""
    column_map = column_map or {}
    headers = [c for c in frame.columns if c != "_row"]
    rename: dict[str, str] = {}
    for h in headers:
        target = column_map.get(h) or next(
            (col for col, names in COLUMNS.items() if header_key(h) in names), None
        )
        if target and target not in rename.values():
            rename[h] = target
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


@dataclass(frozen=True)
class Catalogue:
    """The facts rows are checked against, read from the database by the caller."""

    kelurahan: dict[str, str]  # code → name, the city's kelurahan/desa
    kelurahan_parent: dict[str, str]  # code → kecamatan code
    occupations: dict[
        str, tuple[str, str, tuple[str, ...], bool]
    ]  # code → (name, sector, aliases, vulnerable)
    region_state: dict[
        str, RegionState
    ]  # kecamatan code → active/retired (others unknown/not_loaded)
    loaded_regencies: frozenset[str]
    regencies: frozenset[str]  # every regency/city code (all are built in)
    today: dt.date
    min_age: int = 15


def _name_key(text: str) -> str:
    text = re.sub(r"^(kel(urahan)?|desa|ds)\.?\s+", "", text.strip().lower())
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass
class Checked:
    """Valid rows (typed) and every problem found, by row and column. `total` counts the rows
    checked; `blank_rows` the rows skipped because every cell was empty."""

    rows: pl.DataFrame
    problems: pl.DataFrame
    total: int
    rejected_rows: set[int] = field(default_factory=set)
    blank_rows: int = 0


PROBLEM_SCHEMA = {
    "row": pl.Int64,
    "column": pl.String,
    "severity": pl.String,
    "code": pl.String,
    "message": pl.String,
    "suggestion": pl.String,
}

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
)
# DD-MM-YY, DD/MM/YY, DD.MM.YY: the century is resolved with the age bounds, as for a NIK.
_SHORT_YEAR = r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{2})$"
MAX_AGE = 110  # the NIK validator's bound: an older birth date is a typing mistake


def _parse_dates(col: pl.Expr, *, today: dt.date, min_age: int) -> pl.Expr:
    """The birth date of each cell, or null when it cannot be read or its year is before 1900
    (a two-digit year read as a four-digit one gives year 85, not 1985) or after 9999."""

    def century(prefix: str) -> pl.Expr:
        return col.str.replace(_SHORT_YEAR, f"${{1}}-${{2}}-{prefix}${{3}}").str.strptime(
            pl.Date, "%d-%m-%Y", strict=False
        )

    in_2000s, in_1900s = century("20"), century("19")
    short = (
        pl.when(~col.str.contains(_SHORT_YEAR))
        .then(None)
        .when(
            (age_expr(in_1900s, today) <= MAX_AGE)
            & (in_2000s.is_null() | (age_expr(in_2000s, today) < min_age))
        )
        .then(in_1900s)
        .otherwise(in_2000s)
    )
    attempts = [col.str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS]
    # An Excel serial day number (days since 1899-12-30) when a date cell was read as a number.
    serial = pl.when(col.str.contains(r"^[0-9]{5}(\.0+)?$")).then(
        pl.lit(dt.date(1899, 12, 30))
        + pl.duration(days=col.str.extract(r"^([0-9]{5})").cast(pl.Int64))
    )
    parsed = pl.coalesce([short, *attempts, serial])
    # Year 10000 on ('+99999-01-01' reads as such) is no birth date, and Python's dates, which
    # the rows become later, stop at 9999: one such cell used to fail the whole list.
    return pl.when(parsed.dt.year().is_between(1900, 9999)).then(parsed)


def check_rows(frame: pl.DataFrame, catalogue: Catalogue, *, default_income: int) -> Checked:
    """Check every row of a mapped frame. Rejected rows carry at least one problem of severity
    'rejected'; warnings (an unusable phone number, say) leave the row valid. Rows whose every
    cell is empty are skipped and counted in `blank_rows`; the others keep their row numbers."""
    # Digits of any script as ASCII (a full-width NIK, an Arabic-Indic date) in every column but
    # the name, which is kept as typed; only the few rows holding non-ASCII text cost anything.
    frame = frame_ascii_digits(frame, [c for c in COLUMNS if c != "nama"])
    blank = pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == "" for c in COLUMNS)
    blank_rows = frame.select(blank.sum()).item()
    frame = frame.filter(~blank)
    problems: list[dict] = []
    kel_by_code = catalogue.kelurahan
    kel_by_name: dict[str, list[str]] = {}
    for code, name in kel_by_code.items():
        kel_by_name.setdefault(_name_key(name), []).append(code)
    occ_lookup: dict[str, str] = {}
    for code, (name, _sector, aliases, _vul) in catalogue.occupations.items():
        for key in (code, name, *aliases):
            occ_lookup.setdefault(_name_key(key), code)

    f = frame.with_columns(
        nik_clean=pl.col("nik").fill_null("").str.replace_all(r"[\s.\-']", ""),
        birth=_parse_dates(
            pl.col("tanggal_lahir").fill_null(""), today=catalogue.today, min_age=catalogue.min_age
        ),
        sex=pl.col("jenis_kelamin")
        .fill_null("")
        .str.to_lowercase()
        .replace_strict(_SEX, default=None),
        name_clean=pl.col("nama").fill_null("").str.replace_all(r"\s+", " ").str.strip_chars(),
        kel_key=pl.col("kelurahan").fill_null("").map_elements(_name_key, return_dtype=pl.String),
        occ_key=pl.col("pekerjaan").fill_null("").map_elements(_name_key, return_dtype=pl.String),
        income=pl.col("penghasilan").fill_null("").str.replace_all(r"(?i)rp|[\s.,]", ""),
        phone=pl.col("no_hp").fill_null("").str.replace_all(r"[\s\-().]", ""),
    )
    f = f.with_columns(
        kel_code=pl.when(pl.col("kelurahan").is_in(list(kel_by_code)))
        .then(pl.col("kelurahan"))
        .otherwise(
            pl.col("kel_key").replace_strict(
                {k: v[0] for k, v in kel_by_name.items() if len(v) == 1}, default=None
            )
        ),
        occ_code=pl.col("occ_key").replace_strict(occ_lookup, default=None),
        phone=pl.when(pl.col("phone").str.starts_with("+62"))
        .then(pl.lit("0") + pl.col("phone").str.slice(3))
        .when(pl.col("phone").str.contains(r"^628"))
        .then(pl.lit("0") + pl.col("phone").str.slice(2))
        # a number cell in Excel loses the leading 0: 81234567890
        .when(pl.col("phone").str.contains(r"^8[0-9]{8,12}$"))
        .then(pl.lit("0") + pl.col("phone"))
        .otherwise(pl.col("phone")),
    )

    def add(
        rows: pl.Series | list[int],
        column: str,
        severity: str,
        code: str,
        message: str,
        suggestion: str = "",
    ) -> None:
        problems.extend(
            {
                "row": int(r),
                "column": column,
                "severity": severity,
                "code": code,
                "message": message,
                "suggestion": suggestion,
            }
            for r in rows
        )

    # nama
    add(
        f.filter(pl.col("name_clean") == "")["_row"],
        "nama",
        "rejected",
        "required",
        "Nama kosong. Isi nama lengkap sesuai KTP.",
    )
    add(
        f.filter(pl.col("name_clean").str.len_chars() > 150)["_row"],
        "nama",
        "rejected",
        "too_long",
        "Nama lebih dari 150 karakter.",
    )
    # tanggal_lahir
    bad_date = f.filter(pl.col("birth").is_null())
    for r, v in bad_date.select("_row", "tanggal_lahir").iter_rows():
        add(
            [r],
            "tanggal_lahir",
            "rejected",
            "invalid_date",
            f"Tanggal lahir '{shown_value(v)}' tidak terbaca atau tahunnya sebelum 1900.",
            "Tulis tanggal dengan tahun 4 angka, mis. 1990-03-12 atau 12-03-1990.",
        )
    # jenis_kelamin
    for r, v in f.filter(pl.col("sex").is_null()).select("_row", "jenis_kelamin").iter_rows():
        add(
            [r],
            "jenis_kelamin",
            "rejected",
            "invalid_sex",
            f"Jenis kelamin '{shown_value(v)}' tidak dikenal.",
            "Isi L atau P.",
        )
    # kelurahan: one fuzzy suggestion per distinct unknown value
    kel_names = {code: name for code, name in kel_by_code.items()}
    unknown_kel = f.filter(pl.col("kel_code").is_null())
    for value, rows in unknown_kel.group_by("kelurahan").agg(pl.col("_row")).iter_rows():
        best = (
            process.extractOne(
                _name_key(value or ""),
                {c: _name_key(n) for c, n in kel_names.items()},
                scorer=fuzz.ratio,
                score_cutoff=70,
            )
            if value
            else None
        )
        suggestion = (
            f"{kel_names[best[2]]} ({best[2]})"
            if best
            else "Pilih nama kelurahan Kota Malang atau kodenya, mis. 35.73.05.1011."
        )
        add(
            rows,
            "kelurahan",
            "rejected",
            "unknown_kelurahan",
            f"Kelurahan '{shown_value(value)}' tidak dikenal.",
            suggestion,
        )
    # pekerjaan
    occ_choices = {key: code for key, code in occ_lookup.items()}
    for value, rows in (
        f.filter(pl.col("occ_code").is_null()).group_by("pekerjaan").agg(pl.col("_row")).iter_rows()
    ):
        best = (
            process.extractOne(
                _name_key(value or ""), list(occ_choices), scorer=fuzz.WRatio, score_cutoff=75
            )
            if value
            else None
        )
        if best:
            code = occ_choices[best[0]]
            suggestion = f"{catalogue.occupations[code][0]} ({code})"
        else:
            suggestion = "Lihat daftar pekerjaan di templat."
        add(
            rows,
            "pekerjaan",
            "rejected",
            "unknown_occupation",
            f"Pekerjaan '{shown_value(value)}' tidak ada di katalog.",
            suggestion,
        )
    # penghasilan
    bad_income = f.filter(
        (pl.col("income") != "") & ~pl.col("income").str.contains(r"^[0-9]{1,12}$")
    )
    for r, v in bad_income.select("_row", "penghasilan").iter_rows():
        add(
            [r],
            "penghasilan",
            "rejected",
            "invalid_income",
            f"Penghasilan '{shown_value(v)}' bukan angka rupiah.",
            "Tulis angka saja, mis. 1500000.",
        )
    # no_hp (optional): an unusable number is dropped with a warning, the row stays
    bad_phone = f.filter(
        (pl.col("phone") != "") & ~pl.col("phone").str.contains(r"^08[0-9]{7,12}$")
    )
    add(
        bad_phone["_row"],
        "no_hp",
        "warning",
        "invalid_phone",
        "Nomor HP tidak sah dan tidak disimpan.",
        "Contoh yang benar: 081234567890.",
    )
    f = f.with_columns(
        phone=pl.when(pl.col("phone").str.contains(r"^08[0-9]{7,12}$"))
        .then(pl.col("phone"))
        .otherwise(pl.lit(""))
    )

    # NIK: a vectorised pass for the common case; the validator explains every other row.
    region = (
        pl.col("nik_clean").str.slice(0, 2)
        + "."
        + pl.col("nik_clean").str.slice(2, 2)
        + "."
        + pl.col("nik_clean").str.slice(4, 2)
    )
    day = pl.col("nik_clean").str.slice(6, 2).cast(pl.Int32, strict=False)
    expected = (
        (pl.col("birth").dt.day() + pl.when(pl.col("sex") == "P").then(40).otherwise(0))
        .cast(pl.String)
        .str.zfill(2)
        + pl.col("birth").dt.month().cast(pl.String).str.zfill(2)
        + (pl.col("birth").dt.year() % 100).cast(pl.String).str.zfill(2)
    )
    active = [code for code, state in catalogue.region_state.items() if state == "active"]
    f = f.with_columns(age=age_expr(pl.col("birth"), catalogue.today))
    # Only a birth date the validator would accept takes the fast path; a null anywhere here
    # means "not ok", so the row goes to the validator.
    f = f.with_columns(
        nik_ok=(
            pl.col("nik_clean").str.contains(r"^[0-9]{16}$")
            & region.is_in(active)
            & (pl.col("nik_clean").str.slice(6, 6) == expected)
            & (pl.col("nik_clean").str.slice(12, 4) != "0000")
            & day.is_not_null()
            & (pl.col("birth").dt.year() >= 1900)
            & (pl.col("age") <= MAX_AGE)
        ).fill_null(False),
    )

    retired = {code: state == "retired" for code, state in catalogue.region_state.items()}

    def lookup(code: str) -> RegionState:
        return region_state(
            code,
            kecamatan=retired,
            loaded_regencies=catalogue.loaded_regencies,
            regencies=catalogue.regencies,
        )

    # The NIK a row the validator accepts is saved with: its own normalisation, which may remove
    # more than the vectorised pass (Python's \s also covers the separators \x1c-\x1f).
    validated: dict[int, str] = {}
    for r, raw, sex, born in (
        f.filter(~pl.col("nik_ok")).select("_row", "nik", "sex", "birth").iter_rows()
    ):
        if raw and re.fullmatch(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+", raw.strip()):
            add(
                [r],
                "nik",
                "rejected",
                "scientific_notation",
                f"NIK '{raw}' telah diubah Excel menjadi angka ilmiah.",
                "Format kolom NIK sebagai Teks lalu salin ulang NIK-nya.",
            )
            continue
        result = parse_nik(
            raw or "",
            region_lookup=lookup,
            today=catalogue.today,
            sex=sex,
            birth_date=born,
            min_age=catalogue.min_age,
        )
        if result.valid:
            validated[r] = result.nik
        for p in result.problems:
            column = {"sex_mismatch": "jenis_kelamin", "birth_date_mismatch": "tanggal_lahir"}.get(
                p.code, "nik"
            )
            severity = "rejected" if p.severity == "error" else "warning"
            add([r], column, severity, p.code, p.message)
    young = f.filter(pl.col("age") < catalogue.min_age)
    add(
        young["_row"],
        "tanggal_lahir",
        "rejected",
        "too_young",
        f"Pekerja harus berusia minimal {catalogue.min_age} tahun.",
    )
    future = f.filter(pl.col("birth") > catalogue.today)
    add(future["_row"], "tanggal_lahir", "rejected", "future_date", "Tanggal lahir di masa depan.")
    if validated:
        f = f.with_columns(
            nik_clean=pl.col("_row").replace_strict(
                validated, default=pl.col("nik_clean"), return_dtype=pl.String
            )
        )
    # A last guard before anything is saved: whatever path a row took, an accepted NIK is 16
    # ASCII digits (the database refuses anything else, and one refusal would fail the list).
    misshapen = f.filter(~pl.col("nik_clean").str.contains(r"^[0-9]{16}$"))
    add(
        misshapen["_row"],
        "nik",
        "rejected",
        "not_16_digits",
        "NIK harus tepat 16 angka. Periksa kembali dari KTP atau KK.",
    )

    problem_frame = pl.DataFrame(problems, schema=PROBLEM_SCHEMA).unique(maintain_order=True)
    rejected = set(problem_frame.filter(pl.col("severity") == "rejected")["row"].to_list())
    occ_sector = {c: v[1] for c, v in catalogue.occupations.items()}
    occ_vul = {c: v[3] for c, v in catalogue.occupations.items()}
    valid = f.filter(~pl.col("_row").is_in(list(rejected))).select(
        pl.col("_row").alias("row"),
        pl.col("nik_clean").alias("nik"),
        pl.col("name_clean").alias("name"),
        pl.col("birth").alias("birth_date"),
        pl.col("sex"),
        pl.col("kel_code").alias("kelurahan"),
        pl.col("kel_code")
        .replace_strict(catalogue.kelurahan_parent, default=None)
        .alias("kecamatan"),
        pl.col("occ_code").alias("occupation"),
        pl.col("occ_code").replace_strict(occ_sector, default="other").alias("sector"),
        pl.col("occ_code").replace_strict(occ_vul, default=False).alias("vulnerable_occupation"),
        pl.col("phone"),
        pl.when(pl.col("income") == "")
        .then(pl.lit(default_income))
        .otherwise(pl.col("income").cast(pl.Int64, strict=False))
        .alias("income"),
    )
    return Checked(
        rows=valid,
        problems=problem_frame.sort("row"),
        total=frame.height,
        rejected_rows=rejected,
        blank_rows=blank_rows,
    )
