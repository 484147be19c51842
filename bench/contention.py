"""Booking contention: many concurrent storage.bookings.book() calls, then invariants in SQL.

Each scenario has its own organisation, counselor, slots and members in a fresh database
(SQLite in a temporary file; PostgreSQL in a scratch database next to EAP_BENCH_POSTGRES_URL,
default the local test server). Every attempt is one unit of work, as a turn would open, all
started at once:

    one slot:   200 distinct members try to book the same slot (1 may succeed)
    100 slots:  2,000 distinct members, 20 on each of 100 slots (100 may succeed)
    one member: one member with two sessions' hours tries 20 slots at once (2 may succeed)

Afterwards SQL counts what must be zero: overlapping active bookings of a counselor, a slot
held twice, a negative balance, reserved minutes that differ from the member's active bookings,
and attempts that ended in anything but a booking or a domain refusal (e.g. a deadlock).

Run: python -m bench.contention [--backends sqlite postgres] [--scale 1.0] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import (
    PG_URL,
    Figure,
    percentile_ms,
    postgres_available,
    scratch_postgres,
    write_figures,
)
from bot.clock import utcnow
from storage import bookings
from storage.db import create_engine, session_factory, unit_of_work
from storage.errors import DomainError
from storage.models import Counselor, Member, Organisation, RosterEntry, RosterStatus, Slot
from storage.schema import migrate

SESSION_MINUTES = 60


@dataclass(frozen=True)
class Scenario:
    """Who tries to book what, all at once."""

    name: str
    attempts: int
    slots: int
    members: int
    minutes_per_year: int = 480

    @property
    def expected(self) -> int:
        """How many attempts should succeed: one per slot, within the member's hours."""
        if self.members == 1:
            return min(self.slots, self.minutes_per_year // SESSION_MINUTES)
        return min(self.slots, self.attempts)


def scenarios(scale: float) -> list[Scenario]:
    """The three scenarios; `scale` shrinks them for a smoke run."""
    one, many, slots = max(2, round(200 * scale)), max(4, round(2000 * scale)), 100
    slots = max(2, min(slots, round(100 * scale)))
    return [
        Scenario(f"{one} on 1 slot", attempts=one, slots=1, members=one),
        Scenario(f"{many} on {slots} slots", attempts=many, slots=slots, members=many),
        Scenario("1 member x 20 slots", attempts=20, slots=20, members=1, minutes_per_year=120),
    ]


@dataclass
class Outcome:
    """What one scenario produced."""

    scenario: Scenario
    seconds: float
    outcomes: dict[str, int]
    latencies: list[float]
    invariants: dict[str, int]

    @property
    def successes(self) -> int:
        """Attempts that booked."""
        return self.outcomes.get("booked", 0)

    @property
    def errors(self) -> int:
        """Attempts that failed with anything but a domain refusal."""
        return sum(n for kind, n in self.outcomes.items() if kind.startswith("error:"))


# Data: one organisation per scenario, written with bulk INSERTs


def _rows(number: int, s: Scenario, now: datetime) -> dict[type, list[dict[str, Any]]]:
    """The scenario's organisation, counselor, slots, roster and linked members, as rows."""
    first = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    ids = [number * 100_000 + i for i in range(1, max(s.members, s.slots) + 1)]
    return {
        Organisation: [
            {"id": number, "code": f"BENCH{number}", "name": f"Bench {number}",
             "minutes_per_year": s.minutes_per_year, "created_at": now}
        ],
        Counselor: [
            {"id": number, "organisation_id": number, "display_name": f"C{number}",
             "domains": "psychology", "modes": "video", "licence_number": f"L{number}",
             "licence_expires_on": date(2100, 1, 1), "session_minutes": SESSION_MINUTES}
        ],
        Slot: [
            {"id": slot_id, "counselor_id": number, "starts_at": first + timedelta(hours=n),
             "ends_at": first + timedelta(hours=n, minutes=SESSION_MINUTES)}
            for n, slot_id in enumerate(ids[: s.slots])
        ],
        RosterEntry: [
            {"id": i, "organisation_id": number, "employee_hash": f"h{i}",
             "status": RosterStatus.ACTIVE, "updated_at": now}
            for i in ids[: s.members]
        ],
        Member: [
            {"id": i, "channel": "test", "external_id": f"m{i}", "locale": "en",
             "consent_at": now, "pseudonym": f"p{i}", "organisation_id": number,
             "roster_entry_id": i, "linked_at": now, "first_seen_at": now}
            for i in ids[: s.members]
        ],
    }  # fmt: skip


async def _setup(
    sessions: async_sessionmaker[AsyncSession], number: int, s: Scenario, now: datetime
) -> tuple[list[int], list[int]]:
    """Write the scenario's rows with bulk INSERTs; return the member and slot ids."""
    rows = _rows(number, s, now)
    async with unit_of_work(sessions) as session:
        for model, values in rows.items():  # in foreign-key order
            await session.execute(insert(model), values)
    return [m["id"] for m in rows[Member]], [slot["id"] for slot in rows[Slot]]


async def _attempt(
    sessions: async_sessionmaker[AsyncSession], member_id: int, slot_id: int, now: datetime
) -> tuple[str, float]:
    """One booking attempt in its own unit of work; its outcome and duration."""
    started = time.perf_counter()
    try:
        async with unit_of_work(sessions) as session:
            member = await session.get(Member, member_id)
            await bookings.book(
                session,
                member=member,
                slot_id=slot_id,
                domain="psychology",
                mode="video",
                now=now,
            )
        kind = "booked"
    except DomainError as err:
        kind = type(err).__name__
    except Exception as err:  # counted, not raised: the point is to see whether any happen
        kind = f"error:{type(err).__name__}"
    return kind, time.perf_counter() - started


# Invariants, each a count that must be zero, per organisation

INVARIANTS = {
    "overlapping bookings": """
        SELECT COUNT(*) FROM booking a JOIN booking b
          ON a.counselor_id = b.counselor_id AND a.id < b.id
         AND a.status = 'booked' AND b.status = 'booked'
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
       WHERE a.organisation_id = :org""",
    "slots held twice": """
        SELECT COUNT(*) FROM (SELECT slot_id FROM booking
          WHERE organisation_id = :org AND status = 'booked'
          GROUP BY slot_id HAVING COUNT(*) > 1) AS twice""",
    "negative balances": """
        SELECT COUNT(*) FROM (SELECT member_id, plan_year,
          SUM(CASE WHEN bucket = 'granted' THEN minutes ELSE -minutes END) AS left_minutes
          FROM hours_entry WHERE organisation_id = :org
          GROUP BY member_id, plan_year) AS balances WHERE left_minutes < 0""",
    "ledger mismatches": """
        SELECT COUNT(*) FROM member m WHERE m.organisation_id = :org AND
          COALESCE((SELECT SUM(minutes) FROM hours_entry h
                     WHERE h.member_id = m.id AND h.bucket = 'reserved'), 0)
          <> COALESCE((SELECT SUM(minutes) FROM booking b
                     WHERE b.member_id = m.id AND b.status = 'booked'), 0)""",
    "active bookings != successes": """
        SELECT ABS(COUNT(*) - :successes) FROM booking
         WHERE organisation_id = :org AND status = 'booked'""",
}


async def check_invariants(
    sessions: async_sessionmaker[AsyncSession], org: int, successes: int
) -> dict[str, int]:
    """Count breaches of each invariant in one organisation's rows."""
    found = {}
    async with unit_of_work(sessions) as session:
        for name, sql in INVARIANTS.items():
            params = {"org": org, "successes": successes}
            found[name] = int((await session.execute(text(sql), params)).scalar() or 0)
    return found


async def run_scenario(
    sessions: async_sessionmaker[AsyncSession], number: int, s: Scenario, seed: int
) -> Outcome:
    """Set up one scenario, fire every attempt at once, then check the invariants."""
    now = utcnow()
    member_ids, slot_ids = await _setup(sessions, number, s, now)
    plan = [
        (member_ids[i % len(member_ids)], slot_ids[i % len(slot_ids)]) for i in range(s.attempts)
    ]
    random.Random(seed).shuffle(plan)
    started = time.perf_counter()
    results = await asyncio.gather(*(_attempt(sessions, m, slot, now) for m, slot in plan))
    seconds = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for kind, _ in results:
        outcomes[kind] = outcomes.get(kind, 0) + 1
    successes = outcomes.get("booked", 0)
    invariants = await check_invariants(sessions, number, successes)
    invariants["unexpected successes"] = abs(successes - s.expected)
    return Outcome(s, seconds, outcomes, [d for _, d in results], invariants)


async def run_backend(url: str, plan: list[Scenario], seed: int) -> list[Outcome]:
    """Migrate the empty database at `url` and run every scenario in it."""
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        return [
            await run_scenario(sessions, number, s, seed) for number, s in enumerate(plan, start=1)
        ]
    finally:
        await engine.dispose()


async def measure(
    backends: list[str], scale: float, seed: int = 0, postgres_url: str = PG_URL
) -> dict[str, list[Outcome]]:
    """Run the scenarios on each backend (PostgreSQL skipped when it does not answer)."""
    plan = scenarios(scale)
    results: dict[str, list[Outcome]] = {}
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="eap-bench-contention-") as folder:
                url = f"sqlite+aiosqlite:///{folder}/bench.db"
                results[backend] = await run_backend(url, plan, seed)
        elif await postgres_available(postgres_url):
            async with scratch_postgres(postgres_url) as url:
                results[backend] = await run_backend(url, plan, seed)
        else:
            print("PostgreSQL does not answer; skipped", file=sys.stderr)
    return results


