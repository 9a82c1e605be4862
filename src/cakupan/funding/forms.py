"""Forms for sponsors and programmes: they parse; the services decide what is valid."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from cakupan.formkit import AsciiDigitsForm, RupiahField
from cakupan.funding.models import Sponsor, SponsorType
from cakupan.funding.services import MAX_COHORT_CAP
from cakupan.regions.selectors import city_kecamatan
from cakupan.registry.selectors import occupation_list
from cakupan.registry.vocabulary import sector_choices


class MonthField(forms.DateField):
    """An <input type="month">: '2026-11' → date(2026, 11, 1)."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]


class SponsorForm(AsciiDigitsForm):
    digit_fields = ("contact_phone",)

    name = forms.CharField(label=_("Name"), max_length=150)
    type = forms.ChoiceField(label=_("Source of funds"), choices=SponsorType.choices)
    contact_name = forms.CharField(label=_("Contact person"), max_length=150, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)


class ProgrammeForm(AsciiDigitsForm):
    sponsor = forms.ModelChoiceField(label=_("Sponsor"), queryset=Sponsor.objects.all())
    name = forms.CharField(label=_("Programme name"), max_length=150)
    fiscal_year = forms.IntegerField(label=_("Fiscal year"), min_value=2015, max_value=2100)
    first_month = MonthField(label=_("First month"))
    last_month = MonthField(label=_("Last month"))
    budget = RupiahField(label=_("Budget (Rp)"))
    jht = forms.BooleanField(label=_("Include old-age savings (JHT)"), required=False)
    declared_income = RupiahField(
        label=_("Declared monthly income (Rp)"),
        initial=1_000_000,
        help_text=_(
            "Picks the contribution bracket; Rp 1,000,000 is the lowest (Rp 16,800 a month)"
        ),
    )
    cohort_cap = forms.IntegerField(
        label=_("Maximum participants"), min_value=1, max_value=MAX_COHORT_CAP, required=False
    )
    occupations = forms.MultipleChoiceField(
        label=_("Only these occupations"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    sectors = forms.MultipleChoiceField(
        label=_("Only these sectors"),
        required=False,
        choices=sector_choices,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    kecamatan = forms.MultipleChoiceField(
        label=_("Only these kecamatan"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    vulnerable_only = forms.BooleanField(label=_("Vulnerable workers only"), required=False)
    min_age = forms.IntegerField(label=_("Minimum age"), min_value=0, max_value=120, required=False)
    max_age = forms.IntegerField(label=_("Maximum age"), min_value=0, max_value=120, required=False)

    def __init__(self, *args, sponsors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sponsors is not None:
            self.fields["sponsor"].queryset = sponsors
        self.fields["occupations"].choices = [(o.code, o.name) for o in occupation_list()]
        self.fields["kecamatan"].choices = [(k.code, k.name) for k in city_kecamatan()]
        year = dt.date.today().year
        self.fields["fiscal_year"].initial = year

    def eligibility(self) -> dict:
        c = self.cleaned_data
        rules: dict = {k: c[k] for k in ("occupations", "sectors", "kecamatan") if c.get(k)}
        if c.get("vulnerable_only"):
            rules["vulnerable_only"] = True
        for key in ("min_age", "max_age"):
            if c.get(key) is not None:
                rules[key] = c[key]
        return rules


class EnrolForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Funding programme"), queryset=None)

    def __init__(self, *args, programmes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
