"""Test data built through the services, so tests exercise the same validation users meet."""

from __future__ import annotations

import datetime as dt
import itertools

from cakupan.registry.models import Worker
from cakupan.registry.nik import make_nik
from cakupan.registry.services import WorkerData, worker_create

_serial = itertools.count(1)


def worker_data(**overrides: object) -> WorkerData:
    born = overrides.pop("birth_date", dt.date(1988, 6, 15))
    sex = overrides.pop("sex", "L")
    kel = str(overrides.pop("kelurahan", "35.73.05.1011"))
    nik = overrides.pop("nik", None) or make_nik(
        kecamatan_code=kel[:8],
        birth_date=born,
        sex=sex,
        serial=next(_serial),
    )
    values = {
        "nik": nik,
        "full_name": "Budi Santoso",
        "birth_date": born,
        "sex": sex,
        "kelurahan": kel,
        "occupation": "ojol",
        **overrides,
    }
    return WorkerData(**values)


def make_worker(**overrides: object) -> Worker:
    return worker_create(data=worker_data(**overrides))
