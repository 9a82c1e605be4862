"""What is paid when (issue 8): now, held for arrears, later school years; the children who
receive a scholarship; dates checked against the as-of date. Golden figures: docs/regulations.md §3-§6.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cakupan.rules import BenefitResult, RuleInputError, benefits_from_dict, default_rules

# A fixed "today" in school year 2026/2027: the engine never reads the clock.
AS_OF = date(2026, 12, 1)
# Ani: SD grade 1 (TK–SD year 3) in 2026/2027; 22 on 2042-07-01, so all of S1 is paid:
# 6 × 1.5M + 3 × 2M + 3 × 3M + 5 × 12M = 84,000,000.
ANI = {"name": "Ani", "birth_date": "2019-09-01", "level": "tk_sd", "year_in_level": 3}
# Budi: SMP year 1 in 2026/2027: 3 × 2M + 3 × 3M + 5 × 12M = 75,000,000.
BUDI = {"name": "Budi", "birth_date": "2013-08-01", "level": "smp", "year_in_level": 1}


def compute(event: dict[str, Any], as_of: date = AS_OF) -> BenefitResult:
    return benefits_from_dict(event, as_of=as_of)


def jkm(**fields: Any) -> BenefitResult:
    return compute({"type": "jkm", "event_date": "2026-08-01", **fields})


def scholarship_now(result: BenefitResult) -> list[Any]:
    return [line for line in result.lines if line.code.startswith("scholarship")]


def codes(result: BenefitResult, child: int) -> list[str]:
    outcome = result.scholarships.children[child]
    return [reason.code for reason in outcome.reasons]


def test_jkm_after_40_months_42_million_now_and_two_children_scheduled() -> None:
    """docs/regulations.md §5-§6: Rp 42,000,000 plus both children's scholarships; only this school
    year's instalment is paid now, the later school years stand apart."""
    result = jkm(contribution_months=40, children=[ANI, BUDI])
    assert [c.total for c in result.scholarships.children] == [84_000_000, 75_000_000]
    assert [(line.child, line.school_year, line.amount) for line in scholarship_now(result)] == [
        (0, "2026/2027", 1_500_000),
        (1, "2026/2027", 2_000_000),
    ]
    assert result.total_now == 42_000_000 + 1_500_000 + 2_000_000
    assert result.total_after_arrears == 0
    assert result.total_later == 84_000_000 + 75_000_000 - 3_500_000
    assert {line.payable for line in result.schedule} == {"later"}
    assert min(line.school_year for line in result.schedule) == "2027/2028"
    assert result.total == 42_000_000 + 159_000_000


def test_jkm_after_20_months_42_million_and_no_scholarship_with_the_reason() -> None:
    """docs/regulations.md §5: JKM scholarships only after ≥ 3 years (36 months) of contributions."""
    result = jkm(contribution_months=20, children=[ANI, BUDI])
    assert result.total == result.total_now == 42_000_000
    assert result.schedule == () and scholarship_now(result) == []
    assert codes(result, 0) == codes(result, 1) == ["min_contribution"]
    assert "36 bulan" in result.scholarships.children[0].reasons[0].message


def test_jkk_death_lowest_bracket_70_million_plus_scholarships() -> None:
    """docs/regulations.md §4/§6: 48 × 1,000,000 + 12,000,000 + 10,000,000, and scholarships with no
    minimum contribution period."""
    result = compute(
        {
            "type": "jkk",
            "event_date": "2026-08-01",
            "income": 1_000_000,
            "death": True,
            "children": [ANI, BUDI],
        }
    )
    assert result.total_now == 70_000_000 + 3_500_000
    assert result.total == 70_000_000 + 159_000_000 and result.as_incurred


