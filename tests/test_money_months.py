"""One rule in one place: Rupiah and contribution months are parsed and written by
cakupan.money and cakupan.months, and every user of them reads the same cases the same way."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.money import AmountInvalid, format_number, format_rupiah, parse_rupiah
from cakupan.months import MonthInvalid, add_months, fmt_month, month_range, parse_month

AMOUNTS = [
    ("1500000", 1_500_000),
    ("1.500.000", 1_500_000),
    ("1,500,000", 1_500_000),
    ("Rp 1.500.000", 1_500_000),
    ("Rp. 16.800", 16_800),
    ("1.500.000,00", 1_500_000),
    ("１６８００", 16_800),  # typed on a phone keyboard
    ("0", 0),
    ("000016800", 16_800),
]
NOT_AMOUNTS = [
    "1,5",
    "-5",
    "abc",
    "1.500.000,50",
    "12.34.567",
    "",
    "10000000000000000",
    "9" * 5000,  # past Python's 4,300-digit limit of int(): refused, not a crash
]


@pytest.mark.parametrize(("text", "amount"), AMOUNTS)
def test_amounts_as_officers_write_them(text: str, amount: int) -> None:
    assert parse_rupiah(text) == amount


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_what_is_not_an_amount_is_refused_in_both_languages(text: str) -> None:
    with pytest.raises(AmountInvalid) as exc:
        parse_rupiah(text)
    assert "Rupiah" in str(exc.value) and "Rupiah" in exc.value.message_en


def test_rupiah_is_written_the_indonesian_way() -> None:
    assert format_rupiah(16_800) == "Rp 16.800"
    assert format_rupiah(42_000_000) == "Rp 42.000.000"
    assert format_rupiah(16_800, locale="en") == "Rp 16,800"


@pytest.mark.parametrize(("text", "amount"), AMOUNTS)
def test_the_calculator_form_reads_amounts_with_the_same_rule(text: str, amount: int) -> None:
    from cakupan.calculate.forms import RupiahField

    assert RupiahField(required=False).clean(text) == amount


@pytest.mark.parametrize("text", ["1,5", "abc", "1.500.000,50"])
def test_the_calculator_form_refuses_what_the_rule_refuses(text: str) -> None:
    from django import forms

    from cakupan.calculate.forms import RupiahField

    with pytest.raises(forms.ValidationError):
        RupiahField(required=False).clean(text)


def test_months() -> None:
    assert parse_month("2026-11") == dt.date(2026, 11, 1)
    assert parse_month(dt.date(2026, 11, 17)) == dt.date(2026, 11, 1)
    assert add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert list(month_range(dt.date(2026, 11, 1), dt.date(2027, 1, 1)))[-1] == dt.date(2027, 1, 1)
    assert fmt_month(None) == "…" and fmt_month(dt.date(2026, 3, 1)) == "2026-03"


@pytest.mark.parametrize("text", ["November", "2026-13", "2026-00", "26-11", "", "２０２６-11"])
def test_a_month_that_is_not_one_is_refused_the_same_way_by_every_user(text: str) -> None:
    from cakupan.rules.errors import RuleInputError
    from cakupan.rules.inputs import parse_month as rules_parse_month

    with pytest.raises(MonthInvalid):
        parse_month(text)
    with pytest.raises(RuleInputError) as exc:
        rules_parse_month(text, field="month")
    assert exc.value.field == "month"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("500000000", 500_000_000),
        ("500.000.000", 500_000_000),
        ("Rp 500.000.000", 500_000_000),
        ("１.０００.０００", 1_000_000),
        ("1.500.000,00", 1_500_000),
    ],
)
def test_a_rupiah_field_reads_what_an_officer_types(typed, read) -> None:
    from django import forms

    from cakupan.formkit import RupiahField

    class Form(forms.Form):
        budget = RupiahField(label="Anggaran")

    form = Form({"budget": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["budget"] == read
    # shown back the Indonesian way
    assert 'value="' + format_number(read) + '"' in str(Form(initial={"budget": read})["budget"])


@pytest.mark.parametrize("typed", ["500.000,5", "-5", "lima ratus", "1" * 20])
def test_a_rupiah_field_refuses_in_words(typed) -> None:
    from django import forms
    from django.utils import translation

    from cakupan.formkit import RupiahField

    class Form(forms.Form):
        budget = RupiahField(label="Anggaran")

    with translation.override("id"):
        form = Form({"budget": typed})
        assert not form.is_valid()
        assert "Rupiah bulat" in form.errors["budget"][0]
