"""FundingAssignment.committed: what each programme assignment commits the programme to (Rp),
stored when written instead of re-priced on every view; existing rows are priced here with
the same rules engine (funding.selectors.cost_of)."""

from types import SimpleNamespace

from django.db import migrations, models


def fill_committed(apps, schema_editor):
    from cakupan.funding.models import RULES_FUNDING
    from cakupan.funding.selectors import cost_of

    FundingAssignment = apps.get_model("membership", "FundingAssignment")
    FundingProgramme = apps.get_model("funding", "FundingProgramme")
    for programme in FundingProgramme.objects.select_related("sponsor"):
        rows = list(
            FundingAssignment.objects.filter(programme=programme).values_list(
                "pk", "membership__worker__occupation__sector", "first_month", "last_month"
            )
        )
        if not rows:
            continue
        shim = SimpleNamespace(
            programmes=programme.programmes,
            sponsor=SimpleNamespace(
                rules_funding=RULES_FUNDING.get(programme.sponsor.type, programme.sponsor.type)
            ),
        )
        costs = cost_of(
            programme=shim,
            incomes=[programme.declared_income] * len(rows),
            sectors=[r[1] for r in rows],
            first_months=[r[2] for r in rows],
            last_months=[r[3] or programme.last_month for r in rows],
        )
        FundingAssignment.objects.bulk_update(
            [
                FundingAssignment(pk=pk, committed=int(cost))
                for (pk, *_rest), cost in zip(rows, costs, strict=True)
            ],
            ["committed"],
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0004_auto_links"),
        ("funding", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="fundingassignment",
            name="committed",
            field=models.BigIntegerField(default=0, verbose_name="committed (Rp)"),
        ),
        migrations.RunPython(fill_committed, migrations.RunPython.noop),
    ]
