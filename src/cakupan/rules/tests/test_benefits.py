"""Benefits: the docs/regulations.md §3-§5 golden figures, arrears, disability table, bad input."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.rules import BenefitResult, RuleInputError, benefits, benefits_from_dict
from cakupan.rules.events import Death, WorkAccident

# A fixed "today": the engine never reads the clock, so every figure here is reproducible.
AS_OF = date(2026, 12, 1)


def jkk(**fields: Any) -> BenefitResult:
    return benefits_from_dict(
        {"type": "jkk", "event_date": "2026-03-10", "wage": 1_000_000, **fields}, as_of=AS_OF
    )


def jkm(**fields: Any) -> BenefitResult:
    return benefits_from_dict({"type": "jkm", "event_date": "2026-03-10", **fields}, as_of=AS_OF)


def amounts(result: BenefitResult) -> dict[str, int | None]:
    return {line.code: line.amount for line in result.lines}


def test_jkm_death_42_million() -> None:
    """docs/regulations.md §5: 20,000,000 + 24 × 500,000 + 10,000,000 = Rp 42,000,000."""
    result = jkm()
    assert amounts(result) == {
        "lump_sum": 20_000_000,
        "periodic": 12_000_000,
        "funeral": 10_000_000,
    }
    assert result.total == 42_000_000
    assert result.rule_ids == ("jkm-pp82-2019",)
    assert {line.payable for line in result.lines} == {"now"}


def test_jkm_death_june_2019_is_24_million() -> None:
    """docs/regulations.md §5: before PP 82/2019, 16,200,000 + 24 × 200,000 + 3,000,000 = 24,000,000."""
    result = jkm(event_date="2019-06-15")
    assert amounts(result) == {"lump_sum": 16_200_000, "periodic": 4_800_000, "funeral": 3_000_000}
    assert result.total == 24_000_000
    assert result.rule_ids == ("jkm-pp44-2015",)


@pytest.mark.parametrize(
    ("event_date", "total"),
    [("2015-07-01", 24_000_000), ("2019-12-01", 24_000_000), ("2019-12-02", 42_000_000)],
)
def test_jkm_generation_boundary_is_promulgation_day(event_date: str, total: int) -> None:
    """docs/regulations.md §5: PP 82/2019 applies to deaths from 2019-12-02."""
    assert jkm(event_date=event_date).total == total


def test_jkk_death_lowest_bracket_70_million() -> None:
    """docs/regulations.md §4 worked example: 48 × 1,000,000 + 12,000,000 + 10,000,000 = 70,000,000."""
    result = jkk(death=True)
    assert amounts(result) == {
        "medical_care": None,
        "death": 48_000_000,
        "death_periodic": 12_000_000,
        "funeral": 10_000_000,
    }
    assert result.total == 70_000_000
    assert result.as_incurred is True


def test_jkk_income_maps_to_bracket_base() -> None:
    """docs/regulations.md §4: a BPU's wage is the bracket base (income 3,000,000 → base 2,950,000)."""
    fields = {"type": "jkk", "event_date": "2026-03-10", "income": 3_000_000, "death": True}
    result = benefits_from_dict(fields, as_of=AS_OF)
    assert result.wage == 2_950_000
    assert result.line("death").amount == 48 * 2_950_000
    assert "bpu-contribution-pp44-2015" in result.rule_ids


@pytest.mark.parametrize("wage", [1_000_000, 2_950_000, 20_700_000])
def test_total_disability_56_times_wage_plus_12_million(wage: int) -> None:
    """docs/regulations.md §4: 70% × 80 × wage = 56 × wage, plus Rp 12,000,000 periodic."""
    result = jkk(wage=wage, total_disability=True)
    assert result.line("total_disability").amount == 56 * wage
    assert result.line("total_disability_periodic").amount == 12_000_000
    assert result.total == 56 * wage + 12_000_000


def test_stmb_14_months_at_base_1_million() -> None:
    """docs/regulations.md §4: 100% for months 1-12, then 50%: 12 × 1,000,000 + 2 × 500,000."""
    result = jkk(stmb={"months": 14})
    assert result.line("stmb_phase_1").amount == 12_000_000
    assert result.line("stmb_phase_2").amount == 1_000_000
    assert result.total == 13_000_000


