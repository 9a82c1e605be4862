"""A funding programme's eligibility rule, as data, applied to a frame of workers at once."""

from __future__ import annotations

import datetime as dt

import polars as pl

KEYS = {"occupations", "sectors", "kecamatan", "kelurahan", "vulnerable_only", "min_age", "max_age"}


def validate_eligibility(eligibility: dict) -> list[str]:
    """Problems with an eligibility definition, in Indonesian (empty when it is sound)."""
    problems = [
        f"Kunci '{k}' tidak dikenal; yang dikenal: {', '.join(sorted(KEYS))}."
        for k in eligibility
        if k not in KEYS
    ]
    for key in ("occupations", "sectors", "kecamatan", "kelurahan"):
        if key in eligibility and not isinstance(eligibility[key], list):
            problems.append(f"'{key}' harus berupa daftar, misalnya [\"ojol\"].")
    for key in ("min_age", "max_age"):
        if key in eligibility and not (
            isinstance(eligibility[key], int) and 0 <= eligibility[key] <= 120
        ):
            problems.append(f"'{key}' harus bilangan bulat 0 sampai 120.")
    return problems


def ineligible_reason(frame: pl.DataFrame, eligibility: dict, *, as_of: dt.date) -> pl.Series:
    """For each worker row, why the programme cannot fund them (Indonesian), or null.

    The frame needs columns occupation (code), sector, kecamatan, kelurahan, vulnerable (bool)
    and birth_date (date).
    """
    age = (
        pl.lit(as_of.year)
        - pl.col("birth_date").dt.year()
        - (
            (pl.lit(as_of.month * 100 + as_of.day))
            < (pl.col("birth_date").dt.month() * 100 + pl.col("birth_date").dt.day())
        ).cast(pl.Int32)
    )
    checks: list[tuple[pl.Expr, str]] = []
    if occ := eligibility.get("occupations"):
        checks.append((pl.col("occupation").is_in(occ), "pekerjaan di luar sasaran program"))
    if sectors := eligibility.get("sectors"):
        checks.append((pl.col("sector").is_in(sectors), "sektor di luar sasaran program"))
    if kec := eligibility.get("kecamatan"):
        checks.append((pl.col("kecamatan").is_in(kec), "kecamatan di luar wilayah program"))
    if kel := eligibility.get("kelurahan"):
        checks.append((pl.col("kelurahan").is_in(kel), "kelurahan di luar wilayah program"))
    if eligibility.get("vulnerable_only"):
        checks.append((pl.col("vulnerable"), "bukan pekerja rentan"))
    if (low := eligibility.get("min_age")) is not None:
        checks.append((age >= low, f"usia di bawah {low} tahun"))
    if (high := eligibility.get("max_age")) is not None:
        checks.append((age <= high, f"usia di atas {high} tahun"))
    if not checks:
        return pl.Series("reason", [None] * frame.height, dtype=pl.String)
    reasons = [pl.when(~ok.fill_null(False)).then(pl.lit(msg)) for ok, msg in checks]
    joined = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
    return frame.select(pl.when(joined == "").then(None).otherwise(joined).alias("reason"))[
        "reason"
    ]
