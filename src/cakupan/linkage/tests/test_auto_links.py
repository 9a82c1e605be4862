"""Automatic typo links (`corrected_typo`) and repeats in one file: what a person no longer
has to decide, what still goes to one, and the precision of the automatic links measured on
a generated labelled set."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cakupan.linkage import AUTO_LINKED, TO_REVIEW, LinkageSettings, link
from cakupan.linkage.tests.test_link import (
    AMINAH,
    B1,
    B2,
    KEL_A,
    KEL_B,
    REGISTRY,
    incoming,
    nik,
    one,
    registry,
    typo,
)

TYPO = "corrected_typo"
MANUAL = LinkageSettings(auto_link_typos=False)


# --- automatic typo links ---------------------------------------------------------------------


def test_a_certain_typo_is_linked_with_its_evidence() -> None:
    """One digit of the serial mistyped; name, birth date, sex and kelurahan agree."""
    row = incoming((1, typo(AMINAH, 16, "7"), "Siti Aminah", B2, "P", KEL_B))
    result = one(link(row, REGISTRY), 1)
    assert (result["status"], result["registry_status"], result["worker_id"]) == (TYPO, TYPO, 103)
    assert result["reason"] == "nik_typo"
    assert result["evidence"] == (
        "NIK diperbaiki otomatis: NIK beda 1 angka (posisi 16); nama, tanggal lahir, "
        "jenis kelamin dan kelurahan sama; tidak ada kandidat lain"
    )
    # The same row waited for a person before.
    assert one(link(row, REGISTRY, MANUAL), 1)["status"] == "probable"


def test_a_proven_typo_names_the_proof_and_the_missing_kelurahan() -> None:
    """Birth-date digits that contradict the birth date prove a typo; no kelurahan needed."""
    result = one(
        link(incoming((1, typo(AMINAH, 8, "9"), "St. Aminah", B2, "P", None)), REGISTRY), 1
    )
    assert result["status"] == TYPO
    assert result["evidence"] == (
        "NIK diperbaiki otomatis: NIK beda 1 angka (posisi 8); nama, tanggal lahir, "
        "jenis kelamin sama, kelurahan tidak diisi; NIK di berkas tidak mungkin benar: angka "
        "tanggal lahirnya tidak cocok dengan tanggal lahir dan jenis kelamin; tidak ada "
        "kandidat lain"
    )


def test_a_worker_who_moved_is_corrected_only_with_a_proven_typo() -> None:
    proven = incoming((1, typo(AMINAH, 8, "9"), "Siti Aminah", B2, "P", KEL_A))
    result = one(link(proven, REGISTRY), 1)
    assert (result["status"], result["worker_id"]) == (TYPO, 103)
    assert "kelurahan lain (pindah)" in result["evidence"]
    stay = LinkageSettings(auto_link_moved=False)
    assert one(link(proven, REGISTRY, stay), 1)["status"] == "probable"


def test_a_lost_digit_singles_out_one_of_two_namesakes() -> None:
    """Two registered Siti Aminahs born the same day; the row's 15 digits are one's NIK with
    a digit lost, so it is her, even though she has moved."""
    other = nik(B2, "P", 1, "350724")
    twins = pl.concat([REGISTRY, registry((104, other, "Siti Aminah", B2, "P", KEL_B))])
    lost = AMINAH[:9] + AMINAH[10:]
    result = one(link(incoming((1, lost, "Siti Aminah", B2, "P", KEL_A)), twins), 1)
    assert (result["status"], result["reason"], result["worker_id"]) == (
        TYPO,
        "name_birth_nik_invalid",
        103,
    )
    assert "kurang atau lebih satu angka" in result["evidence"]
    added = AMINAH[:4] + "7" + AMINAH[4:]
    assert (
        one(link(incoming((1, added, "Siti Aminah", B2, "P", None)), twins), 1)["worker_id"] == 103
    )
    # Without that evidence the two namesakes are a person's decision.
    blank = one(link(incoming((1, None, "Siti Aminah", B2, "P", None)), twins), 1)
    assert (blank["status"], blank["reason"]) == (
        "same_name_birth_other_nik",
        "name_birth_ambiguous",
    )


# a registered namesake born the same day and living in the same kelurahan, NIK far away
RIVAL = pl.concat(
    [REGISTRY, registry((104, nik(B2, "P", 9, "357301"), "Siti Aminah", B2, "P", KEL_B))]
)


@pytest.mark.parametrize(
    ("row", "workers", "status", "reason"),
    [
        # another registered worker with this name and birth date: a rival candidate
        (
            (1, typo(AMINAH, 16, "7"), "Siti Aminah", B2, "P", KEL_B),
            RIVAL,
            "probable",
            "nik_typo",
        ),
        # the NIK could be right as typed and no kelurahan confirms it
        (
            (1, typo(AMINAH, 16, "7"), "Siti Aminah", B2, "P", None),
            REGISTRY,
            "same_name_birth_other_nik",
            "nik_close_unconfirmed",
        ),
        # two digits away (serial 0012 for 0001), and nothing proves the NIK wrong
        (
            (1, typo(typo(AMINAH, 15, "1"), 16, "2"), "Siti Aminah", B2, "P", KEL_B),
            REGISTRY,
            "probable",
            "nik_typo_2",
        ),
        # the NIK proves a typo, but the sex is not given
        (
            (1, typo(AMINAH, 8, "9"), "Siti Aminah", B2, None, KEL_B),
            REGISTRY,
            "probable",
            "nik_typo",
        ),
    ],
)
def test_conflicting_or_missing_evidence_still_goes_to_a_person(
    row: tuple, workers: pl.DataFrame, status: str, reason: str
) -> None:
    result = one(link(incoming(row), workers), 1)
    assert (result["status"], result["reason"], result["worker_id"]) == (status, reason, 103)
    assert result["status"] in TO_REVIEW


def test_a_consecutive_serial_neighbour_is_never_linked_automatically() -> None:
    """Born the same day in the same kecamatan, living in the same kelurahan, the next
    serial: a twin, or a neighbour. A different name, even one letter apart, is someone
    else or a person's decision; never a corrected typo."""
    born = dt.date(1994, 5, 17)
    workers = registry((201, nik(born, "P", 2), "Rina Lestari", born, "P", KEL_A))
    for serial in (1, 3):
        for name, status in (
            ("Rini Lestari", "probable"),  # one letter apart: a person decides
            ("Dewi Lestari", "new"),  # the family name
            ("Siti Aminah", "new"),
        ):
            row = incoming((1, nik(born, "P", serial), name, born, "P", KEL_A))
            assert one(link(row, workers), 1)["status"] == status, (serial, name)
    # A serial two away with the name spelt the other way is corrected: only the next or
    # previous serial is what a twin carries.
    far = incoming((1, nik(born, "P", 4), "Rini Lestari", born, "P", KEL_A))
    assert one(link(far, workers), 1)["status"] == TYPO


