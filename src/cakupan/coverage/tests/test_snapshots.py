"""Monthly snapshots: UCJ on a small city computed by hand, and a closed month that stays as
it was when the registry, the ledger or an input changes afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.claims.tests.factories import pay_bill
from cakupan.contributions.billing import billing_run
from cakupan.contributions.models import Bill
from cakupan.contributions.services import account_of_sponsor
from cakupan.contributions.tests.factories import M
from cakupan.coverage.models import Area, Denominator, Snapshot, SnapshotRebuild
from cakupan.coverage.snapshots import closes_on, snapshot_build, unpack_ids
from cakupan.coverage.tests.conftest import BLIMBING, CITY, LOWOKWARU, TODAY
from cakupan.errors import Refused
from cakupan.registry.models import Worker
from cakupan.registry.tests.factories import make_worker


def area(snapshot: Snapshot, region: str) -> Area:
    return snapshot.areas.get(region=region)


def test_ucj_of_a_small_city_by_hand(city) -> None:
    snapshot = snapshot_build(M("2026-10"), today=TODAY)
    assert snapshot.status == Snapshot.Status.CLOSED
    assert snapshot.as_of == closes_on(M("2026-10")) == dt.date(2026, 11, 16)
    assert (snapshot.registered, snapshot.members, snapshot.active) == (4, 3, 2)
    # city: (2 BPU active + 5 PU + 1 PMI) / 40 employed = 20%
    whole = area(snapshot, CITY)
    assert (whole.bpu_active, whole.pu, whole.pmi, whole.employed) == (2, 5, 1, 40)
    assert whole.ucj == pytest.approx(20.0)
    assert "BPS Sakernas Agustus 2024" in whole.employed_source
    assert "PU 10/2026" in whole.aggregates_source and "PMI 09/2026" in whole.aggregates_source
    # Lowokwaru: Ani of 10 employed; Blimbing has no denominator: no UCJ, but its counts
    assert area(snapshot, LOWOKWARU).ucj == pytest.approx(10.0)
    blimbing = area(snapshot, BLIMBING)
    assert (blimbing.registered, blimbing.members, blimbing.bpu_active) == (2, 1, 1)
    assert blimbing.ucj is None
    assert area(snapshot, "35.73.01.1005").registered == 2
    # the workers counted are kept
    assert set(unpack_ids(snapshot.active_ids)) == {city["ani"].worker_id, city["citra"].worker_id}
    assert len(unpack_ids(snapshot.member_ids)) == 3
    # the cells: Citra's is funded by the programme, Ani's self-paid
    funded = snapshot.cells.get(programme=city["programme"].pk, active=1)
    assert funded.kelurahan == "35.73.01.1005"
    ani = snapshot.cells.get(kelurahan="35.73.05.1011", sex="P")
    assert (ani.programme, ani.age_band, ani.active) == (None, 2, 1)  # born 1988: 38 in Oct


def test_a_closed_month_stays_as_it_was(city) -> None:
    snapshot_build(M("2026-10"), today=TODAY)
    # afterwards: Budi's October is paid (backdated to before the close), an input is
    # corrected, a worker moves
    billing_run(month=M("2026-11"))
    bill = Bill.objects.get(membership=city["budi"], month=M("2026-10"), voided_at__isnull=True)
    pay_bill(account_of_sponsor(city["other"].sponsor), bill, dt.date(2026, 11, 10))
    Denominator.objects.filter(region_id=CITY).update(employed=80)
    Worker.objects.filter(pk=city["ani"].worker_id).update(kelurahan_id="35.73.01.1001")

    with pytest.raises(Refused) as refused:
        snapshot_build(M("2026-10"), today=TODAY)
    assert refused.value.code == "snapshot_closed"
    kept = Snapshot.objects.get(month=M("2026-10"))
    assert kept.active == 2 and area(kept, CITY).employed == 40
    assert area(kept, LOWOKWARU).bpu_active == 1

    with pytest.raises(Refused) as refused:
        snapshot_build(M("2026-10"), today=TODAY, rebuild=True, reason="  ")
    assert refused.value.field == "reason"

    rebuilt = snapshot_build(
        M("2026-10"), today=TODAY, rebuild=True, reason="Statement of 10 Nov entered late"
    )
    assert rebuilt.active == 3 and area(rebuilt, CITY).employed == 80
    assert area(rebuilt, CITY).ucj == pytest.approx(100 * (3 + 5 + 1) / 80)
    log = SnapshotRebuild.objects.get()
    assert log.reason == "Statement of 10 Nov entered late"
    assert (log.before["active"], log.after["active"]) == (2, 3)
    assert log.before["ucj"] == 20.0


def test_a_month_still_open_is_provisional_and_rebuilt_freely(city) -> None:
    first = snapshot_build(M("2026-11"), today=TODAY)
    assert first.status == Snapshot.Status.PROVISIONAL and first.as_of == TODAY
    again = snapshot_build(M("2026-11"), today=TODAY)
    assert again.pk != first.pk and not SnapshotRebuild.objects.exists()
    with pytest.raises(Refused) as refused:
        snapshot_build(M("2027-01"), today=TODAY)
    assert refused.value.code == "future_month"


def test_a_payment_after_the_close_does_not_count_for_the_month(city) -> None:
    """Budi's October paid on 2 December, after October closed (16 November): October's
    snapshot, built after it, does not count him."""
    billing_run(month=M("2026-11"))
    bill = Bill.objects.get(membership=city["budi"], month=M("2026-10"), voided_at__isnull=True)
    pay_bill(account_of_sponsor(city["other"].sponsor), bill, TODAY)
    assert snapshot_build(M("2026-10"), today=TODAY).active == 2


def test_the_age_band_turns_on_the_birthday(malang) -> None:
    """Age on the month's first day: 20 on 1 October 2026 when born on 1 October 2006 (20–29),
    19 when born a day later (< 20); 60 when born on 1 October 1966 (60+)."""
    for born in (dt.date(2006, 10, 1), dt.date(2006, 10, 2), dt.date(1966, 10, 1)):
        make_worker(full_name=f"Lahir {born}", birth_date=born)
    Worker.objects.update(created_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    snapshot = snapshot_build(M("2026-10"), today=TODAY)
    assert sorted(snapshot.cells.values_list("age_band", flat=True)) == [0, 1, 5]


@pytest.mark.django_db(transaction=True)
def test_two_builds_of_a_month_at_once_give_one_snapshot(city) -> None:
    """Two officers build October at the same moment: one snapshot, and the other is told,
    in words, that it is being built or already closed — never a database error."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time: the second build waits for the first")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def build() -> None:
        try:
            start.wait()
            snapshot_build(M("2026-10"), today=TODAY)
            outcomes.append("built")
        except Refused as e:
            outcomes.append(e.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (["built", "snapshot_busy"], ["built", "snapshot_closed"])
    assert Snapshot.objects.filter(month=M("2026-10")).count() == 1


def test_the_rollups_add_up_to_the_cells(city) -> None:
    """Every breakdown of a whole region read from the rollups (by kelurahan: the areas) is
    the cells' own sum."""
    from django.db.models import Sum

    from cakupan.coverage.selectors import SELF_PAID, Count, Filters, _rolled_up
    from cakupan.coverage.snapshots import ROLLUP_DIMENSIONS

    snapshot = snapshot_build(M("2026-10"), today=TODAY)
    regions = ["", CITY, LOWOKWARU, BLIMBING, "35.73.05.1011", "35.73.01.1005"]
    for region in regions:
        for dimension in (*ROLLUP_DIMENSIONS, "kelurahan"):
            rolled = _rolled_up(snapshot, dimension, Filters(region=region))
            cells = {}
            for row in (
                Filters(region=region)
                .cells(snapshot)
                .values(dimension)
                .annotate(r=Sum("registered"), m=Sum("members"), a=Sum("active"))
            ):
                key = row[dimension]
                key = SELF_PAID if dimension == "programme" and key is None else key
                cells[key] = Count(row["r"], row["m"], row["a"])
            assert rolled == cells, (region, dimension)
    assert snapshot.rollups.filter(region=CITY, dimension="sex").count() == 2