def figures(results: dict[str, list[Outcome]]) -> list[Figure]:
    """The figures `python -m bench` collects: successes, throughput, p99, breaches."""
    out = []
    for backend, outcomes in results.items():
        for o in outcomes:
            where = f"{backend}, {o.scenario.name}"
            out += [
                Figure(f"{where}: successes (expected {o.scenario.expected})", o.successes, ""),
                Figure(f"{where}: attempts/s", o.scenario.attempts / o.seconds, "/s"),
                Figure(f"{where}: attempt p99", percentile_ms(o.latencies, 99), "ms"),
                Figure(f"{where}: errors", o.errors, "", must_be_zero=True),
                Figure(
                    f"{where}: invariant breaches",
                    sum(o.invariants.values()),
                    "",
                    must_be_zero=True,
                ),
            ]
    return out


def table(results: dict[str, list[Outcome]]) -> str:
    """One line per backend and scenario."""
    lines = [
        f"{'backend':<9}{'scenario':<22}{'successes':>10}{'expected':>9}{'attempts/s':>11}"
        f"{'p50 ms':>8}{'p99 ms':>9}{'errors':>7}  breaches"
    ]
    for backend, outcomes in results.items():
        for o in outcomes:
            breaches = {k: v for k, v in o.invariants.items() if v} or "none"
            lines.append(
                f"{backend:<9}{o.scenario.name:<22}{o.successes:>10}{o.scenario.expected:>9}"
                f"{o.scenario.attempts / o.seconds:>11.1f}{percentile_ms(o.latencies, 50):>8.0f}"
                f"{percentile_ms(o.latencies, 99):>9.0f}{o.errors:>7}  {breaches}"
            )
    return "\n".join(lines)


def details(results: dict[str, list[Outcome]]) -> dict[str, Any]:
    """Outcome counts and invariant counts, for the JSON file."""
    return {
        backend: {
            o.scenario.name: {"outcomes": o.outcomes, "invariants": o.invariants} for o in outcomes
        }
        for backend, outcomes in results.items()
    }


def cli() -> None:
    """Parse the command line, run, print the table, write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.contention", description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the scenarios (0-1]")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --scale 0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else args.scale
    results = asyncio.run(measure(args.backends, scale, args.seed))
    print(table(results))
    write_figures(args.json, figures(results), contention=details(results))


if __name__ == "__main__":
    cli()
