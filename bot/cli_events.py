"""Operator commands for stored platform events: list the parked ones, put them back in line."""

from __future__ import annotations

import argparse
from typing import Any

from bot.clock import utcnow
from bot.runtime import open_runtime
from bot.settings import Settings
from storage import audit, events
from storage.db import unit_of_work


def add_parsers(commands: Any) -> None:
    """Add `events parked` and `events retry` to the CLI."""
    group = commands.add_parser(
        "events",
        help="stored events that kept failing (parked)",
        description=f"An event whose turn fails {events.MAX_FAILURES} times while the database "
        "answers is parked: kept (until retention) but not retried, with a warning in the log, "
        "an audit entry and the eap_events_parked metric.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("parked", help="list parked events (stored row number, times; no content)")
    actions.add_parser("retry", help="put every parked event back in line (after a fix)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `events parked` or `events retry`."""
    async with open_runtime(settings) as runtime, unit_of_work(runtime.sessions) as session:
        if args.action == "parked":
            rows = await events.parked(session)
            for row in rows:
                channel = getattr(row.channel, "value", row.channel)
                when = f"{row.parked_at:%Y-%m-%d %H:%M}"
                print(
                    f"#{row.id:<8} {channel:<9} received {row.received_at:%Y-%m-%d %H:%M}, "
                    f"parked {when} UTC after {row.failures} failures"
                )
            print(f"{len(rows)} parked event(s)")
            return 0
        count = await events.unpark(session)
        await audit.record(
            session,
            actor_kind="operator",
            action="events-retry",
            now=utcnow(),
            detail={"count": count},
        )
        print(f"{count} parked event(s) put back in line; the bot takes them at its next catch-up")
        return 0
