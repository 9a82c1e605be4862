"""Scholarships (docs/regulations.md §5-§6): eligibility reasons, yearly schedule, limits, generations."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cakupan.rules import BenefitResult, RuleInputError, benefits_from_dict

# A fixed "today" (school year 2026/2027): the engine never reads the clock.
AS_OF = date(2026, 12, 1)


def compute(event: dict[str, Any], as_of: date = AS_OF) -> BenefitResult:
    return benefits_from_dict(event, as_of=as_of)


def scholarship_lines(result: BenefitResult) -> list[Any]:
    """Every scholarship instalment, due now or scheduled later."""
    return [
        line for line in (*result.lines, *result.schedule) if line.code.startswith("scholarship")
    ]


def child(**fields: Any) -> dict[str, Any]:
    return {"birth_date": "2021-08-15", "level": "tk_sd", "year_in_level": 1, **fields}


def jkm_death(children: list[dict[str, Any]], **fields: Any) -> BenefitResult:
    event = {
        "type": "jkm",
        "event_date": "2026-08-01",
        "contribution_months": 40,
        "children": children,
        **fields,
    }
    return compute(event)


def test_full_schedule_87_million_per_child_174_million_for_two() -> None:
    """docs/regulations.md §6: 8 × 1.5M + 3 × 2M + 3 × 3M + 5 × 12M = 87,000,000 per child; two children
    174,000,000."""
    result = jkm_death([child(name="Ani"), child(name="Budi", birth_date="2021-10-01")])
    scholarships = result.scholarships
    assert scholarships is not None
    for outcome in scholarships.children:
        assert outcome.eligible and outcome.total == 87_000_000
        assert len(outcome.schedule) == 19
        assert [(y.level, y.amount) for y in outcome.schedule[7:9]] == [
            ("tk_sd", 1_500_000),
            ("smp", 2_000_000),
        ]
        assert outcome.schedule[0].school_year == "2026/2027"
        assert outcome.schedule[-1].school_year == "2044/2045"
        assert (outcome.schedule[-1].level, outcome.schedule[-1].year_in_level) == ("s1", 5)
    assert scholarships.total == 174_000_000
    assert sum(line.amount for line in scholarship_lines(result)) == 174_000_000
    assert result.total == 42_000_000 + 174_000_000


def test_child_not_yet_in_school_starts_at_age_4_school_year() -> None:
    """docs/regulations.md §6 [M]: paid once schooling starts; TK A at 4 on the school year's 1st day."""
    result = compute(
        {
            "type": "jkk",
            "event_date": "2026-03-01",
            "wage": 1_000_000,
            "death": True,
            "children": [{"birth_date": "2021-09-01", "level": "not_in_school"}],
        }
    )
    outcome = result.scholarships.children[0]
    assert outcome.schedule[0].school_year == "2026/2027"
    assert outcome.total == 87_000_000


def test_midway_child_gets_only_remaining_years() -> None:
    """docs/regulations.md §6: SMP year 2 → 2 × SMP + 3 × SMA + 5 × S1 = 73,000,000."""
    result = jkm_death([child(birth_date="2013-09-01", level="smp", year_in_level=2)])
    assert result.scholarships.total == 2 * 2_000_000 + 3 * 3_000_000 + 5 * 12_000_000


def test_schedule_stops_at_age_23() -> None:
    """docs/regulations.md §6: under 23; born 2005-01-01, S1 year 1 in 2025/26 → three years paid."""
    result = compute(
        {
            "type": "jkm",
            "event_date": "2026-03-01",
            "contribution_months": 40,
            "children": [child(birth_date="2005-01-01", level="s1", year_in_level=1)],
        }
    )
    outcome = result.scholarships.children[0]
    assert [y.school_year for y in outcome.schedule] == ["2025/2026", "2026/2027", "2027/2028"]
    assert outcome.total == 36_000_000


def test_jkm_under_36_months_gives_no_scholarship_with_reason() -> None:
    """docs/regulations.md §5: JKM scholarships only after ≥ 3 years of contributions."""
    result = jkm_death([child()], contribution_months=35)
    outcome = result.scholarships.children[0]
    assert not outcome.eligible
    assert [r.code for r in outcome.reasons] == ["min_contribution"]
    assert result.scholarships.total == 0
    assert scholarship_lines(result) == []
    assert jkm_death([child()], contribution_months=36).scholarships.total == 87_000_000


