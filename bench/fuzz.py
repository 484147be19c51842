"""Fuzz both webhooks of the product: statuses, 5xx, rows stored for invalid bodies, health after.

The product (Server with the Telegram and LINE channels) runs in this process against the fake
Telegram and LINE APIs, on a fresh SQLite file (or --postgres URL, an empty migrated database).
Bodies come from tests/fuzz_bodies.py: half invalid by construction (wrong secret or signature,
garbage, truncated, not an update, over the cap, nested 10,000 deep), half authentic but weird.
Afterwards the health endpoints must answer 200 and a real update must still get its reply.

Run: python -m bench.fuzz [--bodies 100000] [--concurrency 16] [--seed 0] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz_bodies import ENDPOINTS, INVALID, PHASES, WEIRD
from tests.test_fuzz_webhooks import (
    FuzzProduct,
    Tally,
    fire,
    fuzz_product,
    get_status,
    interleave,
    normal_turns_still_answered,
)

KEY = "bench-pseudonym-key-0123456789"
DEFAULT_BODIES = 100_000  # across both endpoints


class Errors(logging.Handler):
    """Counts log records at ERROR and above by logger and exception type (never prints them)."""

    def __init__(self) -> None:
        """Start with none counted."""
        super().__init__(logging.ERROR)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "-"
        self.seen[f"{record.name}: {record.getMessage()[:60]} ({kind})"] += 1


@dataclass
class Outcome:
    """What the run found: tallies by endpoint and phase, rows left, and the state after."""

    tallies: dict[str, dict[str, Tally]] = field(default_factory=dict)
    invalid_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    unfinished: int = 0
    health: list[int] = field(default_factory=list)
    answered_after: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether any requirement was missed."""
        answers = [t for phases in self.tallies.values() for t in phases.values()]
        return (
            any(t.server_errors or t.wrong for t in answers)
            or any(any(rows.values()) for rows in self.invalid_rows.values())
            or self.unfinished > 0
            or self.health != [200, 200]
            or not self.answered_after
        )


async def run_phases(product: FuzzProduct, bodies: int, concurrency: int, seed: int) -> Outcome:
    """Fire the invalid phase, count rows, fire the weird phase; check the bot afterwards."""
    outcome = Outcome(tallies={e: {} for e in ENDPOINTS})
    per_endpoint = bodies // len(ENDPOINTS)
    counts = {INVALID: per_endpoint // 2, WEIRD: per_endpoint - per_endpoint // 2}
    started = time.monotonic()
    for offset, phase in enumerate(PHASES):
        before = {e: await product.counts(e) for e in ENDPOINTS}
        stream = interleave(product, phase, counts[phase], seed=seed + offset)
        tallies = await fire(product.base_url, stream, concurrency=concurrency)
        await product.settle()
        for endpoint in ENDPOINTS:
            outcome.tallies[endpoint][phase] = tallies[endpoint]
            if phase == INVALID:
                after = await product.counts(endpoint)
                outcome.invalid_rows[endpoint] = {
                    name: after[name] - before[endpoint][name] for name in after
                }
    outcome.seconds = time.monotonic() - started
    outcome.unfinished = await product.unfinished()
    outcome.health = [
        await get_status(f"{product.base_url}{path}") for path in ("/healthz", "/readyz")
    ]
    try:
        await normal_turns_still_answered(product)
        outcome.answered_after = True
    except (AssertionError, TimeoutError):
        outcome.answered_after = False
    return outcome


def summary(outcome: Outcome) -> str:
    """The figures as a table: per endpoint and phase, then the state after."""
    lines = [f"{'endpoint':<9} {'phase':<8} {'bodies':>7} {'5xx':>4} {'wrong':>5}  statuses"]
    for endpoint, phases in outcome.tallies.items():
        for phase, tally in phases.items():
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.by_status().items()))
            lines.append(
                f"{endpoint:<9} {phase:<8} {tally.sent:>7} {tally.server_errors:>4}"
                f" {len(tally.wrong):>5}  {statuses}"
            )
    sent = {e: sum(t.sent for t in phases.values()) for e, phases in outcome.tallies.items()}
    server_errors = sum(t.server_errors for p in outcome.tallies.values() for t in p.values())
    rows = {e: sum(r.values()) for e, r in outcome.invalid_rows.items()}
    lines += [
        "",
        f"bodies: {sum(sent.values())} ({', '.join(f'{e} {n}' for e, n in sent.items())})"
        f" in {outcome.seconds:.0f} s",
        f"5xx (or no answer): {server_errors}",
        "rows stored for invalid bodies: "
        + ", ".join(f"{e} {n}" for e, n in rows.items())
        + f" ({', '.join(f'{e}: {r}' for e, r in outcome.invalid_rows.items())})",
        f"stored events left unprocessed: {outcome.unfinished}",
        f"after: /healthz {outcome.health[0]}, /readyz {outcome.health[1]}; a new Telegram user"
        f" and a new LINE friend {'got' if outcome.answered_after else 'did NOT get'}"
        " the privacy notice",
        f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB",
    ]
    return "\n".join(lines)


async def run(bodies: int, concurrency: int, seed: int, database: str | None) -> Outcome:
    """Start the product on a fresh database and fuzz it."""
    from bot.settings import Settings
    from storage.db import create_engine, session_factory
    from storage.schema import migrate

    with tempfile.TemporaryDirectory() as folder:
        url = database or f"sqlite+aiosqlite:///{Path(folder) / 'fuzz.db'}"
        await migrate(url)
        engine = create_engine(url)
        settings = Settings(database_url=url, pseudonym_key=KEY)
        try:
            async with fuzz_product(settings, session_factory(engine)) as product:
                return await run_phases(product, bodies, concurrency, seed)
        finally:
            await engine.dispose()


def main() -> int:
    """Parse the arguments, fuzz, print the summary; 1 if any requirement was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bodies", type=int, default=DEFAULT_BODIES, help="bodies across both endpoints"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL instead of SQLite")
    args = parser.parse_args()
    errors = Errors()
    logging.basicConfig(level=logging.ERROR, handlers=[errors])
    outcome = asyncio.run(run(args.bodies, args.concurrency, args.seed, args.postgres))
    print(summary(outcome))
    print(f"errors logged: {sum(errors.seen.values())}")
    for line, count in errors.seen.most_common(20):
        print(f"  {count:>7}  {line}")
    failed = outcome.failed or bool(errors.seen)
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