def test_stmb_days_count_end_minus_start_plus_one_over_divisor_30() -> None:
    """docs/regulations.md §4 [L]: days = end − start + 1; daily = wage ÷ 30 (rounded down once)."""
    result = jkk(stmb={"from": "2026-01-01", "to": "2026-01-10"})
    assert result.line("stmb_phase_1").amount == 1_000_000 * 10 // 30 == 333_333
    assert result.line("stmb_phase_1").confidence == "L"
    across = jkk(stmb={"months": 12, "days": 15})
    assert across.line("stmb_phase_2").amount == 250_000


def test_stmb_before_pp82_is_6_months_100_then_6_months_75_then_50() -> None:
    """docs/regulations.md §4 [L]: pre-PP 82/2019 generation."""
    result = jkk(event_date="2019-06-15", stmb={"months": 14})
    assert [line.amount for line in result.lines if line.code.startswith("stmb")] == [
        6_000_000,
        4_500_000,
        1_000_000,
    ]
    assert result.rule_ids[0] == "jkk-pp44-2015"


def test_partial_disability_one_eye_and_arm_function_loss() -> None:
    """docs/regulations.md §4: one eye 35% × 80 × 1,000,000; arm 50% × 40% × 80 × 1,000,000."""
    result = jkk(
        disability=[
            {"item": "eye_one"},
            {"item": "arm_shoulder_right", "function_loss_percent": 50},
        ]
    )
    assert result.line("disability_0_eye_one").amount == 28_000_000
    assert result.line("disability_1_arm_shoulder_right").amount == 16_000_000
    assert result.line("disability_0_eye_one").confidence == "M"
    assert result.total == 44_000_000


def test_left_handed_swaps_arm_percentages() -> None:
    """docs/regulations.md §4: right 40, left 35, swapped for left-handed people."""
    result = jkk(left_handed=True, disability=[{"item": "arm_shoulder_left"}])
    assert result.line("disability_0_arm_shoulder_left").amount == 40 * 80 * 1_000_000 // 100


def test_range_and_per_unit_items() -> None:
    """docs/regulations.md §4: scalp 10-30 assessed; hearing reduction 6% per 10 dB (both ears)."""
    result = jkk(
        disability=[
            {"item": "scalp", "percent": 20},
            {"item": "hearing_reduction_both", "units": 3},
        ]
    )
    assert result.line("disability_0_scalp").amount == 16_000_000
    assert result.line("disability_1_hearing_reduction_both").amount == 14_400_000


@pytest.mark.parametrize(
    ("disability", "field", "code"),
    [
        (
            [{"item": "arm_shoulder_right", "function_loss_percent": 101}],
            "disability[0].function_loss_percent",
            "above_maximum",
        ),
        ([{"item": "eye_one"}, {"item": "tail"}], "disability[1].item", "unknown_disability_item"),
        ([{"item": "scalp"}], "disability[0].percent", "percent_required"),
        ([{"item": "scalp", "percent": 35}], "disability[0].percent", "above_maximum"),
        ([{"item": "eye_one", "percent": 40}], "disability[0].percent", "percent_fixed"),
        ([{"item": "hearing_reduction_both", "units": 17}], "disability[0].units", "above_maximum"),
        ([{"item": "visual_field"}], "disability[0].units", "units_required"),
    ],
)
def test_bad_disability_entries(disability: list[dict[str, Any]], field: str, code: str) -> None:
    with pytest.raises(RuleInputError) as caught:
        jkk(disability=disability)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_medical_bills_home_care_and_transport_caps() -> None:
    """docs/regulations.md §4: medical care without ceiling; home care ≤ 20,000,000; land ≤ 5,000,000."""
    result = jkk(
        medical_bills=[75_000_000, 500_000],
        home_care=25_000_000,
        transport=[{"mode": "land", "amount": 7_000_000}, {"mode": "air", "amount": 3_000_000}],
    )
    assert amounts(result) == {
        "medical_care": 75_500_000,
        "transport_land": 5_000_000,
        "transport_air": 3_000_000,
        "home_care": 20_000_000,
    }
    assert result.as_incurred is False
    assert result.line("transport_land").confidence == "M"


def test_jkm_two_months_in_arrears_funeral_now_rest_after_payment() -> None:
    """docs/regulations.md §3 arrears (PP 44/2015 Art. 42): funeral at once, the rest after payment."""
    result = jkm(months_in_arrears=2)
    payable = {line.code: line.payable for line in result.lines}
    assert payable == {"lump_sum": "after_arrears", "periodic": "after_arrears", "funeral": "now"}
    assert (result.total_now, result.total_after_arrears) == (10_000_000, 32_000_000)
    assert "arrears-pp44-2015" in result.rule_ids


