"""A funding programme's eligibility rule, as data, applied to a frame of workers at once."""

from __future__ import annotations

import datetime as dt

import polars as pl

KEYS = {"occupations", "sectors", "kecamatan", "kelurahan", "vulnerable_only", "min_age", "max_age"}
# The list keys: what their codes are, and where a user finds the right ones.
LISTS = {
    "occupations": ("pekerjaan", "Pilih kode pekerjaan aktif dari katalog, mis. ojol."),
    "sectors": ("sektor", "Pilih kode sektor, mis. transport."),
    "kecamatan": ("kecamatan", "Pilih kode kecamatan dari daftar wilayah, mis. 35.73.05."),
    "kelurahan": ("kelurahan", "Pilih kode kelurahan dari daftar wilayah, mis. 35.73.05.1011."),
}


def validate_eligibility(
    eligibility: dict, *, known: dict[str, set[str]] | None = None
) -> list[str]:
    """Problems with an eligibility definition, in Indonesian (empty when it is sound).

    `known` holds, for each list key, the codes that exist (the caller reads them from the
    catalogue); a code outside them is named. Without it only the shape is checked.
    """
    problems = [
        f"Kunci '{k}' tidak dikenal; yang dikenal: {', '.join(sorted(KEYS))}."
        for k in eligibility
        if k not in KEYS
    ]
    for key, (label, fix) in LISTS.items():
        if key not in eligibility:
            continue
        codes = eligibility[key]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            problems.append(f"'{key}' harus berupa daftar kode teks, misalnya [\"ojol\"].")
            continue
        exists = (known or {}).get(key)
        if unknown := [c for c in codes if exists is not None and c not in exists]:
            named = ", ".join(unknown[:10]) + (
                f" dan {len(unknown) - 10} lainnya" if len(unknown) > 10 else ""
            )
            problems.append(f"Kode {label} tidak dikenal: {named}. {fix}")
    ages: dict[str, int] = {}
    for key in ("min_age", "max_age"):
        if key not in eligibility:
            continue
        value = eligibility[key]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 120:
            ages[key] = value
        else:
            problems.append(f"'{key}' harus bilangan bulat 0 sampai 120.")
    if len(ages) == 2 and ages["min_age"] > ages["max_age"]:
        problems.append(
            f"Usia minimal ({ages['min_age']}) lebih besar dari usia maksimal "
            f"({ages['max_age']}). Tukar atau perbaiki salah satunya."
        )
    return problems


def age_expr(birth: pl.Expr, today: dt.date) -> pl.Expr:
    """Whole years from `birth` to `today`, for a column (negative for a date in the future)."""
    return (
        pl.lit(today.year)
        - birth.dt.year()
        - (pl.lit(today.month * 100 + today.day) < birth.dt.month() * 100 + birth.dt.day()).cast(
            pl.Int32
        )
    )


# Which worker field each rule is about: the column a refusal names is data, never guessed
# from the reason's words.
RULE_FIELD = {
    "occupations": "occupation",
    "sectors": "sector",
    "kecamatan": "kecamatan",
    "kelurahan": "kelurahan",
    "vulnerable_only": "vulnerable",
    "min_age": "birth_date",
    "max_age": "birth_date",
}


def _checks(eligibility: dict, *, as_of: dt.date) -> list[tuple[str, pl.Expr, str]]:
    """(rule key, condition a worker meets, reason when not) for each rule the programme has."""
    age = age_expr(pl.col("birth_date"), as_of)
    checks: list[tuple[str, pl.Expr, str]] = []
    if occ := eligibility.get("occupations"):
        checks.append(
            ("occupations", pl.col("occupation").is_in(occ), "pekerjaan di luar sasaran program")
        )
    if sectors := eligibility.get("sectors"):
        checks.append(
            ("sectors", pl.col("sector").is_in(sectors), "sektor di luar sasaran program")
        )
    if kec := eligibility.get("kecamatan"):
        checks.append(
            ("kecamatan", pl.col("kecamatan").is_in(kec), "kecamatan di luar wilayah program")
        )
    if kel := eligibility.get("kelurahan"):
        checks.append(
            ("kelurahan", pl.col("kelurahan").is_in(kel), "kelurahan di luar wilayah program")
        )
    if eligibility.get("vulnerable_only"):
        checks.append(("vulnerable_only", pl.col("vulnerable"), "bukan pekerja rentan"))
    if (low := eligibility.get("min_age")) is not None:
        checks.append(("min_age", age >= low, f"usia di bawah {low} tahun"))
    if (high := eligibility.get("max_age")) is not None:
        checks.append(("max_age", age <= high, f"usia di atas {high} tahun"))
    return checks


def ineligible_rules(frame: pl.DataFrame, eligibility: dict, *, as_of: dt.date) -> pl.Series:
    """For each worker row, the keys of the programme's rules it fails (an empty list when
    eligible), in the order of the rules. RULE_FIELD says which field each is about.

    The frame needs the columns ineligible_reason needs."""
    checks = _checks(eligibility, as_of=as_of)
    if not checks:
        return pl.Series("rules", [[]] * frame.height, dtype=pl.List(pl.String))
    failed = [pl.when(~ok.fill_null(False)).then(pl.lit(key)) for key, ok, _msg in checks]
    return frame.select(pl.concat_list(failed).list.drop_nulls().alias("rules"))["rules"]


def ineligible_reason(frame: pl.DataFrame, eligibility: dict, *, as_of: dt.date) -> pl.Series:
    """For each worker row, why the programme cannot fund them (Indonesian), or null.

    The frame needs columns occupation (code), sector, kecamatan, kelurahan, vulnerable (bool)
    and birth_date (date).
    """
    checks = _checks(eligibility, as_of=as_of)
    if not checks:
        return pl.Series("reason", [None] * frame.height, dtype=pl.String)
    reasons = [pl.when(~ok.fill_null(False)).then(pl.lit(msg)) for _key, ok, msg in checks]
    joined = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
    return frame.select(pl.when(joined == "").then(None).otherwise(joined).alias("reason"))[
        "reason"
    ]
