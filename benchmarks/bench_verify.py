"""Load-test the hospital's verify endpoint behind the production server (`cakupan serve`, not
runserver), with wrk in a second process on loopback, bounded in time; SQLite and PostgreSQL.

The database holds 1,000,000 memberships (BENCH_QUICK=1: 20,000) billed for the month, two
thirds paid; every request asks about another membership, as a hospital user with an API
token. Two runs against the same server:
- saturated: wrk's 16 connections (BENCH_VERIFY_CONNECTIONS) each send the next request as
  soon as the last is answered, so the figure is the most the server answers a second, and
  its latencies include the queue those connections make;
- paced: requests leave at a fixed rate (BENCH_VERIFY_RATE, 1,500 a second: issue 9's goal)
  spread over 64 connections, the way wrk2 or vegeta measure the latency at a given
  throughput. wrk has no rate option: its Lua `delay()` hook holds each request until its
  slot on a clock (slot k at start + k / rate, per wrk thread). Latency counts from the
  moment a request is sent; a request that could not leave at its slot because every
  connection was waiting is counted as late, with how late the latest was (were there many,
  the figure would understate the latency, as wrk without pacing does: "coordinated
  omission").
The figure is printed beside the same question answered by the per-call path the worker
page uses (`membership_state`, several queries), in-process, as the ratio.

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
RATE = int(os.environ.get("BENCH_VERIFY_RATE", "1500"))
PACED_CONNECTIONS = int(os.environ.get("BENCH_VERIFY_PACED_CONNECTIONS", "64"))
SERVE = ["--processes", PROCESSES, "--threads", THREADS] if PROCESSES else []

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

# Added to LUA for the paced run: each wrk thread sends `interval` ms apart on a monotonic
# clock (LuaJIT's ffi: wrk's Lua has no clock finer than a second); `late` counts the slots a
# request missed by more than a millisecond because no connection was free, `late_max` the
# most one was missed by (ms).
PACED = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cakupan_timespec;
int clock_gettime(int clk_id, cakupan_timespec *tp);
]]
local ts = ffi.new("cakupan_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval = %(interval)s
local start = nil
local slot = 0
late = 0
late_max = 0
delay = function()
  local t = now_ms()
  if start == nil then start = t end
  slot = slot + 1
  local wait = start + slot * interval - t
  if wait < -1 then
    late = late + 1
    if -wait > late_max then late_max = -wait end
  end
  if wait < 0 then return 0 end
  return wait
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
done = function(summary, latency, requests)
  local n, worst = 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("late")
    if t:get("late_max") > worst then worst = t:get("late_max") end
  end
  io.write(string.format("late sends: %%d, latest by %%.1f ms\\n", n, worst))
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


def _prepare(db: str) -> tuple[int, Path, float]:
    """The database of `db` set up and filled: the number of memberships, a folder holding the
    wrk script (verify.lua, and paced.lua) and the per-call path's rate in-process."""
    _setup(db)

    from django.db import connection
    from django.utils import timezone

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
    script = LUA % {"numbers": numbers, "token": key}
    (folder / "verify.lua").write_text(script)
    interval = 1000 / (RATE / 2)  # ms between two requests of one of wrk's 2 threads
    (folder / "paced.lua").write_text(script + PACED % {"interval": repr(interval)})
    naive = _naive_per_second(today)
    connection.close()
    return n, folder, naive


class Server:
    """`cakupan serve` (with SERVE's options) on a free port of loopback, as a context."""

    def __init__(self, args: list[str] = SERVE, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = env or {}

    def __enter__(self) -> str:
        port = _free_port()
        env = {
            **os.environ,
            "CAKUPAN_RATE_VERIFY": "100000000/m",
            "CAKUPAN_PORT": str(port),
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "cakupan"),
                "serve",
                "--no-demo",
                "--no-worker",
                *self.args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("BENCH_VERIFY_STDERR") else subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _run_wrk(url: str, script: Path, connections: int, seconds: int = SECONDS) -> str:
    return subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
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


def load(url: str, folder: Path) -> tuple[str, str]:
    """wrk's output for the saturated run and for the paced one, after a warm-up."""
    subprocess.run(  # warm up: imports, connections, caches
        ["wrk", "-t1", "-c4", "-d3s", "-s", str(folder / "verify.lua"), url],
        capture_output=True,
        check=False,
    )
    saturated = _run_wrk(url, folder / "verify.lua", CONNECTIONS)
    paced = _run_wrk(url, folder / "paced.lua", PACED_CONNECTIONS)
    return saturated, paced


def figures(out: str) -> str:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = _latency_ms(out, "50"), _latency_ms(out, "99")
    figure = f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    if late := re.search(r"late sends: (\d+), latest by ([\d.]+) ms", out):
        figure += f", {int(late.group(1)):,} late (by ≤ {float(late.group(2)):.0f} ms)"
    return figure


def _child(db: str) -> int:
    from benchmarks.harness import report

    n, folder, naive = _prepare(db)
    try:
        with Server() as url:
            saturated, paced = load(url, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    shape = f"{PROCESSES}×{THREADS}" if PROCESSES else "defaults"
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", saturated).group(1))
    report(
        f"verify API, {n:,} memberships, {shape}, saturated ({db})",
        figures(saturated),
        f"per-call path in-process {naive:,.0f}/s (×{rps / naive:,.1f})",
    )
    report(f"verify API, paced at {RATE:,} req/s ({db})", figures(paced))
    failed = 0
    for out in (saturated, paced):
        if non2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
            print(f"  non-2xx answers: {non2xx.group(1)} (see wrk output below)\n{out}")
            failed = 1
    return failed


if __name__ == "__main__":
    if CHILD:
        from benchmarks.harness import run_and_clean

        run_and_clean(lambda: _child(CHILD))
    raise SystemExit(_parent())