def test_automatic_links_are_a_setting() -> None:
    row = incoming((1, typo(typo(AMINAH, 3, "1"), 15, "4"), "Siti Aminah", B2, "P", KEL_B))
    assert one(link(row, REGISTRY), 1)["status"] == TYPO
    near_only = LinkageSettings(auto_link_max_nik_distance=1)
    assert one(link(row, REGISTRY, near_only), 1)["status"] == "probable"
    invalid = incoming((1, None, "Siti Aminah", B2, "P", KEL_B))
    no_invalid = LinkageSettings(auto_link_invalid_nik=False)
    assert one(link(invalid, REGISTRY, no_invalid), 1)["status"] == "probable"


# --- repeats in one file ----------------------------------------------------------------------


@pytest.mark.parametrize("typo_first", [True, False])
def test_a_typo_of_a_worker_another_row_matches_is_that_row_again(typo_first: bool) -> None:
    """The same person twice in the file, once with a NIK typo: not a conflict, not a
    review, but the right row's duplicate, whichever comes first."""
    right = (20, AMINAH, "Siti Aminah", B2, "P", KEL_B)
    wrong = (10 if typo_first else 30, typo(AMINAH, 8, "9"), "Siti Aminah", B2, "P", KEL_B)
    result = link(incoming(wrong, right), REGISTRY)
    assert one(result, 20)["status"] == "exact"
    again = one(result, wrong[0])
    assert (again["status"], again["reason"], again["dup_of_row"]) == (
        "duplicate_in_file",
        "dup_typo",
        20,
    )
    assert (again["registry_status"], again["worker_id"]) == (TYPO, 103)
    assert again["evidence"].startswith(
        "Sama dengan baris 20 di berkas ini: NIK baris ini salah ketik dari NIK pekerja #103"
    )
    assert not set(result["status"]) & TO_REVIEW
    # Before, the typo waited for a person as a worker claimed by another row.
    manual = one(link(incoming(wrong, right), REGISTRY, MANUAL), wrong[0])
    assert (manual["status"], manual["reason"]) == (
        "same_name_birth_other_nik",
        "worker_claimed_in_file",
    )


