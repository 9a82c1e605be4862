"""Shared helpers for benchmarks: one printed line per figure, peak memory, timing."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of `repeat` calls of fn, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def report(name: str, figure: str, ratio: str = "") -> None:
    """Print one benchmark line: name, figure, and the ratio against a peer if measured."""
    print(f"{name:<52} {figure:>28}  {ratio}".rstrip())
    sys.stdout.flush()


def throwaway_django(prefix: str) -> None:
    """Point cakupan at a fresh SQLite in a temporary var/ and set Django up, migrated.

    Must run before anything imports cakupan's models: settings read CAKUPAN_VAR at import.
    """
    import os
    import tempfile

    os.environ["CAKUPAN_VAR"] = tempfile.mkdtemp(prefix=f"cakupan-bench-{prefix}-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cakupan.settings"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def throwaway_postgres(prefix: str, server_url: str) -> None:
    """A fresh PostgreSQL database `cakupan_bench_<prefix>` on the server of `server_url`,
    migrated; run_and_clean drops it. Must run before anything imports cakupan's models."""
    import os
    import tempfile

    import psycopg

    name = f"cakupan_bench_{prefix}"
    base = server_url.replace("postgres://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["CAKUPAN_VAR"] = tempfile.mkdtemp(prefix=f"cakupan-bench-{prefix}-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cakupan.settings"
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name
    os.environ["CAKUPAN_BENCH_DROP"] = f"{base}|{name}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def run_and_clean(main: Callable[[], int]) -> None:
    """Run a benchmark's main(), then delete its throwaway database (a million workers take
    about a gigabyte), and exit with main's code."""
    import os
    import shutil

    from django.db import connection

    try:
        code = main()
    finally:
        connection.close()
        shutil.rmtree(os.environ["CAKUPAN_VAR"], ignore_errors=True)
        if drop := os.environ.get("CAKUPAN_BENCH_DROP"):
            import psycopg

            server, name = drop.split("|")
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
    raise SystemExit(code)
