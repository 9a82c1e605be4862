"""NIKs stored with full-width or other non-ASCII digits (accepted before 0002) become ASCII.

A worker whose ASCII NIK another worker already holds is the same person registered twice: it
is left as it is, for an officer to merge by hand. `cakupan nik normalise` lists such workers
(and runs this again); see docs/nik.md.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from cakupan.registry.services import stored_niks_normalise

    repair = stored_niks_normalise(
        worker_model=apps.get_model("registry", "Worker"),
        heir_model=apps.get_model("registry", "Heir"),
    )
    left = len(repair.twins) + len(repair.unreadable)
    if left:
        print(
            f"\n  {left} pekerja dengan NIK beraksara non-ASCII tidak dapat diubah otomatis "
            "(NIK yang sama sudah terdaftar). Jalankan `cakupan nik normalise` untuk daftarnya."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_nik_ascii_validator"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