def test_a_repeat_that_no_worker_fits_is_the_linked_row_again() -> None:
    """Both rows carry the same mistaken birth date, so the typo row fits no worker; it is
    the exact row again all the same."""
    wrong_birth = B2 + dt.timedelta(days=1)
    rows = incoming(
        (1, AMINAH, "Siti Aminah", wrong_birth, "P", KEL_B),
        (2, typo(AMINAH, 14, "8"), "Siti Aminah", wrong_birth, "P", KEL_B),
    )
    result = link(rows, REGISTRY)
    assert (one(result, 1)["status"], one(result, 1)["worker_id"]) == ("exact", 103)
    again = one(result, 2)
    assert (again["status"], again["reason"], again["dup_of_row"], again["worker_id"]) == (
        "duplicate_in_file",
        "dup_typo",
        1,
        103,
    )
    assert again["registry_status"] == TYPO


def test_a_new_person_twice_keeps_the_row_nobody_has_to_decide() -> None:
    """A new person's NIK typo lands on a registered worker's NIK (a conflict to review);
    the same person is also in the file with the right NIK: the conflicting row is the
    duplicate, even though it comes first."""
    born = dt.date(2001, 2, 3)
    own = nik(born, "L", 5, "357301")
    landed = typo(own, 16, "1")
    workers = pl.concat([REGISTRY, registry((301, landed, "Bambang Sutrisno", born, "L", KEL_A))])
    rows = incoming(
        (1, landed, "Rizky Pratama", born, "L", KEL_A),
        (2, own, "Rizky Pratama", born, "L", KEL_A),
    )
    result = link(rows, workers)
    assert (one(result, 2)["status"], one(result, 2)["dup_of_row"]) == ("new", None)
    first = one(result, 1)
    assert (first["status"], first["dup_of_row"], first["registry_status"]) == (
        "duplicate_in_file",
        2,
        "nik_conflict",
    )


def test_a_typo_landing_on_another_rows_nik_is_not_that_rows_duplicate() -> None:
    """Agus's serial typed as Ali's, with Ali also in the file: two people, not one."""
    rows = incoming(
        (1, ALI_ROW[1], "Moch. Ali Fauzi", B1, "L", KEL_A),
        (2, ALI_ROW[1], "Agus Setiawan", B1, "L", KEL_A),
    )
    result = link(rows, REGISTRY)
    assert (one(result, 1)["status"], one(result, 1)["worker_id"]) == ("exact", 101)
    second = one(result, 2)
    assert (second["status"], second["worker_id"], second["dup_of_row"]) == (TYPO, 102, None)


ALI_ROW = REGISTRY.row(0)


# --- precision on labelled data ---------------------------------------------------------------


def test_automatic_links_on_a_labelled_set() -> None:
    """The benchmark's generator on 20,000 rows a side (repeats, typos, namesakes, serial
    neighbours): automatic links are precise, and few rows go to a person."""
    from benchmarks.bench_linkage import f1, generate

    workers, rows = generate(20_000)
    result = link(rows.drop("truth", "kind"), workers)
    truth = rows.select("row", "truth")
    auto = result.filter(pl.col("registry_status").is_in(list(AUTO_LINKED)))
    precision, recall, score = f1(truth, auto.select("row", "worker_id"))
    assert precision >= 0.999 and score >= 0.997, (precision, recall, score)
    typos = auto.filter(pl.col("registry_status") == TYPO).join(truth, on="row")
    assert typos.height > 0.1 * rows.height  # typos and repeats are a tenth of the mix
    assert (typos["worker_id"] == typos["truth"]).mean() >= 0.995
    review = result["status"].is_in(list(TO_REVIEW)).mean()
    assert review <= 0.01
    manual = link(rows.drop("truth", "kind"), workers, MANUAL)
    assert manual["status"].is_in(list(TO_REVIEW)).mean() > 10 * review
