"""link(): each status and reason on small hand-made tables, the hard negatives, settings."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.linkage import STATUSES, LinkageSettings, link

LOWOKWARU = "357305"  # kecamatan code in the first 6 NIK digits
KEL_A, KEL_B = "35.73.05.1001", "35.73.05.1002"


def nik(birth: dt.date, sex: str, serial: int, kecamatan: str = LOWOKWARU) -> str:
    """The NIK a person born on `birth` in `kecamatan` would carry (women: day + 40)."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{kecamatan}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def registry(*workers: tuple[int, str, str, dt.date, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        workers,
        schema={
            "worker_id": pl.Int64,
            "nik": pl.String,
            "name": pl.String,
            "birth_date": pl.Date,
            "sex": pl.String,
            "kelurahan": pl.String,
        },
        orient="row",
    )


def incoming(*rows: tuple[int, str | None, str, dt.date, str, str | None]) -> pl.DataFrame:
    return registry(*rows).rename({"worker_id": "row"})


def one(result: pl.DataFrame, row: int) -> dict[str, object]:
    return result.filter(pl.col("row") == row).to_dicts()[0]


TYPO = "corrected_typo"
B1 = dt.date(1990, 1, 12)
B2 = dt.date(1985, 7, 3)
ALI = nik(B1, "L", 1)
AMINAH = nik(B2, "P", 1)
REGISTRY = registry(
    (101, ALI, "Moch. Ali Fauzi", B1, "L", KEL_A),
    (102, nik(B1, "L", 2), "Agus Setiawan", B1, "L", KEL_A),
    (103, AMINAH, "Siti Aminah", B2, "P", KEL_B),
)


def typo(value: str, position: int, digit: str) -> str:
    """`value` with the digit at 1-based `position` replaced."""
    return value[: position - 1] + digit + value[position:]


@pytest.mark.parametrize(
    ("row", "status", "reason", "worker"),
    [
        # same NIK, name written another way
        ((1, ALI, "Muhammad Ali Fauzi", B1, "L", KEL_A), "exact", "nik_exact", 101),
        ((1, ALI, "M. Ali Fauzy, S.Pd.", B1, "L", None), "exact", "nik_exact", 101),
        ((1, ALI, "Ali Fauzi", B1, "L", None), "exact", "nik_exact_name_variant", 101),
        ((1, ALI, "Muhammad Ali Fauzu", B1, "L", None), "exact", "nik_exact_name_variant", 101),
        # same NIK, clearly someone else
        (
            (1, ALI, "Bambang Sutrisno", dt.date(1970, 5, 5), "L", None),
            "nik_conflict",
            "nik_same_name_birth_differ",
            101,
        ),
        ((1, ALI, "Bambang Sutrisno", B1, "L", None), "nik_conflict", "nik_same_name_differs", 101),
        # NIK one digit away in the birth-date digits: it cannot be right as typed
        ((1, typo(AMINAH, 8, "9"), "St. Aminah", B2, "P", None), TYPO, "nik_typo", 103),
        # a typo in the serial, confirmed by the kelurahan
        ((1, typo(AMINAH, 16, "7"), "Siti Aminah", B2, "P", KEL_B), TYPO, "nik_typo", 103),
        # and a name typo on top
        ((1, typo(AMINAH, 16, "7"), "Siti Aminha", B2, "P", KEL_B), TYPO, "nik_typo", 103),
        # a serial far beyond the serials issued cannot be right either
        ((1, typo(AMINAH, 13, "5"), "Siti Aminah", B2, "P", None), TYPO, "nik_typo", 103),
        # two neighbouring digits swapped (the birth-date digits 85 -> 58)
        (
            (1, AMINAH[:10] + "58" + AMINAH[12:], "Siti Aminah", B2, "P", None),
            TYPO,
            "nik_transposition",
            103,
        ),
        # two digits wrong
        (
            (1, typo(typo(AMINAH, 3, "1"), 15, "4"), "Siti Aminah", B2, "P", KEL_B),
            TYPO,
            "nik_typo_2",
            103,
        ),
        # no valid NIK: the one worker with this name, birth date and sex
        ((1, "35730547", "Siti Aminah", B2, "P", None), TYPO, "name_birth_nik_invalid", 103),
        ((1, None, "Siti Aminah", B2, "P", KEL_B), TYPO, "name_birth_nik_invalid", 103),
        # same name, birth date and sex under a NIK far away, same kelurahan
        (
            (1, nik(B2, "P", 7, "350724"), "Siti Aminah", B2, "P", KEL_B),
            "same_name_birth_other_nik",
            "name_birth_other_nik",
            103,
        ),
        # nobody close
        ((1, nik(B2, "L", 1, "357301"), "Heru", B2, "L", None), "new", "no_match", None),
    ],
)
def test_statuses(row: tuple, status: str, reason: str, worker: int | None) -> None:
    result = one(link(incoming(row), REGISTRY), 1)
    assert (result["status"], result["reason"], result["worker_id"]) == (status, reason, worker)
    # Without automatic typo links every one of them waits for a person.
    manual = one(link(incoming(row), REGISTRY, LinkageSettings(auto_link_typos=False)), 1)
    expected = "probable" if status == TYPO else status
    assert (manual["status"], manual["reason"], manual["worker_id"]) == (expected, reason, worker)


