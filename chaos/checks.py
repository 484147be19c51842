"""What the database must say after chaos: SQL invariants, quiescence, end-state snapshots."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# Each query counts violations; all must be 0.
INVARIANTS = {
    "slot double-booked": """
        SELECT count(*) FROM (
            SELECT slot_id FROM booking WHERE status = 'booked'
            GROUP BY slot_id HAVING count(*) > 1
        ) AS twice""",
    "booking not holding its slot": """
        SELECT count(*) FROM booking
        WHERE status = 'booked' AND (active_slot_id IS NULL OR active_slot_id <> slot_id)""",
    "hours negative": """
        SELECT count(*) FROM (
            SELECT member_id, plan_year,
                   sum(CASE WHEN bucket = 'granted' THEN minutes ELSE -minutes END) AS left_
            FROM hours_entry GROUP BY member_id, plan_year
        ) AS balance WHERE left_ < 0""",
    "booking without its ledger entry": """
        SELECT count(*) FROM booking AS b
        WHERE b.status = 'booked' AND b.minutes <> (
            SELECT coalesce(sum(h.minutes), 0) FROM hours_entry AS h
            WHERE h.booking_id = b.id AND h.bucket = 'reserved')""",
    "ledger entry without its booking": """
        SELECT count(*) FROM hours_entry AS h
        WHERE h.booking_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM booking AS b WHERE b.id = h.booking_id)""",
    "booking without history": """
        SELECT count(*) FROM booking AS b
        WHERE NOT EXISTS (SELECT 1 FROM booking_event AS e WHERE e.booking_id = b.id)""",
    "booking on another counselor's slot": """
        SELECT count(*) FROM booking AS b JOIN slot AS s ON s.id = b.slot_id
        WHERE s.counselor_id <> b.counselor_id OR s.starts_at <> b.starts_at""",
    "event stored but never processed": """
        SELECT count(*) FROM processed_event WHERE processed_at IS NULL""",
    "event processed without its reply": """
        SELECT count(*) FROM processed_event AS e
        WHERE e.processed_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM outbox_message AS o
            WHERE o.idempotency_key = 'reply:' || e.channel || ':' || e.event_id)""",
    "message not delivered": "SELECT count(*) FROM outbox_message WHERE status <> 'sent'",
}


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncEngine]:
    """A short-lived engine on the bot's database, to read it from outside the bot.

    Not storage.db's engine: on SQLite that one opens every transaction as a writer, and the
    harness must not queue behind the bot (WAL lets readers through).
    """
    if url.startswith("postgresql"):
        engine = create_async_engine(url, pool_size=2, pool_pre_ping=True)
    else:
        engine = create_async_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def violations(url: str) -> dict[str, int]:
    """Each invariant that does not hold, with how many rows break it."""
    found = {}
    async with database(url) as engine, engine.connect() as connection:
        for name, query in INVARIANTS.items():
            count = int((await connection.execute(text(query))).scalar_one())
            if count:
                found[name] = count
    return found


async def backlog(url: str) -> tuple[int, int]:
    """Events not yet processed, and messages not yet sent (pending, not given up)."""
    async with database(url) as engine, engine.connect() as connection:
        events = await connection.execute(
            text("SELECT count(*) FROM processed_event WHERE processed_at IS NULL")
        )
        messages = await connection.execute(
            text("SELECT count(*) FROM outbox_message WHERE status = 'pending'")
        )
        return int(events.scalar_one()), int(messages.scalar_one())


async def wait_quiet(url: str, within: float, *, say: Any = None) -> bool:
    """Wait until every stored event is processed and every message sent (False: not within)."""
    deadline = time.monotonic() + within
    last = 0.0
    while True:
        try:
            events, messages = await backlog(url)
        except Exception:  # the database may be coming back
            events = messages = -1
        if events == 0 and messages == 0:
            return True
        if time.monotonic() > deadline:
            return False
        if say is not None and time.monotonic() - last > 10:
            say(f"waiting for the backlog: {events} events, {messages} messages")
            last = time.monotonic()
        await asyncio.sleep(0.5)


@dataclass(frozen=True)
class OutboxRow:
    """What the accounting needs of an outbox message (its content is gone once sent)."""

    id: int
    channel: str
    recipient: str
    key: str
    retry_key: str
    status: str


async def outbox_rows(url: str) -> list[OutboxRow]:
    """Every outbox message."""
    async with database(url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT id, channel, recipient, idempotency_key, retry_key, status "
                "FROM outbox_message ORDER BY id"
            )
        )
        return [OutboxRow(*row) for row in rows]


async def processed_events(url: str) -> dict[tuple[str, str], bool]:
    """Every stored event: (channel, event id) -> processed."""
    async with database(url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT channel, event_id, processed_at IS NOT NULL FROM processed_event")
        )
        return {(channel, event_id): bool(done) for channel, event_id, done in rows}


async def processing_order(
    url: str, channel: str, event_ids: list[str]
) -> list[tuple[str, datetime, datetime]]:
    """The given events in the order they were processed: (id, received, processed)."""
    from sqlalchemy import select

    from storage.db import session_factory
    from storage.models import ProcessedEvent

    async with database(url) as engine, session_factory(engine)() as session:
        columns = (ProcessedEvent.event_id, ProcessedEvent.received_at)
        rows = await session.execute(
            select(*columns, ProcessedEvent.processed_at)
            .where(
                ProcessedEvent.channel == channel,
                ProcessedEvent.event_id.in_(event_ids),
                ProcessedEvent.processed_at.is_not(None),
            )
            .order_by(ProcessedEvent.processed_at)
        )
        return [(event_id, received, processed) for event_id, received, processed in rows]


async def bookings_by_chat(url: str) -> Counter[tuple[str, str]]:
    """How many bookings (any status) each chat's member has."""
    async with database(url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT m.channel, m.external_id, count(*) FROM booking AS b "
                "JOIN member AS m ON m.id = b.member_id GROUP BY m.channel, m.external_id"
            )
        )
        return Counter({(channel, chat): int(n) for channel, chat, n in rows})


