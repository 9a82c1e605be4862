"""`cakupan coverage snapshot` on the small city of test_snapshots: a month built and closed,
refused a second time with the way to rebuild it, rebuilt with who and why; every month not
yet closed built at once."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from cakupan.cli import app
from cakupan.contributions.tests.factories import M
from cakupan.coverage.models import Snapshot, SnapshotRebuild

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_a_month_is_built_closed_and_rebuilt_only_with_a_reason(city, make_user) -> None:
    built = runner.invoke(app, ["coverage", "snapshot", "--month", "2026-10"])
    assert built.exit_code == 0, built.output
    assert "10/2026 (ditutup" in built.output and "UCJ kota 20,00%" in built.output
    assert "aktif 2" in built.output

    again = runner.invoke(app, ["coverage", "snapshot", "--month", "2026-10"])
    assert again.exit_code == 2
    assert "--rebuild --reason" in again.output

    no_reason = runner.invoke(app, ["coverage", "snapshot", "--month", "2026-10", "--rebuild"])
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    assert not SnapshotRebuild.objects.exists()

    officer = make_user("bpjs_officer", "rina")
    rebuilt = runner.invoke(
        app,
        [
            "coverage",
            "snapshot",
            "--month",
            "2026-10",
            "--rebuild",
            "--reason",
            "late statement",
            "--by",
            "rina",
        ],
    )
    assert rebuilt.exit_code == 0, rebuilt.output
    log = SnapshotRebuild.objects.get()
    assert (log.by, log.by_name, log.reason) == (officer, "rina", "late statement")

    unknown = runner.invoke(
        app,
        [
            "coverage",
            "snapshot",
            "--month",
            "2026-10",
            "--rebuild",
            "--reason",
            "x",
            "--by",
            "nobody",
        ],
    )
    assert unknown.exit_code == 2 and "nobody" in unknown.output
    assert SnapshotRebuild.objects.count() == 1


def test_a_bad_month_is_refused_in_words(city) -> None:
    result = runner.invoke(app, ["coverage", "snapshot", "--month", "2026-13"])
    assert result.exit_code == 2 and "TTTT-BB" in result.output
    assert not Snapshot.objects.exists()


def test_every_month_not_yet_closed_is_built(city) -> None:
    first = runner.invoke(app, ["coverage", "snapshot"])
    assert first.exit_code == 0, first.output
    months = list(Snapshot.objects.order_by("month").values_list("month", flat=True))
    assert months[0] == M("2026-09") and len(months) >= 3  # September to this month
    closed_pk = Snapshot.objects.get(month=M("2026-10")).pk
    second = runner.invoke(app, ["coverage", "snapshot"])
    assert second.exit_code == 0
    # the closed months are left as they were; only the open ones are built again
    assert Snapshot.objects.get(month=M("2026-10")).pk == closed_pk
    assert "10/2026" not in second.output
    # and next month's lapse forecast is counted and stored each time, the older count replaced
    from django.utils import timezone

    from cakupan.contributions.forecast import forecast_latest, lapse_forecast

    run = forecast_latest()
    assert run is not None and run.on == timezone.localdate()
    assert run.total == lapse_forecast(run.on).total
    assert f"Prakiraan putus {run.month:%m/%Y}: {run.total} kepesertaan berisiko" in second.output
    assert " detik." in second.output and not re.search(r"\d\.\d detik", second.output)