def test_jkk_scholarship_needs_no_contribution_period() -> None:
    """docs/regulations.md §6: JKK scholarships need no minimum contribution period."""
    result = compute(
        {
            "type": "jkk",
            "event_date": "2026-08-01",
            "wage": 1_000_000,
            "total_disability": True,
            "contribution_months": 1,
            "children": [child()],
        }
    )
    assert result.scholarships.total == 87_000_000
    assert result.total == 56_000_000 + 12_000_000 + 87_000_000


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"birth_date": "2003-07-31", "level": "s1", "year_in_level": 4}, "age_limit"),
        ({"married": True}, "married"),
        ({"working": "pu", "pu_consecutive_months": 7}, "working"),
        ({"working": "other"}, "working"),
        ({"registered_heir": False}, "not_heir"),
        ({"level": "not_enrolled", "year_in_level": None}, "not_enrolled"),
        ({"level": "finished", "year_in_level": None}, "finished"),
    ],
)
def test_not_eligible_reasons(fields: dict[str, Any], reason: str) -> None:
    """docs/regulations.md §6: under 23, unmarried, not working, registered as heir, enrolled."""
    outcome = jkm_death([child(**fields)]).scholarships.children[0]
    assert not outcome.eligible
    assert reason in [r.code for r in outcome.reasons]
    assert outcome.total == 0 and outcome.schedule == ()


@pytest.mark.parametrize(
    "fields",
    [
        {"working": "pu", "pu_consecutive_months": 6},
        {"working": "bpu"},
        {"working": "intern"},
    ],
)
def test_permenaker_1_2025_working_exceptions(fields: dict[str, Any]) -> None:
    """docs/regulations.md §6 [M]: PU up to 6 consecutive months, BPU, or intern stay eligible."""
    assert jkm_death([child(**fields)]).scholarships.children[0].eligible


def test_pp44_jkm_one_scholarship_after_five_years() -> None:
    """docs/regulations.md §5: before PP 82/2019 one Rp 12,000,000 scholarship after 5 years."""
    event = {
        "type": "jkm",
        "event_date": "2019-06-15",
        "contribution_months": 60,
        "children": [child(birth_date="2010-01-01", level="tk_sd", year_in_level=4)],
    }
    result = compute(event)
    assert result.scholarships.total == 12_000_000
    assert result.scholarships.rule_id == "scholarship-pp44-2015"
    assert result.total == 24_000_000 + 12_000_000
    short = compute({**event, "contribution_months": 59})
    assert [r.code for r in short.scholarships.children[0].reasons] == ["min_contribution"]
    # one child only: the eldest of two qualifying children, the other is listed with the reason
    two = compute({**event, "children": [child(birth_date="2012-01-01"), *event["children"]]})
    younger, elder = two.scholarships.children
    assert elder.eligible and elder.total == 12_000_000
    assert [r.code for r in younger.reasons] == ["max_children"]
    assert two.total == 24_000_000 + 12_000_000


def test_pp44_jkk_one_off_scholarship_needs_no_period() -> None:
    """docs/regulations.md §5: the JKK scholarship was a one-off Rp 12,000,000."""
    result = compute(
        {
            "type": "jkk",
            "event_date": "2018-02-01",
            "wage": 1_000_000,
            "death": True,
            "children": [child(birth_date="2010-01-01")],
        }
    )
    assert result.scholarships.total == 12_000_000


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"year_in_level": 9}, "children[0].year_in_level", "above_maximum"),
        ({"year_in_level": None}, "children[0].year_in_level", "required"),
        ({"level": "college"}, "children[0].level", "unknown_level"),
        ({"working": "sometimes"}, "children[0].working", "unknown_working"),
        ({"school_start_year": 2027}, "children[0].school_start_year", "not_applicable"),
    ],
)
def test_bad_child_input(fields: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(RuleInputError) as caught:
        jkm_death([child(**fields)])
    assert (caught.value.field, caught.value.code) == (field, code)


def test_jkm_scholarship_requires_contribution_months() -> None:
    with pytest.raises(RuleInputError) as caught:
        compute({"type": "jkm", "event_date": "2026-08-01", "children": [child()]})
    assert (caught.value.field, caught.value.code) == ("contribution_months", "required")


def test_arrears_delay_scholarship_too() -> None:
    """docs/regulations.md §3: scholarships are paid once the heirs pay the arrears."""
    result = jkm_death([child()], months_in_arrears=1)
    due = [line for line in scholarship_lines(result) if line in result.lines]
    assert due and {line.payable for line in due} == {"after_arrears"}
    assert result.total_now == 10_000_000