def test_evidence_names_what_matched() -> None:
    row = incoming((1, typo(AMINAH, 8, "9"), "Siti Aminah", B2, "P", None))
    manual = one(link(row, REGISTRY, LinkageSettings(auto_link_typos=False)), 1)
    assert manual["evidence"] == "NIK beda 1 angka (posisi 8), nama dan tanggal lahir sama"
    assert 0.8 < manual["score"] < 1.0
    assert one(link(row, REGISTRY), 1)["score"] == manual["score"]


def test_consecutive_serial_neighbour_is_a_new_person() -> None:
    """Born the same day in the same kecamatan: serial 0003 next to 0001 and 0002."""
    rows = incoming(
        (1, nik(B1, "L", 3), "Agus Susanto", B1, "L", KEL_A),  # shares the first name
        (2, nik(B1, "L", 4), "Bagus Prasetyo", B1, "L", KEL_A),
    )
    result = link(rows, REGISTRY)
    for row in (1, 2):
        assert one(result, row)["status"] == "new"
        assert one(result, row)["reason"] == "nik_neighbour_other_person"
        assert one(result, row)["worker_id"] is None
        assert "Orang lain" in one(result, row)["evidence"]


def test_typo_landing_on_a_neighbours_nik_finds_its_owner() -> None:
    """Agus (serial 2) typed with serial 1 lands on Ali's NIK: he is still Agus, and Ali,
    another name on that NIK, is no rival to an automatic correction."""
    result = link(incoming((1, ALI, "Agus Setiawan", B1, "L", KEL_A)), REGISTRY)
    assert (one(result, 1)["status"], one(result, 1)["worker_id"]) == (TYPO, 102)
    manual = link(
        incoming((1, ALI, "Agus Setiawan", B1, "L", KEL_A)),
        REGISTRY,
        LinkageSettings(auto_link_typos=False),
    )
    assert (one(manual, 1)["status"], one(manual, 1)["worker_id"]) == ("probable", 102)


def test_namesake_close_nik_without_a_sign_goes_to_review() -> None:
    """A serial one digit away, same name and birth date, no kelurahan: typo or namesake?"""
    row = incoming((1, typo(AMINAH, 16, "5"), "Siti Aminah", B2, "P", None))
    strict = one(link(row, REGISTRY), 1)
    assert (strict["status"], strict["reason"]) == (
        "same_name_birth_other_nik",
        "nik_close_unconfirmed",
    )
    lenient = one(link(row, REGISTRY, LinkageSettings(close_nik_needs_sign=False)), 1)
    assert (lenient["status"], lenient["worker_id"]) == ("probable", 103)


