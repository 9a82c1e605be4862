"""The access log written in batches, for the one caller that cannot afford a commit per call:
the hospital's protection check answered in front of Django (`cakupan.apifast`).

Each call adds its rows to a list in memory; a thread of the process writes the list every
`interval` seconds in one transaction (`access_log_write_entries`), and `close()` writes what
is left when the process stops (the server calls it as a worker exits, and at exit). Every
call is still logged with its own time; what a crash can lose is the rows of the last
`interval` seconds (a process killed by SIGKILL, the machine losing power), and while the
database refuses the write the rows are kept and written at the next try."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from cakupan.registry.services import AccessLogEntry, access_log_write_entries

log = logging.getLogger(__name__)


class AccessLogBuffer:
    """Access-log rows gathered in memory and written in batches by a thread of this process
    (started at the first row; `interval=None`: only when `flush()` is called)."""

    INTERVAL = 0.25
    # rows kept while the database refuses them; past this the oldest are dropped, with an error
    LIMIT = 1_000_000

    def __init__(
        self,
        interval: float | None = INTERVAL,
        write: Callable[[list[AccessLogEntry]], None] = access_log_write_entries,
    ) -> None:
        self.interval = interval
        self.write = write
        self._pending: list[AccessLogEntry] = []
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one flush at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, *, user: Any, action: str, workers: Iterable[Any], path: str = "") -> None:
        """As `access_log_write`, without writing now: the rows are written within
        `interval` seconds."""
        user_id = user.pk if user is not None and user.is_authenticated else None
        at = timezone.now()
        rows = [
            AccessLogEntry(user_id, w.pk if w is not None else None, action, path, at)
            for w in workers
        ]
        with self._lock:
            self._pending.extend(rows)
        if self.interval is not None and self._pid != os.getpid():
            self._start()

    def _start(self) -> None:
        # The web server forks its workers from a process that imported this one: a thread
        # does not survive the fork, so each process starts its own at its first row.
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._writing = threading.Lock()
            self._thread = threading.Thread(
                target=self._run, name="cakupan-access-log", daemon=True
            )
            self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
        connection.close()

    def flush(self) -> int:
        """Write the rows gathered so far; the number written. On a database error the rows
        are kept for the next flush and the error is logged."""
        with self._writing:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return 0
            try:
                self.write(rows)
            except Exception:
                log.exception("access log: %d rows not written yet, trying again", len(rows))
                if not connection.in_atomic_block:
                    connection.close()  # a broken connection is opened afresh next time
                with self._lock:
                    self._pending[:0] = rows
                    if len(self._pending) > self.LIMIT:
                        dropped = len(self._pending) - self.LIMIT
                        del self._pending[:dropped]
                        log.error("access log: %d rows dropped, the database refused them", dropped)
                return 0
            return len(rows)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Stop the thread and write what is left (called as the process stops)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.flush()
