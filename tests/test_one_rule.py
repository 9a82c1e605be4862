"""One rule in one place: every user of the vulnerability rule, the phone rule and the sector
vocabulary gets the same cases and must agree (issue 8)."""

from __future__ import annotations

import polars as pl
import pytest

from cakupan.registry.phones import is_valid_phone, normalise_phone, phone_expr

pytestmark = pytest.mark.usefixtures("malang")

# (typed, normalised, valid)
PHONES = [
    ("081234567890", "081234567890", True),
    ("+62 812-3456-7890", "081234567890", True),
    ("62812 3456 7890", "081234567890", True),
    ("81234567890", "081234567890", True),  # the leading zero a spreadsheet dropped
    ("(0812) 3456.7890", "081234567890", True),
    ("0341-551234", "0341551234", False),  # a landline
    ("0812", "0812", False),
    ("halo", "halo", False),
    ("", "", False),
]


@pytest.mark.parametrize(("typed", "normalised", "valid"), PHONES)
def test_the_phone_rule_for_a_value(typed: str, normalised: str, valid: bool) -> None:
    assert normalise_phone(typed) == normalised and is_valid_phone(normalised) is valid


def test_the_phone_rule_for_a_column_agrees_with_the_value_rule() -> None:
    frame = pl.DataFrame({"no_hp": [t for t, _n, _v in PHONES]})
    assert frame.select(phone_expr("no_hp"))["no_hp"].to_list() == [n for _t, n, _v in PHONES]


@pytest.mark.parametrize(("typed", "normalised", "valid"), [p for p in PHONES if p[0]])
def test_the_registry_service_applies_the_phone_rule(
    typed: str, normalised: str, valid: bool
) -> None:
    from cakupan.registry.services import WorkerInvalid, worker_create
    from cakupan.registry.tests.factories import worker_data

    if valid:
        assert worker_create(data=worker_data(phone=typed)).phone == normalised
    else:
        with pytest.raises(WorkerInvalid) as exc:
            worker_create(data=worker_data(phone=typed))
        assert "phone" in exc.value.errors


# (occupation vulnerable, disability, welfare decile, vulnerable)
VULNERABILITY = [
    ("ojol", "", None, True),  # a vulnerable occupation
    ("pns", "", None, False),
    ("pns", "physical", None, True),
    ("pns", "", 4, True),
    ("pns", "", 5, False),
    ("pns", "", 1, True),
]


def test_every_user_of_the_vulnerability_rule_agrees(make_user) -> None:
    from cakupan.membership.selectors import registry_frame
    from cakupan.registry.models import Occupation, Worker
    from cakupan.registry.selectors import WorkerFilters, registry_counts, worker_list
    from cakupan.registry.tests.factories import make_worker

    Occupation.objects.get_or_create(
        code="pns", defaults={"name": "PNS", "name_en": "Civil servant", "sector": "services"}
    )
    expected = {}
    for occupation, disability, decile, vulnerable in VULNERABILITY:
        w = make_worker(occupation=occupation, disability=disability, welfare_decile=decile)
        expected[w.pk] = vulnerable
    officer = make_user("bpjs_officer")
    by_model = {w.pk: w.is_vulnerable for w in Worker.objects.select_related("occupation")}
    by_filter = set(
        worker_list(user=officer, filters=WorkerFilters(vulnerable=True)).values_list(
            "pk", flat=True
        )
    )
    frame = registry_frame()
    by_sql = dict(zip(frame["worker_id"].to_list(), frame["vulnerable"].to_list(), strict=True))
    assert by_model == expected
    assert by_filter == {pk for pk, v in expected.items() if v}
    assert by_sql == expected
    assert registry_counts(user=officer, city_code="35.73").vulnerable == sum(expected.values())


def test_sectors_come_from_the_rules_vocabulary() -> None:
    from cakupan.funding.forms import ProgrammeForm
    from cakupan.funding.models import Sponsor
    from cakupan.registry.models import Occupation
    from cakupan.registry.vocabulary import sector_codes
    from cakupan.rules import default_rules

    vocabulary = set(default_rules().vocabulary(__import__("datetime").date.today(), "day").sectors)
    assert sector_codes() == vocabulary
    assert {c for c, _l in Occupation._meta.get_field("sector").choices} == vocabulary
    assert set(Occupation.objects.values_list("sector", flat=True)) <= vocabulary
    form_sectors = {
        c for c, _l in ProgrammeForm(sponsors=Sponsor.objects.none()).fields["sectors"].choices
    }
    assert form_sectors - {""} == vocabulary


def test_every_sponsor_type_prices_with_a_funding_code_of_the_vocabulary() -> None:
    import datetime as dt

    from cakupan.funding.models import Sponsor, SponsorType
    from cakupan.rules import default_rules

    funding = set(default_rules().vocabulary(dt.date.today(), "day").funding)
    for code, _label in SponsorType.choices:
        assert Sponsor(type=code).rules_funding in funding