def test_three_children_two_eldest_scheduled_third_max_children() -> None:
    """docs/regulations.md §6: at most 2 children; without the heirs' choice the two eldest eligible."""
    citra = {"name": "Citra", "birth_date": "2021-01-10", "level": "not_in_school"}
    result = jkm(contribution_months=40, children=[citra, ANI, BUDI])
    citra_out, ani_out, budi_out = result.scholarships.children
    assert ani_out.eligible and budi_out.eligible and ani_out.schedule and budi_out.schedule
    assert not citra_out.eligible and citra_out.schedule == () and citra_out.total == 0
    assert codes(result, 0) == ["max_children"]
    assert "paling banyak 2 anak" in citra_out.reasons[0].message
    assert "anak ke-2 (Ani) dan anak ke-3 (Budi)" in citra_out.reasons[0].message
    assert {line.child for line in (*result.lines, *result.schedule) if line.child is not None} == {
        1,
        2,
    }
    assert result.total == 42_000_000 + 159_000_000


def test_the_heirs_choice_comes_before_age() -> None:
    citra = {"name": "Citra", "birth_date": "2021-01-10", "level": "not_in_school", "chosen": True}
    result = jkm(contribution_months=40, children=[citra, ANI, BUDI])
    assert [c.eligible for c in result.scholarships.children] == [True, False, True]
    assert codes(result, 1) == ["max_children"]  # Ani is the youngest of the other two


def test_an_ineligible_child_leaves_its_place_to_the_next_eldest() -> None:
    """Only eligible children are counted: a married eldest child makes way for the third."""
    eldest = {"name": "Dewi", "birth_date": "2005-01-01", "level": "s1", "year_in_level": 2}
    result = jkm(contribution_months=40, children=[{**eldest, "married": True}, ANI, BUDI])
    assert codes(result, 0) == ["married"]
    assert [c.eligible for c in result.scholarships.children] == [False, True, True]
    unmarried = jkm(contribution_months=40, children=[eldest, ANI, BUDI])
    assert [c.eligible for c in unmarried.scholarships.children] == [True, False, True]


def test_more_chosen_children_than_allowed_names_the_row() -> None:
    chosen = [{**ANI, "chosen": True}, {**BUDI, "chosen": True}, {**ANI, "chosen": True}]
    with pytest.raises(RuleInputError) as caught:
        jkm(contribution_months=40, children=chosen)
    assert (caught.value.field, caught.value.code) == ("children[2].chosen", "too_many_chosen")


def test_the_selection_rule_is_data_in_the_rule_set() -> None:
    rules = default_rules().scholarship(date(2026, 8, 1))
    assert (rules.max_children, rules.selection) == (2, ("chosen", "eldest"))
    window = rules.posthumous_window
    assert (window.days, window.confidence) == (300, "L") and "KUH Perdata" in window.basis


def test_an_event_after_today_is_refused() -> None:
    with pytest.raises(RuleInputError) as caught:
        compute({"type": "jkm", "event_date": "2026-12-02"})
    error = caught.value
    assert (error.field, error.code) == ("event_date", "event_in_future")
    assert "setelah hari ini (2026-12-01)" in error.message and "after today" in error.message_en
    assert compute({"type": "jkm", "event_date": "2026-12-01"}).total == 42_000_000


def test_a_child_born_after_a_death_counts_within_the_posthumous_window() -> None:
    """A child born 259 days after the death is an heir; schooling starts at 4."""
    event = {"type": "jkm", "event_date": "2026-03-01", "contribution_months": 40}
    born = {"birth_date": "2026-11-15", "level": "not_in_school"}
    result = compute({**event, "children": [born]})
    outcome = result.scholarships.children[0]
    assert outcome.eligible and outcome.schedule[0].school_year == "2031/2032"
    assert scholarship_now(result) == [] and result.total_later == outcome.total
    # exactly 300 days after is still inside the window (and not after today)
    edge = (date(2026, 3, 1) + timedelta(days=300)).isoformat()
    compute({**event, "children": [{**born, "birth_date": edge}]}, as_of=date(2027, 1, 1))


