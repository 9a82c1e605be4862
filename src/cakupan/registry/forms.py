"""Forms of the registry pages: they parse input; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cakupan.formkit import AsciiDigitsForm
from cakupan.regions.selectors import city_kecamatan, city_kelurahan
from cakupan.registry.models import Disability, Heir, Sex
from cakupan.registry.selectors import occupation_list


def kelurahan_choices() -> list:
    """Kelurahan grouped by kecamatan, as <optgroup>s."""
    groups = []
    by_kec: dict[str, list[tuple[str, str]]] = {}
    for kel in city_kelurahan():
        by_kec.setdefault(kel.parent_id, []).append((kel.code, kel.name))
    for kec in city_kecamatan():
        groups.append((f"Kec. {kec.name}", by_kec.get(kec.code, [])))
    return [("", "—"), *groups]


def occupation_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((o.code, o.name) for o in occupation_list())]


class WorkerForm(AsciiDigitsForm):
    digit_fields = ("nik", "phone")

    nik = forms.CharField(
        label=_("NIK"),
        max_length=40,
        help_text=_("16 digits, from the ID card (KTP) or family card (KK)"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    kelurahan = forms.ChoiceField(label=_("Kelurahan of domicile"))
    occupation = forms.ChoiceField(label=_("Occupation"))
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    welfare_decile = forms.TypedChoiceField(
        label=_("Welfare decile (DTSEN)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Unknown"))] + [(str(i), str(i)) for i in range(1, 11)],
    )
    disability = forms.ChoiceField(
        label=_("Disability"), choices=Disability.choices, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kelurahan"].choices = kelurahan_choices()
        self.fields["occupation"].choices = occupation_choices()


class HeirForm(AsciiDigitsForm):
    digit_fields = ("nik",)

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    relation = forms.ChoiceField(label=_("Relation"), choices=Heir.Relation.choices)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    nik = forms.CharField(label=_("NIK"), max_length=40, required=False)


class NikCheckForm(AsciiDigitsForm):
    digit_fields = ("niks",)

    niks = forms.CharField(
        label=_("NIKs, one per line"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
    )
