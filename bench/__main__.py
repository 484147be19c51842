"""Run every benchmark, each run in its own process; print one table and write a JSON file.

    python -m bench [--runs 3] [--quick] [--suites telegram,contention] [--json FILE]

Each figure is the median of --runs runs (default 3; 1 with --quick), with min and max. The
KPI bench builds its data sets once and times the snapshot --runs times on each, so its
figures are the median of those timings. A figure marked "must be 0" is an invariant (lost
messages, double bookings, ...): any run breaking one makes the command fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUITES = (
    "telegram",
    "line",
    "ackload",
    "contention",
    "broadcast",
    "kpi",
    "memory",
    "crisis",
    "failover",
    "scaleout",
)
SUITE_TIMEOUT = 45 * 60  # seconds; a suite that takes longer is stuck


@dataclass
class Row:
    """One figure summarised over the runs."""

    suite: str
    name: str
    unit: str
    values: list[float]
    must_be_zero: bool

    @property
    def median(self) -> float:
        """The median value."""
        return statistics.median(self.values)

    @property
    def ok(self) -> bool:
        """False when an invariant was broken in any run."""
        return not self.must_be_zero or max(self.values) == 0


@dataclass
class Suite:
    """Every run of one suite."""

    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0


def run_once(suite: str, quick: bool, runs: int) -> dict[str, Any] | None:
    """Run one suite once in its own process; its figures, or None when it failed."""
    with tempfile.TemporaryDirectory(prefix="eap-bench-") as folder:
        out = Path(folder) / "figures.json"
        command = [sys.executable, "-m", f"bench.{suite}", "--json", str(out)]
        if quick:
            command.append("--quick")
        if suite == "kpi":
            command += ["--runs", str(runs)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, timeout=SUITE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            print(f"!! bench.{suite} took over {SUITE_TIMEOUT} s; stopped", flush=True)
            return None
        if done.returncode != 0 or not out.exists():
            print(f"!! bench.{suite} failed (exit {done.returncode})", flush=True)
            return None
        return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def run_suite(suite: str, runs: int, quick: bool) -> Suite:
    """Run a suite `runs` times (the KPI suite once, timing `runs` times inside)."""
    result = Suite(suite)
    started = time.perf_counter()
    for number in range(1 if suite == "kpi" else runs):
        print(f"\n== bench.{suite}, run {number + 1}", flush=True)
        figures = run_once(suite, quick, runs)
        if figures is None:
            result.failed += 1
        else:
            result.runs.append(figures)
    result.seconds = time.perf_counter() - started
    return result


def summarise(suite: Suite) -> list[Row]:
    """One row per figure name, in the order the suite reports them."""
    rows: dict[str, Row] = {}
    for run in suite.runs:
        for figure in run["figures"]:
            row = rows.setdefault(
                figure["name"],
                Row(suite.name, figure["name"], figure["unit"], [], figure["must_be_zero"]),
            )
            row.values += figure.get("samples") or [figure["value"]]
    return list(rows.values())


def number(value: float, unit: str) -> str:
    """A value with as many digits as it deserves."""
    if unit == "" or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: list[Row]) -> str:
    """The combined table: suite, figure, median, min, max, unit, samples."""
    width = max([len(r.name) for r in rows] + [6])
    head = f"{'suite':<11}{'figure':<{width}}{'median':>10}{'min':>10}{'max':>10}"
    lines = [f"{head}  {'unit':<5}{'n':>3}"]
    for r in rows:
        note = "" if not r.must_be_zero else ("  must be 0" if r.ok else "  !! MUST BE 0")
        lines.append(
            f"{r.suite:<11}{r.name:<{width}}{number(r.median, r.unit):>10}"
            f"{number(min(r.values), r.unit):>10}{number(max(r.values), r.unit):>10}"
            f"  {r.unit:<5}{len(r.values):>3}{note}"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        total = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(total) / 1024**2, 1)
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    """Run the chosen suites, print the combined table, write the JSON file."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, help="runs per suite (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke pass")
    parser.add_argument("--suites", default=",".join(SUITES), help="comma-separated")
    parser.add_argument("--json", default="bench-results.json", help="where to write results")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    chosen = [s for s in args.suites.split(",") if s]
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suites: {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    host = machine()
    suites = [run_suite(name, runs, args.quick) for name in chosen]
    rows = [row for suite in suites for row in summarise(suite)]
    print(f"\n== Combined: median (min-max) of {runs} run(s) each; {_describe(host)}")
    print(table(rows))
    failed = [s.name for s in suites if s.failed]
    broken = [f"{r.suite}: {r.name}" for r in rows if not r.ok]
    if failed:
        print(f"!! suites with failed runs: {', '.join(failed)}")
    if broken:
        print(f"!! invariants broken: {'; '.join(broken)}")
    report = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": host,
        "runs": runs,
        "quick": args.quick,
        "suites": {s.name: _suite_report(s) for s in suites},
    }
    Path(args.json).write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"written: {args.json}")
    return 1 if failed or broken else 0


def _suite_report(suite: Suite) -> dict[str, Any]:
    """A suite's summary and raw runs, for the JSON file."""
    summary = [
        {"figure": r.name, "unit": r.unit, "median": r.median, "min": min(r.values),
         "max": max(r.values), "values": r.values, "must_be_zero": r.must_be_zero}
        for r in summarise(suite)
    ]  # fmt: skip
    return {
        "seconds": round(suite.seconds, 1),
        "failed_runs": suite.failed,
        "summary": summary,
        "runs": suite.runs,
    }


def _describe(host: dict[str, Any]) -> str:
    memory = f", {host['memory_gib']} GiB" if "memory_gib" in host else ""
    return f"{host['cpus']} CPUs{memory}, Python {host['python']}"


if __name__ == "__main__":
    sys.exit(main())
