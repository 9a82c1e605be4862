"""Benchmark bulk enrolment end to end: a 1,000,000-row CSV against 1,000,000 registered workers
on SQLite (parse, check, link, price, save), and django-import-export on a 20,000-row slice."""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import throwaway_django  # noqa: E402

throwaway_django("import")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from django.db import transaction  # noqa: E402

from benchmarks.harness import report, run_and_clean  # noqa: E402
from cakupan.funding.services import programme_create, sponsor_create  # noqa: E402
from cakupan.membership.models import Membership  # noqa: E402
from cakupan.regions.selectors import city_kelurahan  # noqa: E402
from cakupan.registry.demo import demo_load  # noqa: E402
from cakupan.registry.models import Occupation, Worker  # noqa: E402
from cakupan.registry.nik import make_nik  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
N = 50_000 if QUICK else 1_000_000
SLICE = 20_000
TARGET_S, TARGET_MIB = 60.0, 1536


def make_csv(path: Path, n: int, seed: int = 7) -> None:
    """Half the rows re-submit registered workers (as the registry has them), half are new
    people with fresh NIKs and names drawn from the registry's; kelurahan by name, occupation by
    code, as a city officer sends. The import runs with --partial, as an officer runs a big list:
    the few rows the linkage flags must not hold back the rest."""
    rng = np.random.default_rng(seed)
    registered = pl.DataFrame(
        list(
            Worker.objects.values_list(
                "nik", "full_name", "birth_date", "sex", "kelurahan__name", "occupation__code"
            )[: n // 2]
        ),
        schema={
            "nik": pl.String,
            "nama": pl.String,
            "tanggal_lahir": pl.Date,
            "jenis_kelamin": pl.String,
            "kelurahan": pl.String,
            "pekerjaan": pl.String,
        },
        orient="row",
    )
    kel = list(city_kelurahan().values_list("code", "name"))
    occ = list(Occupation.objects.values_list("code", flat=True))
    m = n - registered.height
    births = np.datetime64("1960-01-01") + rng.integers(0, 365 * 45, m).astype("timedelta64[D]")
    sexes = rng.choice(["L", "P"], m)
    picks = rng.integers(0, len(kel), m)
    niks = [
        make_nik(
            kecamatan_code=kel[k][0][:8],
            birth_date=b.astype(dt.date),
            sex=s,
            serial=5000 + i % 4000,
        )
        for i, (k, b, s) in enumerate(zip(picks, births, sexes, strict=True))
    ]
    new = pl.DataFrame(
        {
            "nik": niks,
            "nama": rng.choice(registered["nama"].to_numpy(), m),
            "tanggal_lahir": pl.Series(births).cast(pl.Date),
            "jenis_kelamin": sexes,
            "kelurahan": [kel[k][1] for k in picks],
            "pekerjaan": rng.choice(occ, m),
        }
    ).unique("nik")
    frame = pl.concat([registered, new.cast(registered.schema)]).with_columns(
        pl.col("tanggal_lahir").dt.strftime("%d-%m-%Y"), no_hp=pl.lit(""), penghasilan=pl.lit("")
    )
    frame.write_csv(path)


def programme():
    sponsor = sponsor_create(type="apbd", name=f"Pemkot {time.time_ns()}")
    return programme_create(
        sponsor=sponsor,
        name="Bench",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=10**15,
    )


def import_export_peer(path: Path) -> float:
    """django-import-export's ModelResource importing the same rows into the same Worker model."""
    import tablib
    from import_export import fields, resources, widgets

    from cakupan.regions.models import Region

    class KelurahanWidget(widgets.ForeignKeyWidget):
        def get_queryset(self, value, row, *args, **kwargs):
            return Region.objects.filter(level=4, code__startswith="35.73.")

    class WorkerResource(resources.ModelResource):
        full_name = fields.Field(attribute="full_name", column_name="nama")
        birth_date = fields.Field(
            attribute="birth_date",
            column_name="tanggal_lahir",
            widget=widgets.DateWidget("%d-%m-%Y"),
        )
        sex = fields.Field(attribute="sex", column_name="jenis_kelamin")
        kelurahan = fields.Field(
            attribute="kelurahan",
            column_name="kelurahan",
            widget=KelurahanWidget(Region, "name"),
        )
        occupation = fields.Field(
            attribute="occupation",
            column_name="pekerjaan",
            widget=widgets.ForeignKeyWidget(Occupation, "code"),
        )

        class Meta:
            model = Worker
            import_id_fields = ("nik",)
            fields = ("nik", "full_name", "birth_date", "sex", "kelurahan", "occupation")
            use_bulk = False  # the default: one instance saved per row, with validation

    data = tablib.Dataset().load(
        pl.read_csv(path, infer_schema=False).head(SLICE).drop("no_hp", "penghasilan").write_csv(),
        format="csv",
    )
    start = time.perf_counter()
    with transaction.atomic():
        result = WorkerResource().import_data(data, dry_run=False, raise_errors=False)
        transaction.set_rollback(True)
    seconds = time.perf_counter() - start
    assert not result.has_errors(), result.row_errors()[:1]
    return seconds


def main() -> int:
    demo_load(workers=N, seed=2026)
    tmp = Path(tempfile.mkdtemp(prefix="cakupan-bench-csv-"))
    path = tmp / "daftar.csv"
    make_csv(path, N)
    peer = import_export_peer(path) * N / SLICE
    target = programme()
    # The import runs as a user runs it, `cakupan enrol import`, in its own process, so its
    # peak memory is the import's own and not the set-up's.
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cakupan.cli",
            "enrol",
            "import",
            str(path),
            "--programme",
            str(target.pk),
            "--partial",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        return 1
    stages = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Waktu:")), "")
    saved = Membership.objects.count()
    new = Worker.objects.filter(source="import").count()
    ok = seconds < TARGET_S and rss < TARGET_MIB
    report(
        f"enrol import {N:,} rows vs {N:,} workers, SQLite",
        f"{seconds:.1f} s",
        f"target < {TARGET_S:.0f} s: {'ok' if seconds < TARGET_S else 'TOO SLOW'}",
    )
    report("enrol import rows/s", f"{N / seconds:,.0f} rows/s")
    report(
        "enrol import peak RSS (the import process)",
        f"{rss:,.0f} MiB",
        f"target < {TARGET_MIB} MiB: {'ok' if rss < TARGET_MIB else 'TOO BIG'}",
    )
    report(
        "enrol import outcome",
        f"{new:,} new workers",
        f"{saved:,} memberships",
    )
    report("enrol import stages", "", stages)
    report(
        f"django-import-export, {SLICE:,} rows scaled to {N:,}",
        f"{peer:.0f} s",
        f"cakupan {peer / seconds:.0f}× faster (and it saves workers only, no memberships)",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    run_and_clean(main)