def test_namesake_in_another_kelurahan_with_a_plausible_close_nik_is_someone_else() -> None:
    """The NIK could be right as typed and the kelurahan is another: both say someone else."""
    row = incoming((1, typo(AMINAH, 16, "5"), "Siti Aminah", B2, "P", KEL_A))
    result = one(link(row, REGISTRY), 1)
    assert (result["status"], result["reason"], result["worker_id"]) == (
        "new",
        "namesake_other_kelurahan",
        None,
    )
    assert result["evidence"].startswith("Orang lain, bukan pekerja #103: NIK beda 1 angka")
    asked = LinkageSettings(namesakes_in_other_kelurahan_are_new=False)
    assert one(link(row, REGISTRY, asked), 1)["status"] == "same_name_birth_other_nik"


def test_namesake_elsewhere_is_new_unless_asked_to_review() -> None:
    """Same name, birth date and sex; NIK from another kecamatan; another kelurahan."""
    row = incoming((1, nik(B2, "P", 3, "350724"), "Siti Aminah", B2, "P", KEL_A))
    result = one(link(row, REGISTRY), 1)
    assert (result["status"], result["reason"], result["worker_id"]) == (
        "new",
        "namesake_elsewhere",
        None,
    )
    review = one(link(row, REGISTRY, LinkageSettings(review_namesakes_elsewhere=True)), 1)
    assert (review["status"], review["worker_id"]) == ("same_name_birth_other_nik", 103)


def test_invalid_nik_with_two_namesakes_is_ambiguous() -> None:
    twins = pl.concat(
        [REGISTRY, registry((104, nik(B2, "P", 1, "350724"), "Siti Aminah", B2, "P", None))]
    )
    result = one(link(incoming((1, None, "Siti Aminah", B2, "P", None)), twins), 1)
    assert (result["status"], result["reason"]) == (
        "same_name_birth_other_nik",
        "name_birth_ambiguous",
    )


def test_duplicates_in_the_file() -> None:
    new_nik = nik(dt.date(2001, 2, 3), "L", 1, "357301")
    rows = incoming(
        (10, ALI, "Moch. Ali Fauzi", B1, "L", KEL_A),
        (11, new_nik, "Rizky Pratama", dt.date(2001, 2, 3), "L", None),
        (12, ALI, "Muhammad Ali Fauzi", B1, "L", KEL_A),  # the same NIK again
        # the new person again, birth-date digits of the NIK mistyped
        (13, typo(new_nik, 9, "5"), "Rizki Pratama", dt.date(2001, 2, 3), "L", None),
    )
    result = link(rows, REGISTRY)
    assert one(result, 10)["status"] == "exact"
    assert one(result, 11)["status"] == "new"
    dup = one(result, 12)
    assert (dup["status"], dup["reason"], dup["dup_of_row"]) == ("duplicate_in_file", "dup_nik", 10)
    assert (dup["registry_status"], dup["worker_id"]) == ("exact", 101)
    again = one(result, 13)
    assert (again["status"], again["reason"], again["dup_of_row"]) == (
        "duplicate_in_file",
        "dup_probable",
        11,
    )
    assert again["registry_status"] == "new"
    assert again["evidence"].startswith("Sama dengan baris 11 di berkas ini")


def test_a_worker_is_linked_to_one_row() -> None:
    """Exact on one row, a close NIK that may be right as typed on another (no kelurahan to
    confirm it): the second is someone to review."""
    rows = incoming(
        (1, AMINAH, "Siti Aminah", B2, "P", KEL_B),
        (2, typo(AMINAH, 16, "5"), "Siti Aminah", B2, "P", None),
    )
    result = link(rows, REGISTRY, LinkageSettings(close_nik_needs_sign=False))
    assert one(result, 1)["status"] == "exact"
    second = one(result, 2)
    assert (second["status"], second["reason"], second["worker_id"]) == (
        "same_name_birth_other_nik",
        "worker_claimed_in_file",
        103,
    )
    assert "baris 1" in second["evidence"]


