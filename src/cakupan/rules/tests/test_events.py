"""The JSON event parser: every bad field is reported with its path."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cakupan.rules import RuleInputError, benefits_from_dict, event_from_dict
from cakupan.rules.events import Death, WorkAccident

BASE: dict[str, Any] = {"type": "jkk", "event_date": "2026-03-10", "wage": 1_000_000}


def test_parses_a_full_work_accident() -> None:
    event = event_from_dict(
        {
            **BASE,
            "stmb": {"from": "2026-03-10", "to": "2026-04-08"},
            "medical_bills": [1, 2],
            "transport": [{"mode": "sea", "amount": 5}],
            "disability": [{"item": "scalp", "percent": 12}],
            "months_in_arrears": 1,
        }
    )
    assert isinstance(event, WorkAccident)
    assert event.stmb is not None and event.stmb.days == 30
    assert event.medical_bills == (1, 2)
    assert event.disability[0].percent == 12


def test_parses_a_death() -> None:
    assert isinstance(event_from_dict({"type": "jkm", "event_date": "2026-01-01"}), Death)


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({**BASE, "stmb": {"weeks": 2}}, "stmb.weeks", "unknown_field"),
        ({**BASE, "colour": "red"}, "colour", "unknown_field"),
        ({"type": "jkm", "event_date": "2026-01-01", "wage": 1}, "wage", "unknown_field"),
        ({"event_date": "2026-01-01"}, "type", "required"),
        ({"type": "jkx", "event_date": "2026-01-01"}, "type", "unknown_type"),
        ({"type": "jkk", "wage": 1}, "event_date", "required"),
        ({**BASE, "event_date": "10/03/2026"}, "event_date", "invalid_date"),
        ({**BASE, "disability": {"item": "eye_one"}}, "disability", "not_a_list"),
        ({**BASE, "disability": [{"percent": 3}]}, "disability[0].item", "required"),
        ({**BASE, "wage": "1.000.000"}, "wage", "not_an_integer"),
        ({**BASE, "death": "yes"}, "death", "not_a_boolean"),
        ({**BASE, "medical_bills": [1, -3]}, "medical_bills[1]", "negative"),
        ({**BASE, "stmb": {"from": "2026-02-01", "to": "2026-01-01"}}, "stmb.to", "before_start"),
        ({**BASE, "stmb": {"from": "2026-02-01", "months": 1}}, "stmb", "conflicting_fields"),
        (
            {**BASE, "death": True, "children": [{"level": "smp"}, {}]},
            "children[0].birth_date",
            "required",
        ),
        (
            {
                **BASE,
                "death": True,
                "children": [
                    {"birth_date": "2015-01-01", "level": "smp", "year_in_level": 1},
                    {"birth_date": "2015-02-30", "level": "smp"},
                ],
            },
            "children[1].birth_date",
            "invalid_date",
        ),
        ([1, 2], "event", "not_an_object"),
    ],
)
def test_bad_json_names_the_path(data: Any, field: str, code: str) -> None:
    with pytest.raises(RuleInputError) as caught:
        benefits_from_dict(data, as_of=date(2026, 12, 1))
    error = caught.value
    assert (error.field, error.code) == (field, code)
    assert set(error.to_dict()) == {"field", "code", "message", "message_en"}


def test_dates_outside_1900_2100_are_refused_naming_the_field() -> None:
    from cakupan.rules import RuleInputError, benefits_from_dict

    event = {
        "type": "jkm",
        "event_date": "9999-06-01",
        "contribution_months": 40,
        "children": [{"birth_date": "2020-01-01", "level": "not_in_school"}],
    }
    with pytest.raises(RuleInputError) as exc:
        benefits_from_dict(event, as_of=date(2026, 12, 1))
    assert (exc.value.field, exc.value.code) == ("event_date", "date_out_of_range")
