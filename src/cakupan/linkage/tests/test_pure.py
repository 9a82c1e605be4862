"""cakupan.linkage stays a pure package: importing and running it loads no Django."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import datetime as dt, sys
import polars as pl
from cakupan.linkage import link, normalise_name
row = {"nik": "3573051201900001", "name": "Moch. Ali", "birth_date": dt.date(1990, 1, 12),
       "sex": "L", "kelurahan": None}
registry = pl.DataFrame([{"worker_id": 1, **row}])
incoming = pl.DataFrame([{"row": 2, **row}])
assert link(incoming, registry)["status"].to_list() == ["exact"]
assert normalise_name("H. Moch. Ali") == "muhammad ali"
print("django" in sys.modules)
"""


def test_linkage_imports_no_django() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
