"""Stage 2, check: every row of a mapped list checked at once, column by column, with Polars.

A row that fails a vectorised NIK check is re-checked by the one NIK validator
(`cakupan.registry.nik.parse_nik`) so that its problems and messages are exactly those users
see everywhere else. Values a person mapped in the preview ("Mitra Gojek" → ojol) replace the
cells they name before any check. The template's example row is skipped and counted apart.
Nothing here touches the database: region and occupation facts come in as a `Catalogue`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl
from rapidfuzz import fuzz, process

from cakupan.digits import frame_ascii_digits
from cakupan.funding.eligibility import age_expr
from cakupan.membership.imports.catalogue import Catalogue, name_key
from cakupan.membership.imports.problems import PROBLEM_SCHEMA, REJECTED, WARNING
from cakupan.membership.imports.read import COLUMNS
from cakupan.money import AmountInvalid, parse_rupiah
from cakupan.registry.names import SUSPECT as NAME_SUSPECT
from cakupan.registry.names import name_problem
from cakupan.registry.nik import RegionState, parse_nik, region_state, shown_value
from cakupan.registry.phones import VALID as PHONE_VALID
from cakupan.registry.phones import phone_expr

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


# The template's example row: its name starts with this word. The example row of templates
# handed out before the marker is recognised by its every cell (nobody's real row is that).
EXAMPLE_MARK = "CONTOH"
OLD_EXAMPLE = {
    "nik": "3573055203900001",
    "nama": "Siti Aminah",
    "tanggal_lahir": "12-03-1990",
    "jenis_kelamin": "P",
    "kelurahan": "Lowokwaru",
    "pekerjaan": "ojol",
    "no_hp": "081234567890",
    "penghasilan": "1000000",
}
# Excel shows a 16-digit number as 3.57305E+15 (3,57305E+15 where the decimal mark is a comma).
_SCIENTIFIC = re.compile(r"[0-9]([.,][0-9]+)?\s*[eE]\s*\+?\s*[0-9]+")


def value_key(text: str | None) -> str:
    """How a cell is matched to a value mapping: case and runs of spaces never matter."""
    return " ".join((text or "").split()).casefold()


def _value_key_expr(column: str) -> pl.Expr:
    return (
        pl.col(column)
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _by_value(frame: pl.DataFrame, column: str) -> list[tuple[str | None, list[int]]]:
    """Rows grouped by their value, case and spacing aside (the first spelling names the
    group): one choice in the preview then maps them all, as apply_value_maps matches."""
    return list(
        frame.group_by(_value_key_expr(column).alias("_key"), maintain_order=True)
        .agg(pl.col(column).first(), pl.col("_row"))
        .select(column, "_row")
        .iter_rows()
    )


ValueMaps = dict[str, dict[str, str]]  # column → {value_key of a cell: the value it stands for}


def apply_value_maps(frame: pl.DataFrame, value_maps: ValueMaps | None) -> pl.DataFrame:
    """Replace every cell a mapping names with the value it was mapped to."""
    for column, mapping in (value_maps or {}).items():
        if not mapping or column not in frame.columns:
            continue
        key = _value_key_expr(column)
        frame = frame.with_columns(
            pl.when(key.is_in(list(mapping)))
            .then(key.replace_strict(mapping, default=None, return_dtype=pl.String))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame


@dataclass
class Checked:
    """Valid rows (typed) and every problem found, by row and column. `total` counts the rows
    checked; `blank_rows` the rows skipped because every cell was empty; `example_rows` the
    template's example rows, skipped too."""

    rows: pl.DataFrame
    problems: pl.DataFrame
    total: int
    rejected_rows: set[int] = field(default_factory=set)
    blank_rows: int = 0
    example_rows: int = 0


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


def _is_example() -> pl.Expr:
    """The template's example row (see EXAMPLE_MARK)."""
    name = pl.col("nama").fill_null("").str.strip_chars()
    return name.str.to_uppercase().str.starts_with(EXAMPLE_MARK) | pl.all_horizontal(
        pl.col(c).fill_null("").str.strip_chars() == v for c, v in OLD_EXAMPLE.items()
    )