@pytest.mark.parametrize(
    ("name", "strict_status"),
    [("Siti Aminah", TYPO), ("Siti Aminha", "new")],
)
def test_name_thresholds_are_settings(name: str, strict_status: str) -> None:
    row = incoming((1, typo(AMINAH, 8, "9"), name, B2, "P", None))
    assert one(link(row, REGISTRY), 1)["status"] == TYPO
    strict = LinkageSettings(name_probable=0.99, name_probable_edits=0)
    assert one(link(row, REGISTRY, strict), 1)["status"] == strict_status


def test_max_nik_distance_is_a_setting() -> None:
    row = incoming((1, typo(typo(AMINAH, 3, "1"), 15, "4"), "Siti Aminah", B2, "P", KEL_B))
    assert one(link(row, REGISTRY), 1)["status"] == TYPO
    near_only = LinkageSettings(max_nik_distance=1)
    assert one(link(row, REGISTRY, near_only), 1)["status"] == "same_name_birth_other_nik"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="name_probable"):
        LinkageSettings(name_probable=1.5)
    with pytest.raises(ValueError, match="max_nik_distance"):
        LinkageSettings(max_nik_distance=3)
    with pytest.raises(ValueError, match="auto_link_max_nik_distance"):
        LinkageSettings(auto_link_max_nik_distance=-1)


def test_one_output_row_per_input_row_in_input_order() -> None:
    rows = incoming(
        (7, ALI, "Ali Fauzi", B1, "L", None),
        (3, None, "Nobody", B1, "L", None),
        (5, "not a nik", "", B2, "P", None),
    )
    result = link(rows, REGISTRY)
    assert result["row"].to_list() == [7, 3, 5]
    assert result.columns == [
        "row",
        "status",
        "worker_id",
        "score",
        "reason",
        "evidence",
        "dup_of_row",
        "registry_status",
    ]
    assert set(result["status"]) <= set(STATUSES)


def test_empty_input_and_missing_columns() -> None:
    empty = link(incoming(), REGISTRY)
    assert empty.height == 0 and "status" in empty.columns
    assert link(incoming((1, ALI, "Ali", B1, "L", None)), REGISTRY.head(0))["status"].to_list() == [
        "new"
    ]
    with pytest.raises(ValueError, match="kelurahan"):
        link(incoming((1, ALI, "Ali", B1, "L", None)).drop("kelurahan"), REGISTRY)


_PEOPLE = st.lists(
    st.tuples(
        st.dates(dt.date(1950, 1, 1), dt.date(2008, 12, 31)),
        st.sampled_from("LP"),
        st.sampled_from(["Agus", "Siti Aminah", "Moch. Ali", "Sri Rahayu", "Budi Santoso"]),
        st.sampled_from([KEL_A, KEL_B, None]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(_PEOPLE)
def test_a_registry_links_to_itself_exactly(people: list[tuple]) -> None:
    """Property: resubmitting the registry links every row to its own worker, exactly,
    even when many share a name, a birth date and a kecamatan."""
    workers = registry(
        *(
            (n + 1, nik(birth, sex, n + 1), name, birth, sex, kel)
            for n, (birth, sex, name, kel) in enumerate(people)
        )
    )
    result = link(workers.rename({"worker_id": "row"}), workers)
    assert result["status"].to_list() == ["exact"] * len(people)
    assert result["worker_id"].to_list() == result["row"].to_list()


def test_a_name_barely_in_common_elsewhere_is_not_the_same_nik_holder() -> None:
    """ "Siti" is in "Siti Aminah", but with another kelurahan that is no match: a typo may
    have landed on her NIK. Someone to review, not a link."""
    elsewhere = one(link(incoming((1, AMINAH, "Siti", B2, "P", KEL_A)), REGISTRY), 1)
    assert (elsewhere["status"], elsewhere["worker_id"]) == ("nik_conflict", 103)
    at_home = one(link(incoming((1, AMINAH, "Siti", B2, "P", KEL_B)), REGISTRY), 1)
    assert (at_home["status"], at_home["reason"]) == ("exact", "nik_exact_name_variant")
