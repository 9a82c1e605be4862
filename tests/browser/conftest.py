"""Helpers for the browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import OperationalError


@pytest.fixture
def run_worker() -> Callable[[], None]:
    """Run the background worker once over the queued jobs, as `db_worker` does in service.

    On SQLite the tests' database is in memory with a cache shared between the live server's
    threads and this one; there a table lock held by the page's one-second poll fails the
    worker's `BEGIN EXCLUSIVE` at once instead of waiting out the busy timeout, as a file
    database would. Nothing is written before the BEGIN, so the worker is simply run again.
    """

    def run() -> None:
        for attempt in range(20):
            try:
                call_command("db_worker", batch=True, verbosity=0)
                return
            except OperationalError as error:
                if "locked" not in str(error) or attempt == 19:
                    raise
                time.sleep(0.1)

    return run
