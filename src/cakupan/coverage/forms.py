"""Forms of the coverage pages: they parse; the services (planner, inputs) decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cakupan.coverage.planner import LOWEST_INCOME, MAX_MONTHS, Priority
from cakupan.formkit import AsciiDigitsForm
from cakupan.funding.forms import MonthField
from cakupan.funding.models import Sponsor, SponsorType
from cakupan.regions.selectors import city_code, city_kecamatan, city_kelurahan
from cakupan.registry.selectors import occupation_list


class PercentField(forms.DecimalField):
    """A percentage 0-100 with two decimals; a decimal comma is read as a point (72,5)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=100, decimal_places=2, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().rstrip("%").strip().replace(",", ".")
        return super().to_python(value)


class PlanForm(AsciiDigitsForm):
    """What both plans share: the funder, the priority and the package."""

    kind = forms.CharField(widget=forms.HiddenInput)
    first_month = MonthField(label=_("First month"))
    funder = forms.ChoiceField(
        label=_("Funder"),
        choices=[(k, v) for k, v in SponsorType.choices if k != SponsorType.SELF],
        initial=SponsorType.APBD,
        help_text=_("APBD and APBN pay without the PP 50/2025 discount"),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.CHOICES)
    w_vulnerability = forms.FloatField(
        label=_("Weight: vulnerability"), min_value=0, max_value=100, required=False, initial=1
    )
    w_risk = forms.FloatField(
        label=_("Weight: accident risk"), min_value=0, max_value=100, required=False, initial=1
    )
    w_gap = forms.FloatField(
        label=_("Weight: kelurahan gap"), min_value=0, max_value=100, required=False, initial=1
    )
    income = forms.IntegerField(
        label=_("Declared monthly income (Rp)"),
        min_value=0,
        max_value=10**12,
        initial=LOWEST_INCOME,
        help_text=_("Rp 1,000,000 is the lowest bracket"),
    )
    jht = forms.BooleanField(label=_("Include old-age savings (JHT)"), required=False)
    occupations = forms.MultipleChoiceField(
        label=_("Only these occupations"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occupations"].choices = [(str(o.pk), o.name) for o in occupation_list()]

    def common(self) -> dict:
        c = self.cleaned_data
        return {
            "first_month": c["first_month"],
            "funder": c["funder"],
            "priority": c["priority"],
            "weights": {
                "vulnerability": c.get("w_vulnerability") or 0,
                "risk": c.get("w_risk") or 0,
                "gap": c.get("w_gap") or 0,
            },
            "income": c["income"],
            "jht": c["jht"],
            "occupations": [int(o) for o in c["occupations"]],
        }


class ForwardForm(PlanForm):
    budget = forms.IntegerField(label=_("Budget (Rp)"), min_value=0, max_value=10**15)
    months = forms.IntegerField(label=_("Number of months"), min_value=1, max_value=MAX_MONTHS)
    kecamatan = forms.MultipleChoiceField(
        label=_("Only these kecamatan"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    kelurahan = forms.MultipleChoiceField(
        label=_("Only these kelurahan"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    field_order = ["kind", "budget", "first_month", "months", "funder", "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kecamatan"].choices = [(k.code, k.name) for k in city_kecamatan()]
        self.fields["kelurahan"].choices = [(k.code, k.name) for k in city_kelurahan()]

    def arguments(self) -> dict:
        c = self.cleaned_data
        return {
            **self.common(),
            "budget": c["budget"],
            "months": c["months"],
            "kecamatan": c["kecamatan"],
            "kelurahan": c["kelurahan"],
        }


class InverseForm(PlanForm):
    target = PercentField(label=_("Target UCJ (%)"))
    by_month = MonthField(label=_("Reached by (month)"))
    region = forms.ChoiceField(label=_("Region"))
    field_order = ["kind", "target", "region", "first_month", "by_month", "funder", "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(city_code(), _("The whole city"))] + [
            (k.code, k.name) for k in city_kecamatan()
        ]

    def arguments(self) -> dict:
        c = self.cleaned_data
        return {
            **self.common(),
            "target": c["target"],
            "by_month": c["by_month"],
            "region": c["region"],
        }


class SaveForm(forms.Form):
    name = forms.CharField(label=_("Scenario name"), max_length=150)


class MakeProgrammeForm(forms.Form):
    sponsor = forms.ModelChoiceField(label=_("Sponsor"), queryset=Sponsor.objects.none())
    name = forms.CharField(label=_("Programme name"), max_length=150)
    confirm = forms.BooleanField(
        label=_("I confirm: create the programme and enrol the chosen workers now"),
    )

    def __init__(self, *args, funder: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = Sponsor.objects.filter(type=funder)


# -- inputs ----------------------------------------------------------------------------------


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.name}"


class InputForm(AsciiDigitsForm):
    """The fields every input has: the region and the source."""

    region = RegionChoiceField(label=_("Region"), queryset=None)
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("The publication or file, e.g. BPS Sakernas Agustus 2024"),
    )
    source_date = forms.DateField(
        label=_("Source date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    url = forms.URLField(label=_("Link"), max_length=300, required=False, assume_scheme="https")
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        from cakupan.coverage.services import city_regions

        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = city_regions().order_by("code")

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["region"] = data["region"].code
        return data


class DenominatorForm(InputForm):
    period = MonthField(label=_("Survey month"))
    split = forms.ChoiceField(label=_("Split"), required=False)
    employed = forms.IntegerField(label=_("Employed population"), min_value=0, max_value=10**9)
    field_order = ["region", "period", "split", "employed"]

    def __init__(self, *args, **kwargs):
        from cakupan.coverage.models import Denominator

        super().__init__(*args, **kwargs)
        self.fields["split"].choices = Denominator.Split.choices


class AggregateForm(InputForm):
    month = MonthField(label=_("Month"))
    category = forms.ChoiceField(label=_("Category"))
    participants = forms.IntegerField(label=_("Active participants"), min_value=0, max_value=10**9)
    field_order = ["region", "month", "category", "participants"]

    def __init__(self, *args, **kwargs):
        from cakupan.coverage.models import Aggregate

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = Aggregate.Category.choices


class TargetForm(InputForm):
    year = forms.IntegerField(label=_("Target year"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=_("Plan"))
    percent = PercentField(label=_("Target UCJ (%)"))
    field_order = ["region", "year", "kind", "percent"]

    def __init__(self, *args, **kwargs):
        from cakupan.coverage.models import Target

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Target.Kind.choices


INPUT_FORMS = {"penyebut": DenominatorForm, "peserta": AggregateForm, "target": TargetForm}


class InputUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    check_only = forms.BooleanField(label=_("Only check, do not save"), required=False)
