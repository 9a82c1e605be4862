"""The calculator API: golden figures, 422 naming the field, roles, the OpenAPI description."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CONTRIBUTION = "/api/v1/calculate/contribution"
BENEFITS = "/api/v1/calculate/benefits"


@pytest.fixture
def officer(api_client):
    return api_client("bpjs_officer")


def _post(client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "total"),
    [
        ({"income": 1_000_000, "month": "2025-06"}, 16_800),  # docs/regulations.md §3
        ({"income": 1_000_000, "month": "2025-06", "jht": True}, 36_800),  # §3 with JHT
        ({"income": 1_000_000, "month": "2026-11", "sector": "transport", "funding": "csr"}, 8_400),
        (
            {"income": 1_000_000, "month": "2026-11", "sector": "transport", "funding": "apbd"},
            16_800,
        ),
        ({"income": 50_000_000, "month": "2025-06"}, 213_800),  # top bracket
        ({"income": 50_000_000, "month": "2025-06", "business_owner": True}, 627_800),
    ],
)
def test_contribution_golden_figures(officer, body: dict, total: int) -> None:
    r = _post(officer, CONTRIBUTION, body)
    assert r.status_code == 200, r.content
    assert r.json()["total"] == total


def test_contribution_is_itemised_with_its_legal_basis(officer) -> None:
    body = {"income": 1_000_000, "month": "2026-11", "sector": "transport", "funding": "apbd"}
    data = _post(officer, CONTRIBUTION, body).json()
    assert data["bracket"] == 1 and data["base"] == 1_000_000 and data["month"] == "2026-11"
    lines = {line["programme"]: line for line in data["lines"]}
    assert (lines["jkk"]["gross"], lines["jkk"]["discount"], lines["jkk"]["net"]) == (
        10_000,
        0,
        10_000,
    )
    assert lines["jkm"]["basis"] and data["rule_ids"]
    assert [n["code"] for n in data["notes"]] == ["discount_government_funded"]


def test_contribution_month_defaults_to_this_month(officer) -> None:
    from django.utils import timezone

    data = _post(officer, CONTRIBUTION, {"income": 1_000_000}).json()
    assert data["month"] == timezone.localdate().strftime("%Y-%m")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"income": 1_000_000, "category": "astronaut"}, "category", "unknown_category"),
        ({"income": 1_000_000, "category": "pu"}, "category", "category_not_supported"),
        ({"income": 1_000_000, "sector": "piracy"}, "sector", "unknown_sector"),
        ({"income": 1_000_000, "funding": "lottery"}, "funding", "unknown_funding"),
        ({"income": 1_000_000, "month": "2010-01"}, "month", "no_rule_set"),
        ({"income": 1_000_000, "month": "2026-13"}, "month", "invalid_month"),
    ],
)
def test_contribution_rule_errors_are_422_naming_the_field(
    officer, body: dict, field: str, code: str
) -> None:
    r = _post(officer, CONTRIBUTION, body)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", field] and error["type"] == code
    assert error["msg"]  # Indonesian, from the engine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"income": -1}, "income"),
        ({"income": 10**13}, "income"),
        ({"income": 1_000_000, "colour": "red"}, "colour"),
        ({"income": "banyak"}, "income"),
    ],
)
def test_contribution_schema_errors_are_422_naming_the_field(
    officer, body: dict, field: str
) -> None:
    r = _post(officer, CONTRIBUTION, body)
    assert r.status_code == 422
    assert field in {d["loc"][-1] for d in r.json()["detail"]}


def test_jkm_death_is_42_million(officer) -> None:
    r = _post(officer, BENEFITS, {"type": "jkm", "event_date": "2026-03-15"})
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["total"] == data["total_now"] == 42_000_000
    assert {line["code"]: line["amount"] for line in data["lines"]} == {
        "lump_sum": 20_000_000,
        "periodic": 12_000_000,
        "funeral": 10_000_000,
    }


def test_jkk_death_at_the_lowest_bracket_is_70_million(officer) -> None:
    body = {"type": "jkk", "event_date": "2026-03-15", "income": 900_000, "death": True}
    data = _post(officer, BENEFITS, body).json()
    assert data["wage"] == 1_000_000
    assert data["total"] == 70_000_000 and data["as_incurred"] is True


def test_arrears_two_months_pays_the_funeral_now(officer) -> None:
    body = {"type": "jkm", "event_date": "2026-03-15", "months_in_arrears": 2}
    data = _post(officer, BENEFITS, body).json()
    assert (data["total_now"], data["total_after_arrears"]) == (10_000_000, 32_000_000)
    body["months_in_arrears"] = 4
    data = _post(officer, BENEFITS, body).json()
    assert data["total"] == 0
    assert {line["payable"] for line in data["lines"]} == {"not_payable"}


def test_scholarship_schedule_per_child(officer) -> None:
    body = {
        "type": "jkm",
        "event_date": "2026-03-15",
        "contribution_months": 40,
        "children": [
            {"name": "Ani", "birth_date": "2020-08-01", "level": "tk_sd", "year_in_level": 1},
            {"name": "Budi", "birth_date": "2001-01-10", "level": "s1", "year_in_level": 1},
        ],
    }
    data = _post(officer, BENEFITS, body).json()
    ani, budi = data["scholarships"]["children"]
    assert ani["eligible"] and ani["total"] == 87_000_000
    assert ani["schedule"][0] == {
        "school_year": "2025/2026",
        "level": "tk_sd",
        "year_in_level": 1,
        "amount": 1_500_000,
        "when": "past",  # 2025/2026 is over by now: due now, in lines
    }
    assert not budi["eligible"] and budi["reasons"][0]["code"] == "age_limit"


def test_stmb_from_and_to_dates_use_the_alias(officer) -> None:
    body = {
        "type": "jkk",
        "event_date": "2026-01-02",
        "wage": 1_000_000,
        "stmb": {"from": "2026-01-05", "to": "2026-02-03"},
    }
    r = _post(officer, BENEFITS, body)
    assert r.status_code == 200, r.content
    assert r.json()["lines"][1]["amount"] == 1_000_000  # 30 days of 100%


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {
                "type": "jkm",
                "event_date": "2026-03-15",
                "contribution_months": 40,
                "children": [
                    {"birth_date": "2015-01-01", "level": "smp", "year_in_level": 1, "chosen": True}
                ]
                * 3,
            },
            "children[2].chosen",
            "too_many_chosen",
        ),
        (
            {
                "type": "jkm",
                "event_date": "2026-03-15",
                "contribution_months": 40,
                "children": [{"birth_date": "2027-03-01", "level": "not_in_school"}],
            },
            "children[0].birth_date",
            "born_after_window",
        ),
        (
            {"type": "jkk", "event_date": "2026-03-15", "wage": 1, "disability": [{"item": "x"}]},
            "disability[0].item",
            "unknown_disability_item",
        ),
        (
            {
                "type": "jkk",
                "event_date": "2026-03-15",
                "wage": 1,
                "disability": [{"item": "scalp", "percent": 40}],
            },
            "disability[0].percent",
            "above_maximum",
        ),
        ({"type": "jkk", "event_date": "2026-03-15"}, "wage", "wage_or_income"),
        ({"type": "jkm", "event_date": "2010-03-15"}, "event_date", "no_rule_set"),
    ],
)
def test_benefit_rule_errors_are_422_naming_the_field(
    officer, body: dict, field: str, code: str
) -> None:
    r = _post(officer, BENEFITS, body)
    assert r.status_code == 422, r.content
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", field] and error["type"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "type": "jkk",
                "event_date": "2026-03-15",
                "wage": 1,
                "disability": [{"item": "eye_one", "function_loss_percent": 150}],
            },
            "function_loss_percent",
        ),
        ({"type": "jkm", "event_date": "2026-03-15", "spouse": "Sri"}, "spouse"),
        ({"type": "jkx", "event_date": "2026-03-15"}, "type"),
        ({"type": "jkm", "event_date": "9999-12-31"}, "event_date"),
        ({"type": "jkm", "event_date": "2026-03-15", "months_in_arrears": -1}, "months_in_arrears"),
    ],
)
def test_benefit_schema_errors_are_422_naming_the_field(officer, body: dict, field: str) -> None:
    r = _post(officer, BENEFITS, body)
    assert r.status_code == 422, r.content
    assert field in {d["loc"][-1] for d in r.json()["detail"]}


@pytest.mark.parametrize("path", [CONTRIBUTION, BENEFITS])
def test_hospital_role_is_403_and_anonymous_401(api_client, path: str) -> None:
    assert _post(api_client("hospital"), path, {}).status_code == 403
    assert _post(Client(), path, {}).status_code == 401


@pytest.mark.parametrize("role", ["admin", "bpjs_officer", "city_officer", "sponsor"])
def test_every_calculator_role_may_compute(api_client, role: str) -> None:
    r = _post(api_client(role), CONTRIBUTION, {"income": 1_000_000, "month": "2026-11"})
    assert r.status_code == 200


def test_openapi_documents_inputs_and_outputs() -> None:
    from cakupan.api import api

    spec = api.get_openapi_schema(path_prefix="/api")
    schemas = spec["components"]["schemas"]
    op = spec["paths"]["/api/v1/calculate/benefits"]["post"]
    assert {str(code) for code in op["responses"]} >= {"200", "422"}
    event = schemas["EventIn"]
    assert event["additionalProperties"] is False
    assert {"type", "event_date", "children", "stmb", "disability", "transport"} <= set(
        event["properties"]
    )
    assert "from" in schemas["IncapacityIn"]["properties"]
    assert {"lines", "schedule", "scholarships", "total_now", "total_later"} <= set(
        schemas["BenefitsOut"]["properties"]
    )
    assert "chosen" in schemas["ChildIn"]["properties"]
    assert "transport" in schemas["ContributionIn"]["properties"]["sector"]["description"]


# Issue 8: what is paid when. The server passes today (Asia/Jakarta) as the as-of date.


def _tomorrow() -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


def test_a_future_event_is_422_naming_event_date(officer) -> None:
    r = _post(officer, BENEFITS, {"type": "jkm", "event_date": _tomorrow()})
    assert r.status_code == 422, r.content
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "event_date"] and error["type"] == "event_in_future"
    assert "setelah hari ini" in error["msg"]


def test_jkm_after_40_months_pays_42_million_now_and_schedules_two_children(officer) -> None:
    """docs/regulations.md §5-§6: 42,000,000 now; each child this school year's instalment now and the
    later school years apart; the total is the sum of the three."""
    from django.utils import timezone

    today = timezone.localdate()
    school_year = today.year if today.month >= 7 else today.year - 1
    body = {
        "type": "jkm",
        "event_date": today.isoformat(),
        "contribution_months": 40,
        "children": [
            {"name": "Ani", "birth_date": "2019-01-10", "level": "tk_sd", "year_in_level": 3},
            {"name": "Budi", "birth_date": "2012-02-01", "level": "smp", "year_in_level": 1},
        ],
    }
    r = _post(officer, BENEFITS, body)
    assert r.status_code == 200, r.content
    data = r.json()
    now_lines = [line for line in data["lines"] if line["payable"] == "now"]
    assert data["total_now"] == sum(line["amount"] for line in now_lines)
    assert data["total_now"] == 42_000_000 + 1_500_000 + 2_000_000
    scholarship_now = [line for line in data["lines"] if line["code"].startswith("scholarship")]
    assert {line["school_year"] for line in scholarship_now} == {f"{school_year}/{school_year + 1}"}
    assert data["total_later"] == sum(line["amount"] for line in data["schedule"])
    assert all(line["school_year"] > scholarship_now[0]["school_year"] for line in data["schedule"])
    assert data["total"] == data["total_now"] + data["total_after_arrears"] + data["total_later"]
    assert data["total"] == 42_000_000 + data["scholarships"]["total"]


def test_three_children_two_scheduled_one_max_children(officer) -> None:
    body = {
        "type": "jkm",
        "event_date": "2026-03-15",
        "contribution_months": 40,
        "children": [
            {"name": "Ani", "birth_date": "2015-01-01", "level": "smp", "year_in_level": 1},
            {"name": "Budi", "birth_date": "2010-01-01", "level": "sma", "year_in_level": 1},
            {"name": "Citra", "birth_date": "2018-01-01", "level": "tk_sd", "year_in_level": 3},
        ],
    }
    r = _post(officer, BENEFITS, body)
    assert r.status_code == 200, r.content
    ani, budi, citra = r.json()["scholarships"]["children"]
    assert ani["eligible"] and budi["eligible"] and ani["schedule"] and budi["schedule"]
    assert not citra["eligible"] and citra["schedule"] == []
    assert [reason["code"] for reason in citra["reasons"]] == ["max_children"]
    # the heirs' choice wins over age
    body["children"][2]["chosen"] = True
    ani, budi, citra = _post(officer, BENEFITS, body).json()["scholarships"]["children"]
    assert citra["eligible"] and citra["chosen"] and budi["eligible"]
    assert [reason["code"] for reason in ani["reasons"]] == ["max_children"]
