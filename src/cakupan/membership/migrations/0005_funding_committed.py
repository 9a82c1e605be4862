"""FundingAssignment.committed: what each programme assignment commits the programme to (Rp),
stored when written instead of re-priced on every view; existing rows are priced here with
the same rules engine (funding.selectors.cost_of)."""

from types import SimpleNamespace

from django.db import migrations, models


def fill_committed(apps, schema_editor):
    """Price each distinct (programme, sector, first month, last month) once, then fill every
    programme row in one UPDATE reading those prices (a million rows: one statement)."""
    from django.db import connection

    from cakupan.funding.models import RULES_FUNDING
    from cakupan.funding.selectors import cost_of

    FundingAssignment = apps.get_model("membership", "FundingAssignment")
    FundingProgramme = apps.get_model("funding", "FundingProgramme")
    Membership = apps.get_model("membership", "Membership")
    Worker = apps.get_model("registry", "Worker")
    Occupation = apps.get_model("registry", "Occupation")
    prices = []
    for programme in FundingProgramme.objects.select_related("sponsor"):
        keys = list(
            FundingAssignment.objects.filter(programme=programme)
            .order_by()  # the model's ordering would make every row distinct
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
        # an open end is stored as the programme's last month, the same as the row's cost
        for (sector, first, last), cost in zip(keys, costs, strict=True):
            prices.append((programme.pk, sector, first, last, int(cost)))
    if not prices:
        return
    fa = FundingAssignment._meta.db_table
    m, w, o = Membership._meta.db_table, Worker._meta.db_table, Occupation._meta.db_table
    day = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS tmp_committed")
        cursor.execute(
            "CREATE TEMPORARY TABLE tmp_committed (programme_id bigint, sector varchar(40), "
            "first_month date, last_month date, cost bigint)"
        )
        cursor.executemany(
            "INSERT INTO tmp_committed VALUES (%s, %s, %s, %s, %s)",
            [(p, s, day(f), day(last) if last else None, c) for p, s, f, last, c in prices],
        )
        cursor.execute(
            f"""
            UPDATE {fa} SET committed = COALESCE((
              SELECT t.cost FROM tmp_committed t
              JOIN {o} oc ON oc.sector = t.sector
              JOIN {w} wk ON wk.occupation_id = oc.id
              JOIN {m} ms ON ms.worker_id = wk.id
              WHERE ms.id = {fa}.membership_id AND t.programme_id = {fa}.programme_id
                AND t.first_month = {fa}.first_month
                AND (t.last_month = {fa}.last_month
                     OR (t.last_month IS NULL AND {fa}.last_month IS NULL))
            ), 0)
            WHERE programme_id IS NOT NULL
            """
        )
        cursor.execute("DROP TABLE tmp_committed")


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
