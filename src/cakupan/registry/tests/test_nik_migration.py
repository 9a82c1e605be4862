"""Stored NIKs written with non-ASCII digits before the fix: normalised by migration 0003, the
ASCII-twin case left and listed, and CHECK constraints (0004) that bind every new write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from typer.testing import CliRunner

from cakupan.cli import app

FW = str.maketrans({d: chr(0xFF10 + int(d)) for d in "0123456789"})
AR = str.maketrans({d: chr(0x0660 + int(d)) for d in "0123456789"})
ALONE, TWIN, HEIR = "3573054512900001", "3573051506880002", "3573054109140003"


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("registry", target)])
    executor.loader.build_graph()


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """A test here walks the registry back to an old migration: the tests after it need the
    schema of every migration, later ones included."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration_normalises_stored_niks_and_leaves_twins_for_an_officer() -> None:
    from cakupan.regions.services import regions_load_builtin
    from cakupan.registry.services import occupations_load_builtin

    regions_load_builtin()
    occupations_load_builtin()
    _migrate("0002_nik_ascii_validator")
    old = (
        MigrationExecutor(connection)
        .loader.project_state(("registry", "0002_nik_ascii_validator"))
        .apps
    )
    Worker, Heir = old.get_model("registry", "Worker"), old.get_model("registry", "Heir")
    occupation = old.get_model("registry", "Occupation").objects.get(code="ojol")

    def worker(nik: str, name: str):
        return Worker.objects.create(
            nik=nik,
            full_name=name,
            birth_date=dt.date(1990, 1, 1),
            sex="L",
            kelurahan_id="35.73.05.1011",
            occupation=occupation,
        )

    alone = worker(ALONE.translate(FW), "Tanpa Kembaran")
    ascii_one = worker(TWIN, "Budi")
    twin = worker(TWIN.translate(AR), "Budi Lagi")
    Heir.objects.create(
        worker=alone,
        full_name="Putri",
        nik=HEIR.translate(FW),
        birth_date=dt.date(2014, 9, 1),
        relation="child",
    )

    _migrate("0004_nik_check_constraints")

    from cakupan.registry.models import Heir as NewHeir
    from cakupan.registry.models import Worker as NewWorker

    assert NewWorker.objects.get(pk=alone.pk).nik == ALONE
    assert NewWorker.objects.get(pk=ascii_one.pk).nik == TWIN
    assert NewWorker.objects.get(pk=twin.pk).nik == TWIN.translate(AR)  # left for an officer
    assert NewHeir.objects.get().nik == HEIR

    # the command lists the twin beside the worker holding its ASCII NIK, and fails until merged
    out = CliRunner().invoke(app, ["nik", "normalise"])
    assert out.exit_code == 1
    assert f"{twin.pk}" in out.stdout and f"{ascii_one.pk}" in out.stdout
    assert "Budi Lagi" in out.stdout and TWIN not in out.stdout  # NIKs are shown masked

    # every new write is bound by the constraints, whatever path it takes
    for bad in (ALONE[:-1].translate(FW) + "9", "35730545129000", "357305451290000x"):
        with pytest.raises(IntegrityError), transaction.atomic():
            NewWorker.objects.filter(pk=alone.pk).update(nik=bad)
    with pytest.raises(IntegrityError), transaction.atomic():
        NewHeir.objects.update(nik="１２３")
    NewHeir.objects.update(nik="")  # an heir's NIK may be unknown

    # once the officer has merged the twin (here: deleted it), the command is satisfied
    assert _validated() in (None, {"worker_nik_16_ascii_digits": False})
    NewWorker.objects.filter(pk=twin.pk).delete()
    out = CliRunner().invoke(app, ["nik", "normalise"])
    assert out.exit_code == 0, out.stdout
    assert _validated() in (None, {"worker_nik_16_ascii_digits": True})


def _validated() -> dict[str, bool] | None:
    """PostgreSQL: whether the worker's NIK constraint holds for the old rows too."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint WHERE conname = %s",
            ["worker_nik_16_ascii_digits"],
        )
        return dict(cursor.fetchall())