async def linked_chats(url: str) -> set[tuple[str, str]]:
    """Chats whose member consented and linked to the roster."""
    async with database(url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT channel, external_id FROM member "
                "WHERE consent_at IS NOT NULL AND roster_entry_id IS NOT NULL"
            )
        )
        return {(channel, chat) for channel, chat in rows}


async def free_slots(url: str, *, after: datetime) -> dict[str, list[int]]:
    """Open slot ids per domain, soonest first, starting after `after`."""
    from sqlalchemy import select

    from storage.db import session_factory
    from storage.models import Counselor, Slot

    found: dict[str, list[int]] = {}
    async with database(url) as engine, session_factory(engine)() as session:
        rows = await session.execute(
            select(Slot.id, Counselor.domains)
            .join(Counselor, Counselor.id == Slot.counselor_id)
            .where(Slot.starts_at > after, Slot.blocked.is_(False))
            .order_by(Slot.starts_at, Slot.id)
        )
        for slot_id, domains in rows:
            for domain in str(domains).split(","):
                found.setdefault(domain, []).append(int(slot_id))
    return found


# End states, by natural keys (row ids and times differ between runs)
SNAPSHOT = {
    "members": """
        SELECT channel, external_id, locale, consent_at IS NOT NULL, roster_entry_id IS NOT NULL
        FROM member""",
    "conversation states": "SELECT channel, external_id, flow, step, data FROM conversation_state",
    "bookings": """
        SELECT m.channel, m.external_id, c.display_name, b.starts_at, b.status, b.domain, b.mode,
               b.minutes
        FROM booking AS b JOIN member AS m ON m.id = b.member_id
        JOIN counselor AS c ON c.id = b.counselor_id""",
    "hours ledger": """
        SELECT m.channel, m.external_id, h.bucket, h.minutes, h.reason, b.starts_at
        FROM hours_entry AS h JOIN member AS m ON m.id = h.member_id
        LEFT JOIN booking AS b ON b.id = h.booking_id""",
    "events": "SELECT channel, event_id, processed_at IS NOT NULL FROM processed_event",
    "outbox": "SELECT channel, recipient, idempotency_key, status FROM outbox_message",
    "activity": """
        SELECT m.channel, m.external_id, a.kind FROM member_activity AS a
        JOIN member AS m ON m.pseudonym = a.pseudonym""",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            return value
    return value


async def snapshot(url: str) -> dict[str, Counter[tuple[Any, ...]]]:
    """The end state: each table's rows by natural key, as multisets."""
    state = {}
    async with database(url) as engine, engine.connect() as connection:
        for name, query in SNAPSHOT.items():
            rows = await connection.execute(text(query))
            state[name] = Counter(tuple(_plain(v) for v in row) for row in rows)
    return state


def compare(
    expected: dict[str, Counter[tuple[Any, ...]]], actual: dict[str, Counter[tuple[Any, ...]]]
) -> tuple[int, int, list[str]]:
    """Rows missing from `actual`, rows extra in it, and a line per differing table."""
    missing = extra = 0
    lines = []
    for name in expected:
        lost = expected[name] - actual.get(name, Counter())
        more = actual.get(name, Counter()) - expected[name]
        if lost or more:
            lines.append(f"{name}: {sum(lost.values())} missing, {sum(more.values())} extra")
        missing += sum(lost.values())
        extra += sum(more.values())
    return missing, extra, lines
