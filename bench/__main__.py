"""Run every benchmark in turn: python -m bench (each prints its own table)."""

from __future__ import annotations

import subprocess
import sys

SUITES = ("bench.telegram", "bench.line", "bench.kpi")


def main() -> int:
    """Run each suite in its own process so one cannot skew another's memory figures."""
    failed = 0
    for suite in SUITES:
        print(f"\n== {suite}", flush=True)
        failed += subprocess.run([sys.executable, "-m", suite]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
