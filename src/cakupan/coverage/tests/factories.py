"""Coverage test data: a small city whose figures are computed by hand in the tests."""

from __future__ import annotations

import datetime as dt

from cakupan.coverage.models import Aggregate, Denominator, Target


def denominator(
    region: str, employed: int, *, period: str = "2024-08", split: str = ""
) -> Denominator:
    year, month = period.split("-")
    return Denominator.objects.create(
        region_id=region,
        period=dt.date(int(year), int(month), 1),
        split=split,
        employed=employed,
        source="BPS Sakernas Agustus 2024",
        source_date=dt.date(2024, 11, 5),
    )


def aggregate(region: str, month: dt.date, category: str, participants: int) -> Aggregate:
    return Aggregate.objects.create(
        region_id=region,
        month=month,
        category=category,
        participants=participants,
        source="BPJS Ketenagakerjaan Cabang Malang, rekap kepesertaan",
        source_date=month + dt.timedelta(days=40),
    )


def target(region: str, year: int, percent: str, kind: str = "rpjmd") -> Target:
    return Target.objects.create(
        region_id=region,
        year=year,
        kind=kind,
        percent=percent,
        source="RPJMD Kota Malang 2025–2029",
        source_date=dt.date(2025, 7, 1),
    )
