"""NIK validation: every problem code, the +40 rule, century resolution, masking."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.registry.nik import PROBLEMS, make_nik, mask_nik, normalise_nik, parse_nik

TODAY = dt.date(2026, 11, 24)


def lookup(code: str) -> str:
    return {"35.73.05": "active", "35.73.01": "active", "35.07.99": "retired"}.get(
        code, "unknown" if code.startswith("35.73") else "not_loaded"
    )


def check(nik: str, **kw):
    return parse_nik(nik, region_lookup=lookup, today=TODAY, **kw)


def codes(result) -> set[str]:
    return {p.code for p in result.problems}


def test_valid_male_nik_is_parsed() -> None:
    r = check("3573051203900001")
    assert r.valid and r.problems == []
    assert (r.sex, r.birth_date, r.region_code, r.serial) == (
        "L",
        dt.date(1990, 3, 12),
        "35.73.05",
        "0001",
    )


def test_day_plus_40_means_female() -> None:
    r = check("3573055203900002")
    assert r.sex == "P" and r.birth_date == dt.date(1990, 3, 12) and r.valid


@pytest.mark.parametrize("raw", ["357305120390001", "35730512039000011", "35730512039O0001", ""])
def test_not_16_digits(raw: str) -> None:
    r = check(raw)
    assert codes(r) == {"not_16_digits"} and not r.valid


def test_spaces_dots_and_dashes_are_ignored() -> None:
    assert normalise_nik(" 3573 0512.0390-0001 ") == "3573051203900001"
    assert check("3573 0512 0390 0001").valid


def test_unknown_region_is_an_error() -> None:
    r = check("3573091203900001")
    assert codes(r) == {"unknown_region"} and not r.valid
    assert "35.73.09" in r.problems[0].message


def test_retired_region_is_only_a_warning() -> None:
    r = check("3507991203900001")
    assert codes(r) == {"retired_region"} and r.valid
    assert r.problems[0].severity == "warning"


def test_region_of_a_list_not_imported_is_a_warning() -> None:
    r = check("3171011203900001")
    assert codes(r) == {"region_not_loaded"} and r.valid


@pytest.mark.parametrize(
    "date_digits", ["320390", "720390", "001390", "300290", "000390", "401390"]
)
def test_impossible_dates(date_digits: str) -> None:
    r = check(f"357305{date_digits}0001")
    assert "invalid_date" in codes(r) and not r.valid
    assert r.birth_date is None


def test_serial_zero_is_an_error() -> None:
    r = check("3573051203900000")
    assert codes(r) == {"serial_zero"}


def test_sex_in_record_contradicting_the_nik() -> None:
    r = check("3573055203900002", sex="L")
    assert codes(r) == {"sex_mismatch"} and not r.valid


def test_birth_date_in_record_contradicting_the_nik() -> None:
    r = check("3573051203900001", birth_date=dt.date(1990, 3, 13))
    assert codes(r) == {"birth_date_mismatch"} and not r.valid


def test_century_resolved_by_the_age_bound_for_a_worker() -> None:
    # 2020 would make a six-year-old worker; 1920 is within the maximum age.
    r = check("3573051203200001")
    assert r.birth_date == dt.date(1920, 3, 12)
    assert codes(r) == {"century_ambiguous"} and r.valid


def test_century_resolved_towards_the_child_for_heirs() -> None:
    r = check("3573051203200001", min_age=0)
    assert r.birth_date == dt.date(2020, 3, 12) and "century_ambiguous" in codes(r)


def test_recorded_birth_date_settles_the_century() -> None:
    r = check("3573051203200001", birth_date=dt.date(2020, 3, 12), min_age=0)
    assert r.birth_date == dt.date(2020, 3, 12) and r.problems == []


def test_only_one_century_possible_is_not_ambiguous() -> None:
    r = check("3573051203850001")  # 2085 is in the future
    assert r.birth_date == dt.date(1985, 3, 12) and r.problems == []


def test_several_problems_are_all_reported() -> None:
    r = check("3573095203900000", sex="L", birth_date=dt.date(1991, 1, 1))
    assert codes(r) == {"unknown_region", "sex_mismatch", "birth_date_mismatch", "serial_zero"}


def test_every_problem_code_has_both_languages_and_a_severity() -> None:
    for code, (severity, msg_id, msg_en) in PROBLEMS.items():
        assert severity in {"error", "warning"}, code
        assert msg_id and msg_en and msg_id != msg_en, code


def test_make_nik_round_trips_through_parse() -> None:
    born = dt.date(1979, 8, 17)
    nik = make_nik(kecamatan_code="35.73.01", birth_date=born, sex="P", serial=42)
    assert nik == "3573015708790042"
    r = check(nik)
    assert (r.sex, r.birth_date, r.region_code) == ("P", born, "35.73.01")


def test_mask_nik_keeps_only_what_the_kelurahan_reveals() -> None:
    # birth date and sex stand beside a masked NIK: with the serial shown too, only the
    # kecamatan would be left to guess
    assert mask_nik("3573051203900001") == "3573••••••••••••"
    assert "0001" not in mask_nik("3573051203900001")
    assert mask_nik("123") == "•••"


def full_width(text: str) -> str:
    return text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def arabic_indic(text: str) -> str:
    return text.translate({ord(d): 0x0660 + int(d) for d in "0123456789"})


@pytest.mark.parametrize(
    "typed",
    [
        full_width("3573054512900001"),  # a Japanese/Chinese input method, a phone keyboard
        arabic_indic("3573054512900001"),  # NFKC keeps these: they are translated digit by digit
        "３５７３ ０５４５－１２９０　０００１",  # full-width dash and ideographic space inside
        "357305451290000①",  # a circled digit: NFKC makes it 1
    ],
)
def test_digits_of_any_script_are_read_as_ascii(typed: str) -> None:
    assert normalise_nik(typed) == "3573054512900001"
    r = check(typed)
    assert r.valid and r.nik == "3573054512900001" and r.nik.isascii()
    assert (r.region_code, r.sex, r.birth_date) == ("35.73.05", "P", dt.date(1990, 12, 5))


def test_only_ascii_digits_make_a_nik() -> None:
    # A digit-like character that is not a decimal digit (here a Roman numeral, which NFKC
    # turns into letters) cannot pass as one; nor can a character no normalisation maps.
    for typed in ("357305451290000Ⅰ", "357305451290000\u0f33", "3573054512900🎉01"):
        r = check(typed)
        assert not r.valid and codes(r) == {"not_16_digits"}


def test_a_long_or_unprintable_value_is_quoted_short_and_clean() -> None:
    message = check("9" * 5000 + "\x00\ud800").problems[0].message
    assert len(message) < 200 and "…" in message
    message = check("12\x00\ud800").problems[0].message
    message.encode("utf-8")  # nothing PostgreSQL or a terminal would refuse
    assert "\x00" not in message
