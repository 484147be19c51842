"""Benchmark: the KPI snapshot of one organisation next to a plain COUNT(*) of its bookings.

Run `python -m bench.kpi` (options: --sizes, --backends, --runs, --quick, --json FILE). For
each backend (SQLite in a temporary file, PostgreSQL in a temporary database created and
dropped on the server named by EAP_BENCH_POSTGRES_URL, default the local test server) and each
roster size, it builds a data set with INSERT ... SELECT (10 bookings per member, plus
activity, ledger, feedback and crisis rows), then times the snapshot and one `SELECT COUNT(*)
FROM booking` in a fresh process, so the reported peak RSS is that of the measuring process
alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import Figure, write_figures
from kpi import snapshot as snapshots
from kpi.snapshot import snapshot_all
from storage.db import create_engine, is_sqlite, session_factory
from storage.schema import migrate

PG_URL = os.environ.get(
    "EAP_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 24, 2, tzinfo=UTC)  # a Tuesday: the week 16-22 Nov is complete
BOOKINGS_PER_MEMBER = 10
DAYS = 327  # 1 Jan .. 23 Nov 2026
STATUSES = "held held held held held held no_show cancelled late_cancelled booked".split()
DOMAINS = ("psychology", "legal", "finance", "nutrition")


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, sqlite: bool) -> None:
        """Pick the spellings of one backend."""
        self.sqlite = sqlite

    def numbers(self, count: str, alias: str = "n") -> str:
        """A FROM clause yielding rows {alias}.i = 1..count."""
        if self.sqlite:
            return (
                f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {count}) SELECT i FROM n) AS {alias}"
            )
        return f"generate_series(1, {count}) AS {alias}(i)"

    def day(self, offset: str) -> str:
        """The date 1 Jan 2026 plus `offset` days."""
        if self.sqlite:
            return f"date('2026-01-01', '+' || ({offset}) || ' days')"
        return f"(date '2026-01-01' + ({offset})::int)"

    def stamp(self, offset: str, hour: str) -> str:
        """1 Jan 2026 00:00 UTC plus `offset` days and `hour` hours, as stored."""
        if self.sqlite:
            return (
                f"strftime('%Y-%m-%d %H:%M:%S.000000', '2026-01-01', "
                f"'+' || ({offset}) || ' days', '+' || ({hour}) || ' hours')"
            )
        return (
            f"(timestamptz '2026-01-01 00:00:00+00' + "
            f"make_interval(days => ({offset})::int, hours => ({hour})::int))"
        )


def _case(column: str, values: tuple[str, ...] | list[str]) -> str:
    arms = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({column}) % {len(values)} {arms} END)"


def _fixed_rows(d: Dialect) -> list[str]:
    return [
        "INSERT INTO organisation (id, code, name, timezone, plan_year_start_month, "
        "plan_year_start_day, minutes_per_year, enabled_domains, cancellation_cutoff_hours, "
        "min_notice_hours, booking_horizon_days, no_show_uses_hours, min_group_size, "
        "min_group_size_usage, digest_weekday, digest_hour, created_at) VALUES (1, 'BENCH', "
        "'Bench', 'Asia/Taipei', 1, 1, 480, 'psychology,legal,finance,nutrition', 24, 24, 30, "
        f"true, 5, 10, 0, 9, {d.stamp('0', '0')})",
        "INSERT INTO counselor (id, organisation_id, display_name, domains, modes, languages, "
        "licence_number, licence_expires_on, session_minutes, buffer_minutes, "
        "decline_window_hours, locale, active) VALUES (1, 1, 'C', "
        "'psychology,legal,finance,nutrition', 'video', 'zh-TW', 'L', "
        f"{d.day('1500')}, 60, 10, 12, 'zh-TW', true)",
        "INSERT INTO slot (id, counselor_id, starts_at, ends_at, blocked) VALUES "
        f"(1, 1, {d.stamp('0', '1')}, {d.stamp('0', '2')}, false)",
    ]


def _people(d: Dialect, members: int) -> list[str]:
    return [
        "INSERT INTO roster_entry (organisation_id, employee_hash, department, status, "
        f"updated_at) SELECT 1, 'h' || i, 'D' || (i % 20), "
        f"CASE WHEN i % 20 = 0 THEN 'left' ELSE 'active' END, {d.stamp('0', '0')} "
        f"FROM {d.numbers(str(members))}",
        "INSERT INTO member (channel, external_id, locale, consent_at, pseudonym, grant_key, "
        "organisation_id, roster_entry_id, linked_at, first_seen_at) SELECT 'test', 'e' || id, "
        f"'zh-TW', {d.stamp('0', '0')}, 'p' || id, 'g' || id, 1, id, {d.stamp('0', '0')}, "
        f"{d.stamp('0', '0')} FROM roster_entry",
        "INSERT INTO member_activity (organisation_id, member_id, pseudonym, kind, day) "
        f"SELECT 1, id, pseudonym, 'viewed_services', {d.day(f'id % {DAYS}')} FROM member "
        "WHERE id % 3 <> 0 "
        f"UNION ALL SELECT 1, id, pseudonym, 'checked_hours', {d.day(f'(id * 7) % {DAYS}')} "
        "FROM member WHERE id % 3 <> 0",
        "INSERT INTO crisis_event (organisation_id, member_id, channel, locale, occurred_at) "
        f"SELECT 1, id, 'test', 'zh-TW', {d.stamp(f'id % {DAYS}', '3')} FROM member "
        "WHERE id % 50 = 0",
    ]


def _bookings(d: Dialect) -> list[str]:
    day = f"(m.id * 7 + k.i * 31) % {DAYS}"
    hour = "1 + (m.id + k.i) % 9"
    return [
        "INSERT INTO booking (organisation_id, member_id, counselor_id, slot_id, domain, mode, "
        "minutes, plan_year, starts_at, ends_at, status, crisis_flag, created_at, updated_at) "
        f"SELECT 1, m.id, 1, 1, {_case('k.i + m.id', DOMAINS)}, 'video', 60, "
        f"{d.day('0')}, {d.stamp(day, hour)}, {d.stamp(day, f'{hour} + 1')}, "
        f"{_case('m.id + k.i', STATUSES)}, false, {d.stamp(day, '0')}, {d.stamp(day, '0')} "
        f"FROM member AS m CROSS JOIN {d.numbers(str(BOOKINGS_PER_MEMBER), 'k')}",
    ]


def _outcomes() -> list[str]:
    return [
        "INSERT INTO hours_entry (organisation_id, member_id, plan_year, bucket, minutes, "
        "domain, booking_id, reason, idempotency_key, created_at) SELECT 1, member_id, "
        "plan_year, 'used', minutes, domain, id, status, 'use:' || id, ends_at FROM booking "
        "WHERE status IN ('held', 'no_show', 'late_cancelled')",
        "INSERT INTO feedback (organisation_id, booking_id, member_id, domain, prompted_at, "
        "expires_at, answered_at, satisfaction, resolved, would_use_again) SELECT 1, id, "
        "member_id, domain, ends_at, ends_at, CASE WHEN id % 2 = 0 THEN ends_at END, "
        "CASE WHEN id % 2 = 0 THEN 1 + id % 5 END, "
        "CASE WHEN id % 2 = 0 THEN 'yes' END, CASE WHEN id % 2 = 0 THEN true END "
        "FROM booking WHERE status = 'held'",
    ]


async def generate(url: str, members: int) -> float:
    """Migrate and fill the database; return the seconds it took."""
    started = time.perf_counter()
    await migrate(url)
    d = Dialect(is_sqlite(url))
    engine = create_engine(url)
    async with engine.begin() as connection:
        for sql in [*_fixed_rows(d), *_people(d, members), *_bookings(d), *_outcomes()]:
            await connection.execute(text(sql))
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    await engine.dispose()
    return time.perf_counter() - started


def _rss_now_kb() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


async def _timed(action: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()  # type: ignore[misc]
        times.append(time.perf_counter() - started)
    return times


async def measure(url: str, runs: int) -> dict[str, object]:
    """Time the snapshot and a COUNT(*) in this process; report its memory."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    async def count() -> int:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT COUNT(*) FROM booking"))).scalar())

    bookings = await count()
    baseline = _rss_now_kb()
    snapshot_times = await _timed(lambda: snapshot_all(sessions, NOW), runs)
    count_times = await _timed(count, runs)
    async with sessions() as session:
        stored = await snapshots.latest(session, 1, on=NOW.date())
    await engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "bookings": bookings,
        "snapshot": snapshot_times,
        "count": count_times,
        "rss_baseline_kb": baseline,
        "rss_peak_kb": peak,
        "figures": _headline(stored.metrics if stored else {}),
    }