@pytest.mark.parametrize(
    ("birth_date", "as_of", "code"),
    [
        ("2026-12-27", date(2027, 1, 1), "born_after_window"),  # 301 days after the death
        ("2026-12-02", AS_OF, "born_in_future"),  # inside the window, but not born yet
    ],
)
def test_a_child_born_too_late_is_refused_naming_the_birth_date(
    birth_date: str, as_of: date, code: str
) -> None:
    event = {
        "type": "jkm",
        "event_date": "2026-03-01",
        "contribution_months": 40,
        "children": [ANI, {"name": "Eko", "birth_date": birth_date, "level": "not_in_school"}],
    }
    with pytest.raises(RuleInputError) as caught:
        compute(event, as_of=as_of)
    assert (caught.value.field, caught.value.code) == ("children[1].birth_date", code)
    assert "Eko" in caught.value.message
    if code == "born_after_window":
        message = caught.value.message
        assert "300 hari" in message and "KUH Perdata Pasal 255" in message
        assert "belum dipastikan" in message  # the window's confidence is low


@pytest.mark.parametrize(
    ("child", "field"),
    [
        # TK–SD year 1 in 2025/2026 began on 2025-07-01, before the child was born
        ({"birth_date": "2025-09-01", "level": "tk_sd", "year_in_level": 1}, "level"),
        # S1 year 1 in 2025/2026 means TK–SD began in 2011/2012; she was born in 2015
        ({"birth_date": "2015-01-01", "level": "s1", "year_in_level": 1}, "level"),
        (
            {"birth_date": "2024-01-01", "level": "not_in_school", "school_start_year": 2023},
            "school_start_year",
        ),
    ],
)
def test_no_school_year_before_the_child_is_born(child: dict[str, Any], field: str) -> None:
    event = {"type": "jkm", "event_date": "2026-03-01", "contribution_months": 40}
    with pytest.raises(RuleInputError) as caught:
        compute({**event, "children": [child]})
    assert (caught.value.field, caught.value.code) == (
        f"children[0].{field}",
        "school_year_before_birth",
    )


def test_school_years_already_over_are_due_now_marked_low_confidence() -> None:
    """A death in 2024-03 computed in 2026-12: 2023/24, 2024/25, 2025/26 are over, 2026/27 is
    this school year; all four are due now, the past ones [L]; the rest is later."""
    result = compute(
        {
            "type": "jkm",
            "event_date": "2024-03-01",
            "contribution_months": 40,
            "children": [
                {**BUDI, "year_in_level": 1, "level": "tk_sd", "birth_date": "2016-01-01"}
            ],
        }
    )
    now = scholarship_now(result)
    assert [line.school_year for line in now] == [
        "2023/2024",
        "2024/2025",
        "2025/2026",
        "2026/2027",
    ]
    assert [line.confidence for line in now] == ["L", "L", "L", "H"]
    assert result.scholarships.current_school_year == "2026/2027"
    assert min(line.school_year for line in result.schedule) == "2027/2028"


def test_arrears_hold_this_years_instalment_and_make_later_years_conditional() -> None:
    """docs/regulations.md §3: up to 3 months in arrears only the funeral is paid at once; the rest,
    this school year's scholarship included, once the heirs pay the arrears."""
    result = jkm(contribution_months=40, months_in_arrears=2, children=[ANI, BUDI])
    assert result.total_now == 10_000_000
    assert result.total_after_arrears == 32_000_000 + 3_500_000
    assert {line.payable for line in scholarship_now(result)} == {"after_arrears"}
    assert {line.payable for line in result.schedule} == {"later"}
    assert all("tunggakan" in line.note for line in result.schedule)
    assert result.total_later == 159_000_000 - 3_500_000
    beyond = jkm(contribution_months=40, months_in_arrears=4, children=[ANI, BUDI])
    assert {line.payable for line in (*beyond.lines, *beyond.schedule)} == {"not_payable"}
    assert (beyond.total, beyond.total_later) == (0, 0)


LEVELS = {"tk_sd": 8, "smp": 3, "sma": 3, "s1": 5}


