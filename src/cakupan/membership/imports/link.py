"""Stage 3, link: the checked rows against the registry and the programme.

Each row is linked to a registered worker (cakupan.linkage), then judged: the same person twice
in the file, a probable match for an officer to review, already enrolled in this programme,
funded by another payer for the same months, or outside the programme's target (its
eligibility, applied on the registry's record for a registered worker). The column a refusal
names comes with it as data (cakupan.funding.eligibility.RULE_FIELD).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import polars.selectors as cs
from django.conf import settings

from cakupan.funding.eligibility import RULE_FIELD, ineligible_reason, ineligible_rules
from cakupan.funding.models import FundingProgramme
from cakupan.funding.selectors import eligibility_rule_texts
from cakupan.linkage import TO_REVIEW, LinkageSettings, link
from cakupan.membership.imports.check import Checked
from cakupan.membership.imports.problems import (
    CORRECTED,
    NOT_ELIGIBLE,
    REJECTED,
    REVIEW,
    WARNING,
    problems,
)
from cakupan.membership.selectors import funding_clashes, registry_frame

REVIEW_STATUSES = tuple(TO_REVIEW)
# The file's column that holds each worker field an eligibility rule is about.
FIELD_COLUMN = {
    "occupation": "pekerjaan",
    "sector": "pekerjaan",
    "vulnerable": "pekerjaan",
    "kecamatan": "kelurahan",
    "kelurahan": "kelurahan",
    "birth_date": "tanggal_lahir",
}


def linkage_settings() -> LinkageSettings:
    """The linkage thresholds, overridable in Django settings as CAKUPAN_LINKAGE = {...}."""
    return LinkageSettings(**getattr(settings, "CAKUPAN_LINKAGE", {}))


@dataclass
class Linked:
    """What the link stage decided: the rows to save, the rows already enrolled, the rows to
    review, and the problems it found (duplicates, reviews, double funding, eligibility)."""

    to_enrol: pl.DataFrame  # status new, exact or corrected_typo, eligible, funded by nobody else
    already: int  # rows of workers this programme already funds for those months
    reviews: pl.DataFrame
    problems: list[pl.DataFrame]
    auto_links: list[dict]  # NIK typos corrected automatically, with their evidence


def link_rows(
    checked: Checked, *, programme: FundingProgramme, first: dt.date, last: dt.date
) -> Linked:
    """Link the checked rows; they are taken from `checked` (which keeps its problems and
    counts) so that the memory they hold is freed once they are joined to their links."""
    rows, checked.rows = checked.rows, checked.rows.clear()
    registry = registry_frame()
    attributes = registry.select(
        "worker_id",
        *(
            pl.col(c).alias(f"{c}_registry")
            for c in ("occupation", "sector", "kelurahan", "kecamatan", "vulnerable")
        ),
    )
    links = link(
        rows.select("row", "nik", "name", "birth_date", "sex", "kelurahan"),
        registry.select("worker_id", "nik", "name", "birth_date", "sex", "kelurahan"),
        linkage_settings(),
    )
    del registry  # the largest frame of an import; free it before the save
    linked = rows.join(links.drop("registry_status"), on="row", how="left")
    del links, rows
    found: list[pl.DataFrame] = []

    # The same person twice in the list, once with a NIK typo: not a question for anyone,
    # and nothing to fix before saving. The row it repeats is enrolled (or reviewed) once.
    repeats = linked.filter(
        (pl.col("status") == "duplicate_in_file") & (pl.col("reason") == "dup_typo")
    )
    found.append(
        problems(
            repeats["row"],
            "nik",
            WARNING,
            "duplicate_typo",
            [
                f"Orang yang sama dengan baris {first}; NIK di baris ini salah ketik. "
                "Hanya baris itu yang dipakai."
                for first in repeats["dup_of_row"]
            ],
            "Hapus baris ini dari daftar berikutnya.",
        )
    )
    dups = linked.filter(
        (pl.col("status") == "duplicate_in_file") & (pl.col("reason") != "dup_typo")
    )
    found.append(
        problems(
            dups["row"],
            "nik",
            REJECTED,
            "duplicate_in_file",
            [
                f"Baris ini sama dengan baris {first} di berkas yang sama."
                for first in dups["dup_of_row"]
            ],
            "Hapus salah satu baris.",
        )
    )
    reviews = linked.filter(pl.col("status").is_in(REVIEW_STATUSES))
    found.append(
        problems(
            reviews["row"],
            "nik",
            REVIEW,
            reviews["status"].to_list(),
            [e or "Mungkin orang yang sudah terdaftar." for e in reviews["evidence"]],
            "Petugas memutuskan di antrean tinjauan.",
        )
    )
    # A NIK typo corrected automatically enrols the registered worker, like an exact match;
    # it is listed in the report and recorded (AutoLink) so that it can be undone.
    corrected = linked.filter(pl.col("status") == "corrected_typo")
    found.append(
        problems(
            corrected["row"],
            "nik",
            CORRECTED,
            "corrected_typo",
            corrected["evidence"].fill_null("NIK diperbaiki otomatis.").to_list(),
            "Bila keliru, batalkan dari halaman pekerja.",
        )
    )
    auto_links = corrected.select(
        "row", "nik", "name", "birth_date", "sex", "kelurahan", "occupation", "worker_id",
        "reason", "score", "evidence",
    ).to_dicts()  # fmt: skip
    candidates = linked.filter(pl.col("status").is_in(["exact", "new", "corrected_typo"]))

    # Who is already funded, by whom, for the programme's months?
    existing_ids = [int(w) for w in candidates["worker_id"].drop_nulls().to_list()]
    clashes = funding_clashes(
        worker_ids=existing_ids, first=first, last=last, sponsor_id=programme.sponsor_id
    )
    already = [w for w, (prog_id, _label) in clashes.items() if prog_id == programme.pk]
    other = {w: label for w, (prog_id, label) in clashes.items() if prog_id != programme.pk}
    already_rows = candidates.filter(pl.col("worker_id").is_in(already))
    funded_elsewhere = candidates.filter(pl.col("worker_id").is_in(list(other)))
    found.append(
        problems(
            funded_elsewhere["row"],
            "nik",
            REJECTED,
            "double_funding",
            [
                f"{other[w]}. Satu bulan kepesertaan hanya boleh punya satu pembayar."
                for w in funded_elsewhere["worker_id"]
            ],
        )
    )
    to_enrol = candidates.filter(
        ~pl.col("worker_id").is_in(list(clashes)) | pl.col("worker_id").is_null()
    )

    # A registered worker is judged on the registry's record (occupation, domicile,
    # vulnerability), not on what the file says of them; a new worker on the file's row.
    to_enrol = (
        to_enrol.join(attributes, on="worker_id", how="left")
        .with_columns(
            registered=pl.col("occupation_registry").is_not_null(),
            vulnerable=pl.coalesce("vulnerable_registry", "vulnerable_occupation"),
            **{
                c: pl.coalesce(f"{c}_registry", c)
                for c in ("occupation", "sector", "kelurahan", "kecamatan")
            },
        )
        .drop(cs.ends_with("_registry"))
    )
    # Eligibility is the programme's data applied to every row at once: one problem per rule
    # a row fails, on the column that rule is about, saying what the programme is for. The
    # rules a row fails are listed for the failing rows only (a list per row of a million-row
    # list would cost memory for nothing).
    eligibility = programme.eligibility or {}
    refused = to_enrol.filter(ineligible_reason(to_enrol, eligibility, as_of=first).is_not_null())
    if refused.height:
        texts = eligibility_rule_texts(eligibility)
        each = refused.select(
            "row", "registered", rules=ineligible_rules(refused, eligibility, as_of=first)
        ).explode("rules")
        found.append(
            problems(
                each["row"],
                [FIELD_COLUMN[RULE_FIELD[k]] for k in each["rules"]],
                NOT_ELIGIBLE,
                "not_eligible",
                [
                    f"{texts[k]}."
                    + (" (Menurut data pekerja yang sudah terdaftar.)" if registered else "")
                    for k, registered in zip(each["rules"], each["registered"], strict=True)
                ],
            )
        )
        to_enrol = to_enrol.filter(~pl.col("row").is_in(refused["row"].to_list()))
    return Linked(
        to_enrol=to_enrol.drop("registered"),
        already=already_rows.height,
        reviews=reviews,
        problems=found,
        auto_links=auto_links,
    )
