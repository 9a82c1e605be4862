"""Run every benchmarks/bench_*.py in its own process (clean memory figures) and print their lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    selected = sys.argv[1:]
    files = sorted(here.glob("bench_*.py"))
    if selected:
        files = [f for f in files if any(s in f.stem for s in selected)]
    if not files:
        print("no benchmarks found")
        return 0
    failed = 0
    for path in files:
        print(f"# {path.stem}")
        sys.stdout.flush()
        proc = subprocess.run([sys.executable, str(path)], cwd=here.parent)
        if proc.returncode != 0:
            print(f"{path.stem}: FAILED (exit {proc.returncode})")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
