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
        # rows with the same sector and months cost the same: price each distinct key once,
        # then one UPDATE per key (a million rows take a few statements, not a million)
        keys = list(
            FundingAssignment.objects.filter(programme=programme)
            .values_list("membership__worker__occupation__sector", "first_month", "last_month")
            .distinct()
        )
        if not keys:
            continue
        shim = SimpleNamespace(
            programmes=programme.programmes,
            sponsor=SimpleNamespace(
                rules_funding=RULES_FUNDING.get(programme.sponsor.type, programme.sponsor.type)
            ),
        )
        costs = cost_of(
            programme=shim,
            incomes=[programme.declared_income] * len(keys),
            sectors=[k[0] for k in keys],
            first_months=[k[1] for k in keys],
            last_months=[k[2] or programme.last_month for k in keys],
        )
        for (sector, first, last), cost in zip(keys, costs, strict=True):
            rows = FundingAssignment.objects.filter(
                programme=programme,
                first_month=first,
                membership__worker__occupation__sector=sector,
            )
            rows = rows.filter(last_month=last) if last else rows.filter(last_month__isnull=True)
            rows.update(committed=int(cost))


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
