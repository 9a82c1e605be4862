"""Reading and checking uploaded lists: headers, every rejection reason, suggestions."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cakupan.membership.imports import (
    TEMPLATE_HEADERS,
    FileProblem,
    HeaderProblem,
    check_rows,
    import_catalogue,
    map_columns,
    read_table,
)

pytestmark = pytest.mark.usefixtures("malang")

HEAD = "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan,no_hp,penghasilan\n"
GOOD = "3573055203900001,Siti Aminah,12-03-1990,P,Lowokwaru,ojol,0812 3456 7890,\n"


def checked(tmp_path: Path, body: str, head: str = HEAD, name: str = "daftar.csv"):
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    frame = map_columns(read_table(path))
    return check_rows(frame, import_catalogue(), default_income=1_000_000)


def problems(result) -> list[tuple[int, str, str]]:
    return [
        (r, c, code) for r, c, code in result.problems.select("row", "column", "code").iter_rows()
    ]


def test_a_good_row_is_typed_and_normalised(tmp_path: Path) -> None:
    result = checked(tmp_path, GOOD)
    assert result.problems.height == 0 and result.total == 1
    row = result.rows.row(0, named=True)
    assert (
        row["row"],
        row["nik"],
        row["sex"],
        row["kelurahan"],
        row["kecamatan"],
        row["occupation"],
        row["sector"],
        row["phone"],
        row["income"],
    ) == (
        2,
        "3573055203900001",
        "P",
        "35.73.05.1011",
        "35.73.05",
        "ojol",
        "transport",
        "081234567890",
        1_000_000,
    )
    assert str(row["birth_date"]) == "1990-03-12"


def test_template_headers_are_the_canonical_columns() -> None:
    assert TEMPLATE_HEADERS == [
        "nik",
        "nama",
        "tanggal_lahir",
        "jenis_kelamin",
        "kelurahan",
        "pekerjaan",
        "no_hp",
        "penghasilan",
    ]


def test_english_headers_semicolons_and_other_date_formats(tmp_path: Path) -> None:
    head = "National ID;Full Name;Birth Date;Sex;Village;Occupation\n"
    result = checked(
        tmp_path, "3573051203900001;Budi;1990-03-12;male;35.73.05.1011;Ojek Online\n", head=head
    )
    assert result.problems.height == 0
    assert result.rows["occupation"].to_list() == ["ojol"]


@pytest.mark.parametrize(
    ("line", "column", "code"),
    [
        ("357305520390001,Siti,12-03-1990,P,Lowokwaru,ojol,,", "nik", "not_16_digits"),
        ("3.57305E+15,Siti,12-03-1990,P,Lowokwaru,ojol,,", "nik", "scientific_notation"),
        ("3573095203900001,Siti,12-03-1990,P,Lowokwaru,ojol,,", "nik", "unknown_region"),
        ("3573055203900000,Siti,12-03-1990,P,Lowokwaru,ojol,,", "nik", "serial_zero"),
        ("3573055203900001,Siti,12-03-1990,L,Lowokwaru,ojol,,", "jenis_kelamin", "sex_mismatch"),
        (
            "3573055203900001,Siti,13-03-1990,P,Lowokwaru,ojol,,",
            "tanggal_lahir",
            "birth_date_mismatch",
        ),
        ("3573055203900001,,12-03-1990,P,Lowokwaru,ojol,,", "nama", "required"),
        ("3573055203900001,Siti,kemarin,P,Lowokwaru,ojol,,", "tanggal_lahir", "invalid_date"),
        ("3573055203900001,Siti,12-03-1990,X,Lowokwaru,ojol,,", "jenis_kelamin", "invalid_sex"),
        ("3573055203900001,Siti,12-03-1990,P,Atlantis,ojol,,", "kelurahan", "unknown_kelurahan"),
        (
            "3573055203900001,Siti,12-03-1990,P,Lowokwaru,astronot,,",
            "pekerjaan",
            "unknown_occupation",
        ),
        (
            "3573055203900001,Siti,12-03-1990,P,Lowokwaru,ojol,,satu juta",
            "penghasilan",
            "invalid_income",
        ),
        ("3573055203150001,Siti,12-03-2015,P,Lowokwaru,ojol,,", "tanggal_lahir", "too_young"),
    ],
)
def test_every_rejection_reason_names_row_and_column(
    tmp_path: Path, line: str, column: str, code: str
) -> None:
    result = checked(tmp_path, GOOD + line + "\n")
    assert (3, column, code) in problems(result)
    assert result.rejected_rows == {3} and result.rows["row"].to_list() == [2]


def test_suggestions_for_near_misses(tmp_path: Path) -> None:
    result = checked(
        tmp_path,
        "3573055203900001,Siti,12-03-1990,P,lowok waru,ojek onlen,,\n"
        "3573055203900002,Sri,12-03-1990,P,Tlogo mas,ojol,,\n",
    )
    by_col = {
        (r["row"], r["column"]): r["suggestion"] for r in result.problems.iter_rows(named=True)
    }
    # "lowok waru" is Lowokwaru once spaces go; "ojek onlen" is near the alias "ojek online"
    assert (2, "kelurahan") not in by_col
    assert "ojol" in by_col[(2, "pekerjaan")]
    assert result.rows.height == 1 and result.rows["kelurahan"].to_list() == ["35.73.05.1003"]


def test_fuzzy_suggestion_for_a_misspelt_kelurahan(tmp_path: Path) -> None:
    result = checked(tmp_path, "3573055203900001,Siti,12-03-1990,P,Lowokwarru,ojol,,\n")
    row = result.problems.row(0, named=True)
    assert row["code"] == "unknown_kelurahan" and row["suggestion"] == "Lowokwaru (35.73.05.1011)"


def test_bad_phone_is_a_warning_and_not_kept(tmp_path: Path) -> None:
    result = checked(tmp_path, "3573055203900001,Siti,12-03-1990,P,Lowokwaru,ojol,12345,\n")
    assert problems(result) == [(2, "no_hp", "invalid_phone")]
    assert result.rows["phone"].to_list() == [""] and not result.rejected_rows


def test_missing_required_header_asks_for_a_mapping_with_guesses(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("No. Induk,nama,tgl lahir,jk,kelurahan,pekerjaan\n1,a,b,c,d,e\n")
    with pytest.raises(HeaderProblem) as exc:
        map_columns(read_table(path))
    assert exc.value.missing == ["nik"]
    frame = map_columns(read_table(path), {"No. Induk": "nik"})
    assert "nik" in frame.columns and frame["nik"].to_list() == ["1"]


def test_xlsx_is_read_like_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEAD.strip().split(","))
    ws.append(
        ["3573055203900001", "Siti Aminah", "12-03-1990", "P", "Lowokwaru", "ojol", None, None]
    )
    wb.save(tmp_path / "daftar.xlsx")
    frame = map_columns(read_table(tmp_path / "daftar.xlsx"))
    result = check_rows(frame, import_catalogue(), default_income=1_000_000)
    assert result.problems.height == 0 and result.rows["nik"].to_list() == ["3573055203900001"]


def test_unsupported_or_empty_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(FileProblem, match=r"csv atau \.xlsx"):
        read_table(tmp_path / "a.pdf")
    (tmp_path / "b.csv").write_text("")
    with pytest.raises(FileProblem):
        read_table(tmp_path / "b.csv")


def test_problem_frame_schema(tmp_path: Path) -> None:
    result = checked(tmp_path, GOOD)
    assert result.problems.schema == pl.Schema(
        {
            "row": pl.Int64,
            "column": pl.String,
            "severity": pl.String,
            "code": pl.String,
            "message": pl.String,
            "suggestion": pl.String,
            "value": pl.String,
            "suggested": pl.String,
        }
    )


@pytest.mark.parametrize(
    ("nik", "written", "born"),
    [
        ("3573050102850001", "01-02-85", "1985-02-01"),
        ("3573050102850001", "01/02/85", "1985-02-01"),
        ("3573050102050001", "01.02.05", "2005-02-01"),
    ],
)
def test_two_digit_years_get_their_century_from_the_age_bounds(
    tmp_path: Path, nik: str, written: str, born: str
) -> None:
    result = checked(tmp_path, f"{nik},Budi,{written},L,Lowokwaru,ojol,,\n")
    assert result.problems.height == 0
    assert [str(d) for d in result.rows["birth_date"]] == [born]


def test_a_year_before_1900_is_not_a_birth_date(tmp_path: Path) -> None:
    # read as year 90 AD, the NIK digits 120390 matched and the row used to be accepted
    result = checked(tmp_path, "3573051203900001,Budi,12-03-0090,L,Lowokwaru,ojol,,\n")
    assert problems(result) == [(2, "tanggal_lahir", "invalid_date")]
    assert "1900" in result.problems["message"][0] and result.rows.height == 0


def test_a_birth_date_the_validator_refuses_does_not_take_the_fast_path(tmp_path: Path) -> None:
    # 1905 matches the NIK digits 010205, but a worker cannot be over 110: the validator reads 2005
    result = checked(tmp_path, "3573050102050001,Budi,01-02-1905,L,Lowokwaru,ojol,,\n")
    assert result.rejected_rows == {2}
    assert (2, "tanggal_lahir", "birth_date_mismatch") in problems(result)


def test_blank_csv_lines_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    bad = "3573055203900002,Sri,12-03-1990,P,Atlantis,ojol,,\n"
    result = checked(tmp_path, GOOD + "\n,,,,,,,\n , ,\t,,,,,\n" + bad + ",,,,,,,\n")
    assert result.blank_rows == 4 and result.total == 2
    assert problems(result) == [(6, "kelurahan", "unknown_kelurahan")]
    assert result.rows["row"].to_list() == [2]


def test_blank_lines_above_the_csv_header_count_in_row_numbers(tmp_path: Path) -> None:
    bad = "3573055203900002,Sri,12-03-1990,P,Atlantis,ojol,,\n"
    result = checked(tmp_path, GOOD + bad, head="\n\n" + HEAD)
    assert problems(result) == [(5, "kelurahan", "unknown_kelurahan")]


def test_xlsx_blank_rows_are_skipped_and_row_numbers_match_the_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([])  # the header is on sheet row 2
    ws.append(HEAD.strip().split(","))
    ws.append(["3573055203900001", "Siti", "12-03-1990", "P", "Lowokwaru", "ojol", None, None])
    ws.append([])
    ws.append([None, " ", None])
    ws.append(["3573055203900002", "Sri", "12-03-1990", "P", "Atlantis", "ojol", None, None])
    wb.save(tmp_path / "daftar.xlsx")
    frame = map_columns(read_table(tmp_path / "daftar.xlsx"))
    result = check_rows(frame, import_catalogue(), default_income=1_000_000)
    assert result.blank_rows == 2 and result.total == 2
    assert problems(result) == [(6, "kelurahan", "unknown_kelurahan")]
    assert result.rows["row"].to_list() == [3]


def test_an_unreadable_csv_says_what_to_check_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rusak.csv"
    path.write_text(HEAD + '"3573055203900001,Siti,12-03-1990,P,Lowokwaru,ojol,,\n')
    with pytest.raises(FileProblem) as exc:
        read_table(path)
    message = str(exc.value)
    assert message.startswith("Berkas CSV tidak dapat dibaca: periksa tanda pemisah")
    assert "\n" not in message and "You might want to try" not in message


def test_nul_characters_are_removed_from_cells_and_headers(tmp_path: Path) -> None:
    result = checked(
        tmp_path,
        "3573055203900001,Siti\x00 Aminah,12-03-1990,P,Lowok\x00waru,ojol,,\n",
        head="ni\x00k" + HEAD[3:],
    )
    assert result.problems.height == 0
    assert result.rows["name"].to_list() == ["Siti Aminah"]


def test_a_phone_that_lost_its_leading_zero_in_excel_is_repaired(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEAD.strip().split(","))
    ws.append(
        ["3573055203900001", "Siti", "12-03-1990", "P", "Lowokwaru", "ojol", 81234567890, None]
    )
    wb.save(tmp_path / "daftar.xlsx")
    result = check_rows(
        map_columns(read_table(tmp_path / "daftar.xlsx")),
        import_catalogue(),
        default_income=1_000_000,
    )
    assert result.problems.height == 0 and result.rows["phone"].to_list() == ["081234567890"]