def _headline(body: dict[str, Any]) -> dict[str, object]:
    year = body.get("plan_year", {})
    return {
        "participation": year.get("participation", {}).get("rate"),
        "utilization": year.get("utilization", {}).get("rate"),
        "sessions": year.get("sessions", {}).get("total"),
        "feedback_rate": year.get("feedback", {}).get("rate"),
    }


def _measure_in_child(url: str, runs: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.kpi", "--measure", url, "--runs", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def _admin(sql: str) -> None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(sql))
    await engine.dispose()


async def run_sqlite(members: int, runs: int) -> dict[str, object]:
    """Build a temporary SQLite file, measure, remove it."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        built = await generate(url, members)
        return {"generate": built, **_measure_in_child(url, runs)}


async def run_postgres(members: int, runs: int) -> dict[str, object]:
    """Build a temporary PostgreSQL database, measure, drop it."""
    name = f"eap_bench_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        built = await generate(url, members)
        return {"generate": built, **_measure_in_child(url, runs)}
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):7.3f} ({min(times):.3f}-{max(times):.3f})"


def print_table(results: list[tuple[str, int, dict[str, object]]]) -> None:
    """Print one row per backend and size."""
    print(
        f"{'backend':<10} {'members':>8} {'bookings':>9} {'build s':>8} "
        f"{'snapshot s, median (min-max)':>30} {'COUNT(*) s, median (min-max)':>30} "
        f"{'ratio':>7} {'RSS base MB':>11} {'RSS peak MB':>11}"
    )
    for backend, members, r in results:
        snap, count = r["snapshot"], r["count"]
        ratio = statistics.median(snap) / max(statistics.median(count), 1e-9)  # type: ignore[arg-type]
        print(
            f"{backend:<10} {members:>8} {r['bookings']:>9} {r['generate']:>8.1f} "
            f"{_spread(snap):>30} {_spread(count):>30} {ratio:>7.1f} "  # type: ignore[arg-type]
            f"{int(r['rss_baseline_kb']) / 1024:>11.1f} {int(r['rss_peak_kb']) / 1024:>11.1f}"  # type: ignore[call-overload]
        )


def figures(results: list[tuple[str, int, dict[str, Any]]]) -> list[Figure]:
    """The figures `python -m bench` collects, each with this run's repeated timings."""
    out = []
    for backend, members, r in results:
        snap, count = r["snapshot"], r["count"]
        ratios = tuple(s / max(c, 1e-9) for s, c in zip(snap, count, strict=True))
        where = f"{backend}, {members:,} members"
        out += [
            Figure(f"{where}: snapshot", statistics.median(snap), "s", samples=tuple(snap)),
            Figure(f"{where}: COUNT(*)", statistics.median(count), "s", samples=tuple(count)),
            Figure(f"{where}: snapshot/COUNT(*)", statistics.median(ratios), "x", samples=ratios),
            Figure(f"{where}: peak RSS", int(r["rss_peak_kb"]) / 1024, "MB"),
        ]
    return out


async def main(
    sizes: list[int], backends: list[str], runs: int, json_path: str | None = None
) -> None:
    """Run every backend and size and print the table."""
    runners = {"sqlite": run_sqlite, "postgres": run_postgres}
    results = []
    for backend in backends:
        for members in sizes:
            print(f"... {backend} {members}", file=sys.stderr, flush=True)
            results.append((backend, members, await runners[backend](members, runs)))
    print_table(results)
    for backend, members, r in results:
        print(f"plan-year figures in the {backend} {members} snapshot: {r['figures']}")
    write_figures(json_path, figures(results))


def cli() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 and 5,000")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.measure, args.runs))))
        return
    sizes = [1_000, 5_000] if args.quick else args.sizes
    asyncio.run(main(sizes, args.backends, args.runs, args.json))


if __name__ == "__main__":
    cli()
