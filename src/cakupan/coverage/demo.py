"""Demo coverage inputs and snapshots, so the dashboard has something true to show.

The city's denominators and plan targets are the published figures, with their sources (docs/
coverage.md, "Inputs"). What is not published — the agency's monthly counts of wage earners,
construction and migrant participants, and the split of the employed by kecamatan — is made
up for the demo and says so in its source ("DEMO …"), so nobody mistakes it for data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from cakupan.contributions.forecast import forecast_store
from cakupan.coverage.models import Aggregate, Denominator, Snapshot, Target
from cakupan.coverage.snapshots import first_month, snapshots_catch_up
from cakupan.months import add_months, month_start
from cakupan.regions.models import Level, Region
from cakupan.registry.models import Worker

CITY = "35.73"
DEMO = "DEMO cakupan"
BPS_2023 = "BPS Kota Malang, Sakernas Agustus 2023 (penduduk bekerja)"
BPS_2024 = "BPS Kota Malang, Sakernas Agustus 2024 (penduduk bekerja)"
DENOMINATORS = (
    (dt.date(2023, 8, 1), 428_700, BPS_2023, dt.date(2023, 11, 6)),
    (dt.date(2024, 8, 1), 436_742, BPS_2024, dt.date(2024, 11, 5)),
)
TARGETS = (
    (2025, "rpjmd", "41.23", "RPJMD Kota Malang: target UCJ 2025", dt.date(2025, 1, 1), ""),
    (2025, "rpjmn", "32.15", "RPJMN 2025–2029: target nasional", dt.date(2025, 2, 10), "national"),
    (2029, "rpjmn", "43.92", "RPJMN 2025–2029: target nasional", dt.date(2025, 2, 10), "national"),
)
# made up for the demo: the agency's monthly counts for the city
AGGREGATES = {"pu": 118_000, "jakon": 6_500, "pmi": 1_400}
CITY_TARGET_2026 = "45.00"


@dataclass(frozen=True)
class DemoCoverage:
    inputs: int
    snapshots: int


def demo_coverage_delete() -> None:
    Snapshot.objects.all().delete()
    for model in (Denominator, Aggregate, Target):
        model.objects.filter(source__startswith=DEMO).delete()


def _inputs(today: dt.date) -> int:
    made = 0
    for period, employed, source, source_date in DENOMINATORS:
        _, created = Denominator.objects.get_or_create(
            region_id=CITY,
            period=period,
            split="",
            defaults={"employed": employed, "source": source, "source_date": source_date},
        )
        made += created
    for year, kind, percent, source, source_date, note in TARGETS:
        _, created = Target.objects.get_or_create(
            region_id=CITY,
            year=year,
            kind=kind,
            defaults={
                "percent": percent,
                "source": source,
                "source_date": source_date,
                "note": "Target nasional, sebagai pembanding" if note else "",
            },
        )
        made += created
    _, created = Target.objects.get_or_create(
        region_id=CITY,
        year=today.year,
        kind="city",
        defaults={
            "percent": CITY_TARGET_2026,
            "source": f"{DEMO}: target contoh kota",
            "source_date": dt.date(today.year, 1, 2),
        },
    )
    made += created
    # the employed split by kecamatan in proportion to the demo registry: made up
    latest = DENOMINATORS[-1]
    kecamatan = dict(
        Worker.objects.values_list("kelurahan__parent_id").annotate(n=Count("id")).order_by()
    )
    total = sum(kecamatan.values())
    for code in Region.objects.filter(parent_id=CITY, level=Level.KECAMATAN).values_list(
        "code", flat=True
    ):
        if not total or not kecamatan.get(code):
            continue
        _, created = Denominator.objects.get_or_create(
            region_id=code,
            period=latest[0],
            split="",
            defaults={
                "employed": round(latest[1] * kecamatan[code] / total),
                "source": f"{DEMO}: {latest[2]} dibagi menurut sebaran pekerja demo",
                "source_date": latest[3],
            },
        )
        made += created
    # the agency's counts for the city, and split over the kecamatan in the same proportion
    shares = {CITY: 1.0} | {code: n / total for code, n in kecamatan.items() if code and total}
    first = first_month() or month_start(today)
    month = first
    while month <= month_start(today):
        for category, count in AGGREGATES.items():
            # a slow rise, month by month
            city_count = count + 150 * (month.year * 12 + month.month - 24_300)
            for code, share in shares.items():
                _, created = Aggregate.objects.get_or_create(
                    region_id=code,
                    month=month,
                    category=category,
                    defaults={
                        "participants": round(city_count * share),
                        "source": f"{DEMO}: rekap kepesertaan contoh",
                        "source_date": min(today, add_months(month, 1).replace(day=10)),
                    },
                )
                made += created
        month = add_months(month, 1)
    return made


def demo_coverage_load(*, today: dt.date) -> DemoCoverage:
    """The inputs above, a snapshot of every month the demo ledger covers, and the lapse
    forecast's count (as the daily job makes them)."""
    with transaction.atomic():
        inputs = _inputs(today)
    built = snapshots_catch_up(today=today)
    forecast_store(today)
    return DemoCoverage(inputs, len(built))