@st.composite
def child_strategy(draw: st.DrawFn, event_date: date) -> dict[str, Any]:
    level = draw(st.sampled_from([*LEVELS, "not_in_school", "not_enrolled", "finished"]))
    if level == "not_in_school":
        born = event_date + timedelta(days=draw(st.integers(-6 * 365, 300)))
    else:
        born = event_date - timedelta(days=draw(st.integers(3 * 365, 25 * 365)))
    child: dict[str, Any] = {
        "birth_date": born.isoformat(),
        "level": level,
        "married": draw(st.booleans()) and draw(st.booleans()),
        "registered_heir": draw(st.integers(0, 9)) > 0,
        "chosen": draw(st.integers(0, 5)) == 0,
    }
    if level in LEVELS:
        child["year_in_level"] = draw(st.integers(1, LEVELS[level]))
    return child


@st.composite
def event_strategy(draw: st.DrawFn) -> tuple[dict[str, Any], date]:
    event_date = draw(st.dates(date(2016, 1, 1), date(2026, 11, 30)))
    as_of = event_date + timedelta(days=draw(st.integers(0, 3000)))
    kind = draw(st.sampled_from(["jkm", "jkk_death", "jkk_disability"]))
    event: dict[str, Any] = {
        "type": "jkm" if kind == "jkm" else "jkk",
        "event_date": event_date.isoformat(),
        "months_in_arrears": draw(st.integers(0, 6)),
        "contribution_months": draw(st.integers(0, 90)),
        "children": draw(st.lists(child_strategy(event_date), max_size=4)),
    }
    if kind != "jkm":
        event["wage"] = draw(st.sampled_from([1_000_000, 2_950_000, 20_700_000]))
        event["death" if kind == "jkk_death" else "total_disability"] = True
        event["medical_bills"] = draw(st.lists(st.integers(0, 50_000_000), max_size=2))
        if draw(st.booleans()):
            event["stmb"] = {"months": draw(st.integers(0, 20))}
    return event, as_of


@settings(max_examples=150, deadline=None)
@given(case=event_strategy())
def test_each_headline_is_the_sum_of_its_own_lines(case: tuple[dict[str, Any], date]) -> None:
    """Paid now, held for the arrears and the later schedule are each the sum of their lines,
    under any arrears; no later school year is ever paid now; at most max_children receive."""
    event, as_of = case
    try:
        result = compute(event, as_of=as_of)
    except RuleInputError as e:
        # generated children may be placed in school before birth, or be born after today
        if e.code in ("school_year_before_birth", "born_in_future", "too_many_chosen"):
            reject()
        raise

    def total(lines: tuple[Any, ...], payable: str) -> int:
        return sum(line.amount for line in lines if line.payable == payable and line.amount)

    assert result.total_now == total(result.lines, "now")
    assert result.total_after_arrears == total(result.lines, "after_arrears")
    assert result.total_later == total(result.schedule, "later")
    assert result.total == result.total_now + result.total_after_arrears + result.total_later
    months = event["months_in_arrears"]
    if months > 3:
        assert result.total == 0
    elif months:
        cash_now = [line.code for line in result.lines if line.payable == "now"]
        assert set(cash_now) <= {"funeral", "medical_care"}
    scholarships = result.scholarships
    if scholarships is None:
        assert not result.schedule
        return
    current = scholarships.current_school_year
    assert all(line.school_year <= current for line in result.lines if line.school_year)
    assert all(line.school_year > current for line in result.schedule)
    receiving = [c for c in scholarships.children if c.eligible]
    assert len(receiving) <= scholarships.max_children
    assert len(scholarships.children) == len(event["children"])
    lines = [line for line in (*result.lines, *result.schedule) if line.child is not None]
    assert sum(line.amount for line in lines) == scholarships.total
    one_off = default_rules().scholarship(date.fromisoformat(event["event_date"])).mode == "one_off"
    for outcome in receiving:
        child = event["children"][outcome.index]
        born = date.fromisoformat(child["birth_date"])
        first = date(int(outcome.schedule[0].school_year[:4]), 7, 1)
        if one_off:  # one payment, in the school year of the event or of the birth
            assert first.replace(year=first.year + 1) > born
        else:  # never a school year before birth, nor (not yet in school) before school age
            assert first >= born
            if child["level"] == "not_in_school":
                assert (
                    first.year - born.year - ((first.month, first.day) < (born.month, born.day))
                    >= 4
                )
