"""`cakupan serve` keeps its background task worker running beside the web server.

A worker that dies (killed, out of memory, a crash) is started again after a pause, logged; the
pause doubles while the worker keeps dying soon after starting (up to a minute), so a worker
that cannot start does not spin. Before each restart the runs of the dead worker are marked
(see cakupan.membership.runs), so their lists say "stopped" instead of "running". Stopping the
supervisor stops the worker (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger("cakupan.serve")


class WorkerSupervisor:
    """Runs `command` as a child process and starts it again whenever it exits, until stop()."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        on_restart: Callable[[], None] | None = None,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
        healthy_after: float = 60.0,
    ) -> None:
        self.command = list(command)
        self.on_restart = on_restart
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.healthy_after = healthy_after  # a worker that ran this long resets the pause
        self.child: subprocess.Popen | None = None
        self.restarts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._since = 0.0
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        # called holding the lock, so stop() never misses a child started meanwhile
        self.child = subprocess.Popen(self.command)
        self._since = time.monotonic()

    def _watch(self) -> None:
        backoff = self.min_backoff
        while True:
            child = self.child
            assert child is not None
            code = child.wait()
            # Ctrl-C reaches the worker and the server together: give the server a moment to
            # say it is stopping, so its worker's exit is not logged as a death
            grace = min(0.5, backoff)
            if self._stopping.wait(grace):
                return
            if time.monotonic() - self._since >= self.healthy_after:
                backoff = self.min_backoff
            log.warning(
                "Pekerja latar (pid %s) berhenti dengan kode %s; dijalankan lagi dalam %.0f detik.",
                child.pid,
                code,
                backoff,
            )
            if self._stopping.wait(backoff - grace):
                return
            backoff = min(backoff * 2, self.max_backoff)
            if self.on_restart is not None:
                try:
                    self.on_restart()
                except Exception:
                    log.exception("marking the runs of the stopped worker failed")
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
                self.restarts += 1
            log.warning("Pekerja latar dijalankan lagi (pid %s).", self.child.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then stop the worker: SIGTERM, and SIGKILL after `timeout` seconds."""
        with self._lock:
            self._stopping.set()
            child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
