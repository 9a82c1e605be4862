"""Load-test the hospital's verify endpoint behind the production server (`cakupan serve`, not
runserver), with wrk in a second process on loopback, bounded in time; SQLite and PostgreSQL.

The database holds 1,000,000 memberships (BENCH_QUICK=1: 20,000) billed for the month, two
thirds paid; every request asks about another membership, as a hospital user with an API
token. The figure is printed beside the same question answered by the per-call path the
worker page uses (`membership_state`, several queries), in-process, as the ratio.

wrk comes from Debian's package (installed here when missing and the user may install).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ledger import _memberships, _setup, each_database  # noqa: E402

CHILD = os.environ.get("BENCH_VERIFY_CHILD")
SECONDS = int(os.environ.get("BENCH_VERIFY_SECONDS", "20"))
CONNECTIONS = int(os.environ.get("BENCH_VERIFY_CONNECTIONS", "16"))
PROCESSES = os.environ.get("BENCH_VERIFY_PROCESSES", "2")
THREADS = os.environ.get("BENCH_VERIFY_THREADS", "4")
SERVE = ["--processes", PROCESSES, "--threads", THREADS]

LUA = """
local numbers = {}
for line in io.lines("%(numbers)s") do numbers[#numbers + 1] = line end
local i = 0
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/verify?membership=" .. numbers[(i %% #numbers) + 1])
end
"""


def _wrk() -> str | None:
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        found = shutil.which("wrk")
    return found


def _parent() -> int:
    if _wrk() is None:
        print("verify load: skipped (wrk is not installed: apt-get install wrk)")
        return 0
    return each_database(__file__, "BENCH_VERIFY_CHILD", "verify load")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _latency_ms(text: str, label: str) -> float:
    match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _naive_per_second(on) -> float:
    """Requests a second the per-call path manages in-process, without HTTP."""
    from cakupan.contributions.selectors import membership_state
    from cakupan.membership.models import Membership

    members = list(Membership.objects.select_related("worker").order_by("?")[:300])
    start = time.perf_counter()
    for m in members:
        membership_state(m, on)
    return len(members) / (time.perf_counter() - start)


def _child(db: str) -> int:
    _setup(db)

    from django.db import connection
    from django.utils import timezone

    from benchmarks.harness import report
    from cakupan.accounts.services import token_create, user_create
    from cakupan.contributions.billing import billing_run
    from cakupan.contributions.sql import T, day, execute
    from cakupan.membership.models import Membership

    n = 20_000 if os.environ.get("BENCH_QUICK") == "1" else 1_000_000
    _memberships(n)
    today = timezone.localdate()
    billing_run(month=today.replace(day=1))
    execute(
        f"INSERT INTO {T.paid} (bill_id, membership_id, month, paid_on) "
        f"SELECT id, membership_id, month, %s FROM {T.bill} WHERE membership_id %% 3 <> 2",
        [day(today.replace(day=1))],
    )
    user, _ = user_create(username="rs-bench", role="hospital")
    _token, key = token_create(user=user, name="bench")
    folder = Path(tempfile.mkdtemp(prefix="cakupan-verify-"))
    numbers = folder / "numbers.txt"
    sample = Membership.objects.order_by("?").values_list("number", flat=True)[:20_000]
    numbers.write_text("\n".join(sample) + "\n")
    script = folder / "verify.lua"
    script.write_text(LUA % {"numbers": numbers, "token": key})
    naive = _naive_per_second(today)
    connection.close()

    port = _free_port()
    env = {
        **os.environ,
        "CAKUPAN_RATE_VERIFY": "100000000/m",
        "CAKUPAN_PORT": str(port),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "cakupan"), "serve", "--no-demo", "--no-worker", *SERVE],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        subprocess.run(  # warm up: imports, connections, caches
            ["wrk", "-t1", "-c4", "-d3s", "-s", str(script), url],
            capture_output=True,
            check=False,
        )
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{CONNECTIONS}",
                f"-d{SECONDS}s",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50, p99 = _latency_ms(out, "50"), _latency_ms(out, "99")
    report(
        f"verify API, {n:,} memberships, {PROCESSES}×{THREADS} ({db})",
        f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        f"per-call path in-process {naive:,.0f}/s (×{rps / naive:,.1f})",
    )
    if non2xx:
        print(f"  non-2xx answers: {non2xx.group(1)} (see wrk output below)\n{out}")
        return 1
    return 0


if __name__ == "__main__":
    if CHILD:
        from benchmarks.harness import run_and_clean

        run_and_clean(lambda: _child(CHILD))
    raise SystemExit(_parent())
