"""CHECK constraints: a stored NIK is 16 ASCII digits (an heir's may be empty).

The rows 0003 had to leave (a worker registered twice, once with non-ASCII digits, waiting for
an officer to merge the records) must not stop the upgrade, so the constraints are added for
every row written from now on and checked against the old ones only where they all pass:
PostgreSQL adds them NOT VALID and validates them when nothing violates them; SQLite, which
rebuilds the table to add a constraint, copies the rows with CHECK constraints ignored.
"""

from django.conf import settings
from django.db import migrations, models

import cakupan.registry.models


class AddConstraintSparingOldRows(migrations.AddConstraint):
    """AddConstraint that binds new writes but does not refuse the rows already stored."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"{self.constraint.create_sql(model, schema_editor)} NOT VALID")
            clean = schema_editor.collect_sql or not (
                model._default_manager.exclude(self.constraint.condition).exists()
            )
            if clean:
                qn = schema_editor.quote_name
                schema_editor.execute(
                    f"ALTER TABLE {qn(model._meta.db_table)} "
                    f"VALIDATE CONSTRAINT {qn(self.constraint.name)}"
                )
        elif vendor == "sqlite":
            schema_editor.execute("PRAGMA ignore_check_constraints = 1")
            try:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
            finally:
                schema_editor.execute("PRAGMA ignore_check_constraints = 0")
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ('regions', '0001_initial'),
        ('registry', '0003_nik_normalise_stored'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddConstraintSparingOldRows(
            model_name='heir',
            constraint=models.CheckConstraint(condition=models.Q(('nik', ''), cakupan.registry.models.AsciiDigits('nik', 16), _connector='OR'), name='heir_nik_empty_or_16_ascii_digits'),
        ),
        AddConstraintSparingOldRows(
            model_name='worker',
            constraint=models.CheckConstraint(condition=models.Q(cakupan.registry.models.AsciiDigits('nik', 16)), name='worker_nik_16_ascii_digits'),
        ),
    ]
