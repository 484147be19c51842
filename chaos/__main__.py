"""`python -m chaos`: run the chaos scenarios against the real server and print one table.

    1 platform    the fake Telegram and LINE fail 20 % of the bot's calls (429, 5xx, resets,
                  timeouts, some after carrying the call out) during 500 parallel journeys
    2 crash       `bot.py serve` is SIGKILLed 6 times during 5,000 updates and restarted
    3 outage      the private PostgreSQL cluster under `serve` is restarted, then crashed
    4 duplicates  every update twice, late and interleaved, against a clean run

Run: python -m chaos [--only platform,crash,outage,duplicates] [--quick]
Progress goes to stderr; the table (Markdown) to stdout. Exit status 1 when a row fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from chaos import postgres, scenarios
from chaos.scenarios import Row, Say

FULL = {
    "platform": {"users": 500},
    "crash": {"users": 500, "kills": 6},
    "outage": {"users": 300},
    "duplicates": {"users": 200},
}
QUICK = {
    "platform": {"users": 12, "wait": 90.0},
    "crash": {"users": 40, "kills": 2, "concurrency": 20},
    "outage": {"users": 30, "concurrency": 15, "pause": 2.0},
    "duplicates": {"users": 16, "lanes": 4},
}
RUNNERS: dict[str, Callable[..., Awaitable[Row]]] = {
    "platform": scenarios.platform_faults,
    "crash": scenarios.crashes,
    "outage": scenarios.outage,
    "duplicates": scenarios.duplicates,
}
FOOTNOTE = (
    "† Duplicates the bot cannot know it makes. Telegram's Bot API has no idempotency key: "
    "when the answer to a send is lost (a timeout or reset after Telegram took it, or a SIGKILL "
    "before the send was recorded) the bot must send again. LINE pushes carry X-Line-Retry-Key, "
    "and a reply whose answer was lost is retried with its own token (LINE takes a token once); "
    "only when that token has expired before the retry does the bot push, and may repeat it."
)
HEADER = (
    "scenario",
    "load offered",
    "faults injected",
    "effects expected",
    "lost",
    "duplicated",
    "5xx",
    "final invariant check",
)


def table(rows: list[Row]) -> str:
    """The results as one Markdown table, with each scenario's notes under it."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = (
            row.scenario,
            row.load,
            row.faults,
            row.expected,
            str(row.lost),
            f"{row.duplicated} ({row.unavoidable} unavoidable†)"
            if row.unavoidable
            else str(row.duplicated),
            str(row.server_errors),
            row.verdict,
        )
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines.append("")
    if any(row.unavoidable for row in rows):
        lines.append(FOOTNOTE)
        lines.append("")
    for row in rows:
        for note in row.notes:
            lines.append(f"- {row.scenario}: {note}")
    return "\n".join(lines)


def _say(started: float) -> Say:
    def say(message: str) -> None:
        print(f"[chaos {time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return say


async def run(names: list[str], *, quick: bool) -> list[Row]:
    """Run the named scenarios one after another."""
    say = _say(time.monotonic())
    sizes = QUICK if quick else FULL
    rows = []
    for name in names:
        if name == "outage" and (reason := postgres.unavailable()):
            say(f"outage skipped: {reason}")
            rows.append(Row("3. database outage (PostgreSQL)", "-", "-", "-", notes=[reason]))
            continue
        say(f"--- {name}")
        rows.append(await RUNNERS[name](say, **sizes[name]))
        say(f"{name}: lost {rows[-1].lost}, duplicated {rows[-1].duplicated}, {rows[-1].verdict}")
    return rows


def main() -> int:
    """Parse the arguments, run, print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", default=",".join(RUNNERS), help="scenarios, comma-separated")
    parser.add_argument("--quick", action="store_true", help="the small sizes make test runs")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    rows = asyncio.run(run(names, quick=args.quick))
    print(table(rows))
    return 0 if all(r.passed or r.load == "-" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