def check_rows(
    frame: pl.DataFrame,
    catalogue: Catalogue,
    *,
    default_income: int,
    value_maps: ValueMaps | None = None,
) -> Checked:
    """Check every row of a mapped frame. Rejected rows carry at least one problem of severity
    'rejected'; warnings (an unusable phone number, say) leave the row valid. Rows whose every
    cell is empty are skipped and counted in `blank_rows`, the template's example row in
    `example_rows`; the others keep their row numbers. `value_maps` ({column: {cell: value}})
    replace the cells they name first."""
    # Digits of any script as ASCII (a full-width NIK, an Arabic-Indic date) in every column but
    # the name, which is kept as typed; only the few rows holding non-ASCII text cost anything.
    frame = frame_ascii_digits(frame, [c for c in COLUMNS if c != "nama"])
    blank = pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == "" for c in COLUMNS)
    blank_rows = frame.select(blank.sum()).item()
    frame = frame.filter(~blank)
    example = _is_example()
    example_rows = frame.select(example.sum()).item()
    if example_rows:
        frame = frame.filter(~example)
    frame = apply_value_maps(frame, value_maps)
    problems: list[pl.DataFrame] = []
    rows_of: list[dict] = []

    def add(
        rows: pl.Series | list[int],
        column: str,
        severity: str,
        code: str,
        message: str,
        suggestion: str = "",
        *,
        value: str | None = None,
        suggested: str | None = None,
    ) -> None:
        rows_of.extend(
            {
                "row": int(r),
                "column": column,
                "severity": severity,
                "code": code,
                "message": message,
                "suggestion": suggestion,
                "value": value,
                "suggested": suggested,
            }
            for r in rows
        )

    # Values are recognised once per distinct value, not once per row: a million-row list has
    # a few hundred distinct kelurahan and occupation cells.
    kel_by_code = catalogue.kelurahan
    kel_by_name: dict[str, list[str]] = {}
    for code, name in kel_by_code.items():
        kel_by_name.setdefault(name_key(name), []).append(code)
    kel_found: dict[str, str] = {}
    for value in frame["kelurahan"].drop_nulls().unique().to_list():
        if value in kel_by_code:
            kel_found[value] = value
        elif len(codes := kel_by_name.get(name_key(value), [])) == 1:
            kel_found[value] = codes[0]
    words = catalogue.occupation_words()
    occ_found = {
        value: code
        for value in frame["pekerjaan"].drop_nulls().unique().to_list()
        if (code := words.resolve(value))
    }
    income_found: dict[str, int] = {}
    income_bad: set[str] = set()
    for value in frame["penghasilan"].drop_nulls().unique().to_list():
        if value.strip() == "":
            continue
        try:
            income_found[value] = parse_rupiah(value)
        except AmountInvalid:
            income_bad.add(value)

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
        kel_code=pl.col("kelurahan").replace_strict(
            kel_found, default=None, return_dtype=pl.String
        ),
        occ_code=pl.col("pekerjaan").replace_strict(
            occ_found, default=None, return_dtype=pl.String
        ),
        income=pl.col("penghasilan").replace_strict(
            income_found, default=None, return_dtype=pl.Int64
        ),
        # the registry's phone rule, for a column (a leading 0 lost in Excel is put back)
        phone=phone_expr("no_hp"),
    )

    # nama
    add(
        f.filter(pl.col("name_clean") == "")["_row"],
        "nama",
        REJECTED,
        "required",
        "Nama kosong. Isi nama lengkap sesuai KTP.",
    )
    add(
        f.filter(pl.col("name_clean").str.len_chars() > 150)["_row"],
        "nama",
        REJECTED,
        "too_long",
        "Nama lebih dari 150 karakter.",
    )
    # control characters and markup: the registry's name rule, worded per row
    for r, name in (
        f.filter(pl.col("name_clean").str.contains(NAME_SUSPECT))
        .select("_row", "name_clean")
        .iter_rows()
    ):
        if message := name_problem(name):
            add([r], "nama", REJECTED, "invalid_name", message)
    # tanggal_lahir
    bad_date = f.filter(pl.col("birth").is_null())
    for r, v in bad_date.select("_row", "tanggal_lahir").iter_rows():
        add(
            [r],
            "tanggal_lahir",
            REJECTED,
            "invalid_date",
            f"Tanggal lahir '{shown_value(v)}' tidak terbaca atau tahunnya sebelum 1900.",
            "Tulis tanggal dengan tahun 4 angka, mis. 1990-03-12 atau 12-03-1990.",
        )
    # jenis_kelamin: one problem per row, grouped by value so it can be mapped at once
    for value, rows in _by_value(f.filter(pl.col("sex").is_null()), "jenis_kelamin"):
        add(
            rows,
            "jenis_kelamin",
            REJECTED,
            "invalid_sex",
            f"Jenis kelamin '{shown_value(value)}' tidak dikenal.",
            "Isi L atau P.",
            value=value,
        )
    # kelurahan: one fuzzy suggestion per distinct unknown value
    kel_keys = {c: name_key(n) for c, n in kel_by_code.items()}
    unknown_kel = f.filter(pl.col("kel_code").is_null())
    for value, rows in _by_value(unknown_kel, "kelurahan"):
        best = (
            process.extractOne(name_key(value or ""), kel_keys, scorer=fuzz.ratio, score_cutoff=70)
            if value
            else None
        )
        add(
            rows,
            "kelurahan",
            REJECTED,
            "unknown_kelurahan",
            f"Kelurahan '{shown_value(value)}' tidak dikenal.",
            f"{kel_by_code[best[2]]} ({best[2]})"
            if best
            else "Pilih nama kelurahan Kota Malang atau kodenya, mis. 35.73.05.1011.",
            value=value,
            suggested=best[2] if best else None,
        )
    # pekerjaan: what the value most probably means, for a person to confirm
    for value, rows in _by_value(f.filter(pl.col("occ_code").is_null()), "pekerjaan"):
        code = words.suggest(value)
        add(
            rows,
            "pekerjaan",
            REJECTED,
            "unknown_occupation",
            f"Pekerjaan '{shown_value(value)}' tidak ada di katalog.",
            f"{catalogue.occupations[code][0]} ({code})"
            if code
            else "Lihat daftar pekerjaan di templat.",
            value=value,
            suggested=code,
        )
    # penghasilan: read as money.parse_rupiah reads an amount
    for r, v in (
        f.filter(pl.col("penghasilan").is_in(list(income_bad)))
        .select("_row", "penghasilan")
        .iter_rows()
    ):
        add(
            [r],
            "penghasilan",
            REJECTED,
            "invalid_income",
            f"Penghasilan '{shown_value(v)}' bukan jumlah rupiah.",
            "Tulis Rupiah bulat, mis. 1500000 atau 1.500.000.",
        )
    # no_hp (optional): an unusable number is dropped with a warning, the row stays
    bad_phone = f.filter((pl.col("phone") != "") & ~pl.col("phone").str.contains(PHONE_VALID))
    add(
        bad_phone["_row"],
        "no_hp",
        WARNING,
        "invalid_phone",
        "Nomor HP tidak sah dan tidak disimpan.",
        "Contoh yang benar: 081234567890.",
    )
    f = f.with_columns(
        phone=pl.when(pl.col("phone").str.contains(PHONE_VALID))
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
        text = (raw or "").strip()
        # Excel shows a long number as 3.57305E+15, and a number cell keeps only 15 digits, so
        # a NIK typed as a number ends in zeros no real NIK has (its serial is never 0000).
        if _SCIENTIFIC.fullmatch(text) or re.fullmatch(r"[1-9][0-9]{9}0{6}", text):
            add(
                [r],
                "nik",
                REJECTED,
                "scientific_notation",
                f"NIK '{shown_value(raw)}' telah diubah Excel menjadi angka "
                "(mis. 3.57305E+15) dan angka-angka terakhirnya hilang.",
                "Format kolom NIK sebagai Teks lalu salin ulang NIK-nya dari KTP atau KK.",
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
            severity = REJECTED if p.severity == "error" else WARNING
            add([r], column, severity, p.code, p.message)
    young = f.filter(pl.col("age") < catalogue.min_age)
    add(
        young["_row"],
        "tanggal_lahir",
        REJECTED,
        "too_young",
        f"Pekerja harus berusia minimal {catalogue.min_age} tahun.",
    )
    future = f.filter(pl.col("birth") > catalogue.today)
    add(future["_row"], "tanggal_lahir", REJECTED, "future_date", "Tanggal lahir di masa depan.")
    if validated:
        f = f.with_columns(
            nik_clean=pl.col("_row").replace_strict(
                validated, default=pl.col("nik_clean"), return_dtype=pl.String
            )
        )
    # A last guard before anything is saved: whatever path a row took, an accepted NIK is 16
    # ASCII digits (the database refuses anything else, and one refusal would fail the list).
    # (A row already refused for its NIK keeps that one message.)
    nik_refused = [p["row"] for p in rows_of if p["column"] == "nik" and p["severity"] == REJECTED]
    misshapen = f.filter(
        ~pl.col("nik_clean").str.contains(r"^[0-9]{16}$") & ~pl.col("_row").is_in(nik_refused)
    )
    add(
        misshapen["_row"],
        "nik",
        REJECTED,
        "not_16_digits",
        "NIK harus tepat 16 angka. Periksa kembali dari KTP atau KK.",
    )

    problems.append(pl.DataFrame(rows_of, schema=PROBLEM_SCHEMA))
    problem_frame = pl.concat(problems).unique(maintain_order=True)
    rejected = set(problem_frame.filter(pl.col("severity") == REJECTED)["row"].to_list())
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
        pl.col("income").fill_null(default_income).alias("income"),
    )
    return Checked(
        rows=valid,
        problems=problem_frame.sort("row"),
        total=frame.height,
        rejected_rows=rejected,
        blank_rows=blank_rows,
        example_rows=example_rows,
    )
