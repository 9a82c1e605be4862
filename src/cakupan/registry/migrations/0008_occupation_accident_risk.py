# The work-accident risk group (1-5) of each occupation, an operator's judgement by analogy
# with PP 44/2015's five JKK risk groups (docs/regulations.md); the existing rows take the
# built-in catalogue's value.

import csv
from importlib import resources

import django.core.validators
from django.db import migrations, models


def from_catalogue(apps, schema_editor):
    Occupation = apps.get_model("registry", "Occupation")
    text = resources.files("cakupan.registry").joinpath("data/occupations.csv").read_text("utf-8")
    risk = {r["code"]: int(r["accident_risk"]) for r in csv.DictReader(text.splitlines())}
    for value in set(risk.values()):
        codes = [code for code, v in risk.items() if v == value]
        Occupation.objects.filter(code__in=codes).update(accident_risk=value)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_access_log_anonymous"),
    ]

    operations = [
        migrations.AddField(
            model_name="occupation",
            name="accident_risk",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="1 (very low) to 5 (very high), by analogy with the JKK risk groups",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(5),
                ],
                verbose_name="work accident risk",
            ),
        ),
        migrations.RunPython(from_catalogue, migrations.RunPython.noop),
    ]
