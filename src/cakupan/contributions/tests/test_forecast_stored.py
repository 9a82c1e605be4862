"""The stored lapse forecast: a count stored once says what the live forecast says, in the same
order; a page of any region, reason or sponsor is the same slice of the live list; the latest
count replaces the older; a recount runs through the task worker, one at a time."""

from __future__ import annotations

import pytest
from django.db import connection

from cakupan.contributions import tasks
from cakupan.contributions.billing import billing_run
from cakupan.contributions.forecast import (
    forecast_latest,
    forecast_pending,
    forecast_store,
    lapse_forecast,
    lapse_rows,
    stored_forecast,
    stored_rows,
)
from cakupan.contributions.models import ForecastEntry, ForecastRun, ForecastTally
from cakupan.contributions.services import account_of_membership, payment_record
from cakupan.contributions.tests.factories import make_membership
from cakupan.contributions.tests.test_forecast import ON, D, scene  # noqa: F401 (fixture)
from cakupan.regions.models import Region
from cakupan.registry.models import Worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(scene):  # noqa: F811 (the fixture imported above)
    """The scene and seven more self-payers behind (paid 2026-08 only) in three kelurahan, two
    with the same name, so that the list spans several kelurahan and ties on the name."""
    kelurahan = list(Region.objects.filter(level=4).order_by("code")[:3])
    names = ["Gita", "Hadi", "Hadi", "Indah", "Joko", "Kartini", "Lukas"]
    extra = []
    for i, name in enumerate(names):
        m = make_membership(fundings=[(None, "2026-08", None)], name=name)
        Worker.objects.filter(pk=m.worker_id).update(kelurahan=kelurahan[i % 3])
        extra.append(m)
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        billing_run(month=month)
    for i, m in enumerate(extra):
        payment_record(
            reference=f"CROWD-{i}",
            amount=8_400,
            paid_on=D(2026, 8, 5),
            source="form",
            user=None,
            account=account_of_membership(m),
        )
    return {**scene, "extra": extra, "kelurahan": kelurahan}


def test_a_stored_count_says_what_the_live_forecast_says(crowd) -> None:
    run = forecast_store(ON)
    live = list(lapse_rows(ON))
    assert len(live) == 11
    assert list(stored_rows(run)) == live
    assert (run.status, run.total, run.month, run.check_date) == (
        "done",
        11,
        D(2026, 12, 1),
        D(2026, 12, 16),
    )
    assert stored_forecast(run) == lapse_forecast(ON)
    sponsor = crowd["programmes"]["ends"].sponsor_id
    assert stored_forecast(run, sponsor_ids=[sponsor]) == lapse_forecast(ON, sponsor_ids=[sponsor])
    assert list(stored_rows(run, sponsor_ids=[sponsor])) == list(
        lapse_rows(ON, sponsor_ids=[sponsor])
    )
    # two Hadi: the list's order breaks the tie by membership, as the live list does
    hadi = [r.membership_id for r in live if r.name == "Hadi"]
    assert hadi == sorted(hadi) and len(hadi) == 2


def test_every_page_of_every_filter_is_the_live_lists_slice(crowd) -> None:
    run = forecast_store(ON)
    codes = {r.kelurahan_code for r in lapse_rows(ON)}
    regions = ["", *codes, *{c[:8] for c in codes}, "35.73"]
    sponsor = crowd["programmes"]["late"].sponsor_id
    for region in regions:
        for reason in ("", "self_payer_behind", "programme_ends"):
            for sponsors in (None, [sponsor]):
                live = list(lapse_rows(ON, region=region, reason=reason, sponsor_ids=sponsors))
                for offset in range(len(live) + 2):
                    for limit in (1, 2, 3, None):
                        for chunk in (1, 2, 5000):
                            got = list(
                                stored_rows(
                                    run,
                                    region=region,
                                    reason=reason,
                                    sponsor_ids=sponsors,
                                    offset=offset,
                                    limit=limit,
                                    chunk=chunk,
                                )
                            )
                            end = None if limit is None else offset + limit
                            assert got == live[offset:end], (region, reason, offset, limit)


def test_the_latest_count_replaces_the_older(crowd) -> None:
    first = forecast_store(ON)
    Worker.objects.filter(full_name="Gita").update(full_name="Zaki")
    # a count waiting for the worker is kept, whatever is stored meanwhile
    waiting = ForecastRun.objects.create(on=ON, month=first.month, check_date=first.check_date)
    second = forecast_store(ON)
    assert forecast_latest() == second
    assert set(ForecastRun.objects.values_list("pk", flat=True)) == {second.pk, waiting.pk}
    assert not ForecastEntry.objects.filter(run_id=first.pk).exists()
    assert not ForecastTally.objects.filter(run_id=first.pk).exists()
    # names are read from the registry, the order is the count's
    assert "Zaki" in {r.name for r in stored_rows(second)}
    assert ForecastEntry.objects.filter(run=second).count() == 11


def test_a_recount_runs_through_the_task_worker_one_at_a_time(crowd, make_user) -> None:
    officer = make_user("bpjs_officer", username="recount")
    before = forecast_store(ON)
    run = tasks.forecast_request(user=officer)
    assert (run.status, run.requested_by) == ("queued", officer)
    assert forecast_pending() == run
    # asked again while it waits: the same recount, no second
    assert tasks.forecast_request(user=officer) == run
    assert ForecastRun.objects.filter(status="queued").count() == 1
    assert tasks.forecast_count.call(run.pk)["status"] == "done"
    run.refresh_from_db()
    assert run.status == "done" and forecast_latest() == run and forecast_pending() is None
    assert not ForecastRun.objects.filter(pk=before.pk).exists()
    # a task run twice does nothing the second time
    assert tasks.forecast_count.call(run.pk) == {"status": "not queued"}


def test_a_failed_recount_keeps_the_count_before_it(crowd, make_user, monkeypatch) -> None:
    before = forecast_store(ON)
    run = tasks.forecast_request(user=make_user("bpjs_officer", username="recount2"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tasks, "forecast_store", broken)
    assert tasks.forecast_count.call(run.pk) == {"status": "failed"}
    run.refresh_from_db()
    assert run.status == "failed" and "previous count stays" in run.error
    assert forecast_latest() == before and forecast_pending() is None
    assert ForecastEntry.objects.filter(run=before).count() == before.total == 11


@pytest.mark.django_db(transaction=True)
def test_stored_outside_a_transaction_through_a_temporary_table(crowd) -> None:
    """Outside a transaction, SQLite counts into a temporary table first so that the write
    lock is held only for the copy; the result is the same, and the table is gone after."""
    run = forecast_store(ON)
    assert list(stored_rows(run)) == list(lapse_rows(ON))
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE name = 'forecast_rows'")
            assert cursor.fetchall() == []
