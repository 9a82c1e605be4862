# A bill's paid dates move from its own columns to an appended table of paid periods
# (models.BillPaid): existing paid dates are carried over before the columns go. A payment's
# membership loses its index (read from the payment only).

import django.db.models.deletion
from django.db import migrations, models


def carry_paid_dates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contributions_billpaid (bill_id, membership_id, month, paid_on, "
            "unpaid_from) SELECT id, membership_id, month, paid_on, unpaid_from "
            "FROM contributions_bill WHERE paid_on IS NOT NULL AND voided_at IS NULL"
        )


def restore_paid_dates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contributions_bill SET paid_on = (SELECT MAX(bp.paid_on) FROM "
            "contributions_billpaid bp WHERE bp.bill_id = contributions_bill.id), "
            "unpaid_from = (SELECT bp.unpaid_from FROM contributions_billpaid bp "
            "WHERE bp.bill_id = contributions_bill.id ORDER BY bp.id DESC LIMIT 1)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0002_ledger_links_checked"),
        ("membership", "0005_funding_committed"),
    ]

    operations = [
        migrations.CreateModel(
            name="BillPaid",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="month")),
                ("paid_on", models.DateField(verbose_name="paid on")),
                (
                    "unpaid_from",
                    models.DateField(blank=True, null=True, verbose_name="unpaid from"),
                ),
            ],
            options={
                "verbose_name": "paid period",
                "verbose_name_plural": "paid periods",
                "ordering": ["month", "paid_on", "id"],
            },
        ),
        migrations.AddField(
            model_name="billpaid",
            name="bill",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="paid_periods",
                to="contributions.bill",
            ),
        ),
        migrations.AddField(
            model_name="billpaid",
            name="membership",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="membership.membership",
            ),
        ),
        migrations.AddIndex(
            model_name="billpaid",
            index=models.Index(
                fields=["membership", "month", "paid_on", "unpaid_from"], name="billpaid_state"
            ),
        ),
        migrations.RunPython(carry_paid_dates, restore_paid_dates),
        migrations.RemoveIndex(model_name="bill", name="bill_live_paid"),
        migrations.RemoveField(model_name="bill", name="paid_on"),
        migrations.RemoveField(model_name="bill", name="unpaid_from"),
        migrations.RemoveIndex(model_name="payment", name="payment_membership"),
    ]