def test_jkk_two_months_in_arrears_medical_now_cash_after() -> None:
    """docs/regulations.md §3 arrears: medical care at once; cash after recovery and payment."""
    result = jkk(months_in_arrears=2, stmb={"months": 2}, medical_bills=[1_000_000])
    assert result.line("medical_care").payable == "now"
    assert result.line("stmb_phase_1").payable == "after_arrears"
    assert "sembuh" in result.line("stmb_phase_1").note
    assert (result.total_now, result.total_after_arrears) == (1_000_000, 2_000_000)


@pytest.mark.parametrize("months", [4, 12])
def test_more_than_3_months_in_arrears_nothing_payable(months: int) -> None:
    """docs/regulations.md §3: beyond 3 months in arrears no JKK benefit and no JKM benefit at all."""
    for result in (
        jkm(months_in_arrears=months),
        jkk(months_in_arrears=months, death=True, medical_bills=[500_000]),
    ):
        assert {line.payable for line in result.lines} == {"not_payable"}
        assert result.total == 0


def test_three_months_in_arrears_is_still_within_the_limit() -> None:
    """docs/regulations.md §3: "more than 3" is the limit, so 3 months still pays the funeral now."""
    assert jkm(months_in_arrears=3).total_now == 10_000_000


def test_dataclass_input_equals_json_input() -> None:
    event = WorkAccident(event_date=date(2026, 3, 10), wage=1_000_000, death=True)
    assert benefits(event, as_of=AS_OF).to_dict() == jkk(death=True).to_dict()
    assert benefits(Death(event_date=date(2026, 3, 10)), as_of=AS_OF).total == 42_000_000


def test_to_dict_is_json_serialisable() -> None:
    result = jkk(
        death=True, children=[{"birth_date": "2015-01-01", "level": "tk_sd", "year_in_level": 5}]
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total"] == result.total
    assert data["lines"][0]["amount"] is None
    assert data["scholarships"]["children"][0]["schedule"][0]["level"] == "tk_sd"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"wage": None}, "wage", "wage_or_income"),
        ({"income": 1_000_000}, "wage", "wage_or_income"),
        ({"wage": -1}, "wage", "negative"),
        ({"event_date": "2014-12-31"}, "event_date", "no_rule_set"),
        ({"death": True, "total_disability": True}, "death", "conflicting_outcomes"),
        (
            {"total_disability": True, "disability": [{"item": "eye_one"}]},
            "disability",
            "conflicting_outcomes",
        ),
        (
            {"children": [{"birth_date": "2015-01-01", "level": "smp", "year_in_level": 1}]},
            "children",
            "scholarship_not_applicable",
        ),
        ({"transport": [{"mode": "rocket", "amount": 1}]}, "transport[0].mode", "unknown_mode"),
        ({"months_in_arrears": -2}, "months_in_arrears", "negative"),
    ],
)
def test_bad_jkk_input_names_the_field(fields: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(RuleInputError) as caught:
        jkk(**fields)
    assert (caught.value.field, caught.value.code) == (field, code)


lines_strategy = st.fixed_dictionaries(
    {
        "wage": st.sampled_from([1_000_000, 1_200_000, 2_950_000, 8_700_000, 20_700_000]),
        "months_in_arrears": st.integers(0, 6),
        "stmb": st.fixed_dictionaries({"months": st.integers(0, 30), "days": st.integers(0, 29)}),
        "medical_bills": st.lists(st.integers(0, 50_000_000), max_size=3),
        "outcome": st.sampled_from(["death", "total_disability", "none"]),
        "event_date": st.sampled_from(["2018-05-01", "2026-03-10"]),
    }
)


@settings(max_examples=80, deadline=None)
@given(case=lines_strategy)
def test_benefit_total_is_the_sum_of_payable_lines(case: dict[str, Any]) -> None:
    outcome = case.pop("outcome")
    flags = {outcome: True} if outcome != "none" else {}
    result = jkk(**case, **flags)
    payable = [
        line.amount
        for line in result.lines
        if line.amount is not None and line.payable != "not_payable"
    ]
    assert result.total == sum(payable) == result.total_now + result.total_after_arrears
    assert all(isinstance(line.amount, int) for line in result.lines)
