"""The four chaos scenarios; each returns one row of the table.

1. platform: the fakes fail 20 % of the bot's calls while employees run their journeys.
2. crash: `serve` is SIGKILLed and restarted again and again under load.
3. outage: the PostgreSQL cluster under `serve` is restarted (and crashed) under load.
4. duplicates: every update twice, copies late and chats interleaved, against a clean run.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channels.line import REPLY_TOKEN_TTL
from chaos import checks
from chaos.load import (
    BLIND_STEPS,
    Employee,
    Platforms,
    assign_slots,
    blind_steps,
    build,
    employees,
    run_blind,
    run_journeys,
)
from chaos.platforms import (
    LINE_HANG,
    TELEGRAM_HANG,
    TELEGRAM_SENDS,
    ChaosLine,
    ChaosTelegram,
    Delivered,
    Deliveries,
    Faults,
    Poster,
    Update,
    redelivered,
)
from chaos.postgres import PrivatePostgres
from chaos.server import BotProcess, bot_env, free_port, prepare
from tests.fake_line import Call as LineCall

Say = Callable[[str], None]
QUIET_WITHIN = 240.0  # seconds for retries, leases (30 s) and recovery sweeps (30 s) to finish


@dataclass
class Row:
    """One scenario's line in the table."""

    scenario: str
    load: str
    faults: str
    expected: str
    lost: int = 0
    duplicated: int = 0
    unavoidable: int = 0  # duplicates the platform's API gives the bot no way to prevent
    server_errors: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """The final invariant check: ok, or what broke."""
        if not self.problems:
            return "ok"
        return "FAILED: " + "; ".join(f"{name} ({n})" for name, n in self.problems.items())

    @property
    def passed(self) -> bool:
        """Nothing lost, nothing duplicated that the product could have avoided, no breakage."""
        return not self.problems and self.lost == 0 and self.duplicated == self.unavoidable


class Stage:
    """A fresh database, the two fakes and `bot.py serve`, torn down afterwards."""

    def __init__(
        self,
        say: Say,
        *,
        employees: int,
        fault_rate: float = 0.0,
        seed: int = 10,
        database_url: str | None = None,
    ) -> None:
        """Prepare (in start()) a roster of `employees` and fakes failing `fault_rate`."""
        self.say = say
        self.employees = employees
        self.folder = Path(tempfile.mkdtemp(prefix="eap-chaos-"))
        self.url = database_url or f"sqlite+aiosqlite:///{self.folder}/eap.db"
        self.deliveries = Deliveries()
        self.telegram_faults = Faults(fault_rate, seed=seed, hang=TELEGRAM_HANG)
        self.line_faults = Faults(fault_rate, seed=seed + 1, hang=LINE_HANG)
        self.telegram = ChaosTelegram(self.telegram_faults, self.deliveries)
        self.line = ChaosLine(self.line_faults, self.deliveries)
        self.platforms = Platforms(self.telegram, self.line)
        self.bot: BotProcess | None = None
        self.keep = False
        self._closed = False

    async def start(self) -> BotProcess:
        """Start the fakes, prepare the database, start serving; the bot process."""
        await self.telegram.start()
        await self.line.start()
        env = bot_env(self.url, free_port(), self.telegram.url, self.line.url)
        await prepare(self.url, self.employees + 1)
        self.bot = BotProcess(env, self.folder)
        await self.bot.start()
        await self.bot.wait_healthy()
        return self.bot

    async def close(self) -> int:
        """Stop serving (SIGTERM) and the fakes; the exit status of `serve`."""
        if self._closed:
            return 0
        self._closed = True
        status = await self.bot.stop() if self.bot is not None else 0
        await self.telegram.close()
        await self.line.close()
        return status

    def cleanup(self) -> None:
        """Delete the folder unless something failed (its serve.log explains)."""
        if self.keep:
            self.say(f"kept {self.folder} (serve.log, database) for a look")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def slots(self) -> dict[str, list[int]]:
        """Open slot ids per domain, far enough ahead for the minimum notice."""
        return await checks.free_slots(self.url, after=datetime.now(UTC) + timedelta(hours=26))


@dataclass
class Delivery:
    """Messages due and how they went, per platform."""

    due: int = 0
    lost: int = 0
    duplicated: int = 0
    across_kill: int = 0  # duplicates whose first copy went out before a SIGKILL came between
    unavoidable: int = 0  # duplicates the bot had no way to know it was making
    examples: list[str] = field(default_factory=list)


def _line_retry_key(outbox_key: str, index: int) -> str:
    """The retry key the LINE channel sends for request `index` of an outbox message."""
    root = uuid.UUID(outbox_key)
    return str(root if index == 0 else uuid.uuid5(root, str(index)))


def line_delivery(rows: list[checks.OutboxRow], fake: ChaosLine, platforms: Platforms) -> Delivery:
    """Exact: each accepted reply is known by its token's event, each push by its retry key.

    A reply LINE took whose answer the bot never got, followed by a push once the token was
    too old to try again (REPLY_TOKEN_TTL), is a duplicate the bot could not avoid.
    """
    rows = [r for r in rows if r.channel == "line"]
    by_key = {_line_retry_key(r.retry_key, i): (r.id, i) for r in rows for i in range(5)}
    by_event = {
        r.key.removeprefix("reply:line:"): r.id for r in rows if r.key.startswith("reply:")
    }
    event_of = {row_id: event for event, row_id in by_event.items()}
    calls: dict[tuple[int, int], list[LineCall]] = {}
    for call in fake.calls:
        found = None
        if not call.accepted:
            continue
        if call.operation == "push":
            found = by_key.get(call.headers.get("X-Line-Retry-Key", ""))
        elif call.operation == "reply":
            row = by_event.get(platforms.tokens.get(call.body.get("replyToken"), ""))
            found = (row, 0) if row is not None else None
        if found is not None:
            calls.setdefault(found, []).append(call)
    found = Delivery(due=len(rows), lost=sum(1 for r in rows if (r.id, 0) not in calls))
    for (row_id, part), made in calls.items():
        if len(made) < 2:
            continue
        found.duplicated += len(made) - 1
        sent_at = platforms.event_times.get(event_of.get(row_id, ""), 0.0)
        unsure = [c for c in made if c.operation == "reply" and id(c) in fake.answers_lost]
        late = [
            c
            for c in made
            if c.operation == "push" and fake.accepted_at[id(c)] >= sent_at + REPLY_TOKEN_TTL
        ]
        if unsure and late:
            found.unavoidable += len(made) - 1
        elif len(found.examples) < 3:
            found.examples.append(f"message {row_id} part {part}: {[c.operation for c in made]}")
    return found


def telegram_delivery(
    rows: list[checks.OutboxRow], deliveries: Deliveries, chats: set[str], kills: list[float]
) -> Delivery:
    """By content: a message shown twice in a chat is a duplicate; unsent rows are lost."""
    rows = [r for r in rows if r.channel == "telegram"]
    found = Delivery(due=len(rows), lost=sum(1 for r in rows if r.status != "sent"))
    for chat in chats:
        first: dict[str, float] = {}
        for delivered in deliveries.by_chat.get(chat, []):
            if delivered.key not in first:
                first[delivered.key] = delivered.at
                continue
            found.duplicated += 1
            found.across_kill += any(first[delivered.key] < k < delivered.at for k in kills)
            if len(found.examples) < 3:
                found.examples.append(f"chat {chat}: {str(delivered.content)[:160]}")
    return found


async def settle(stage: Stage, row: Row) -> list[checks.OutboxRow]:
    """Wait for the backlog to clear, stop serving, and check the invariants."""
    assert stage.bot is not None
    if not await checks.wait_quiet(stage.url, QUIET_WITHIN, say=stage.say):
        row.notes.append(f"backlog not cleared within {QUIET_WITHIN:.0f} s")
    status = await stage.close()
    if status != 0:
        row.problems["serve did not stop cleanly"] = 1
    row.problems.update(await checks.violations(stage.url))
    return await checks.outbox_rows(stage.url)


def _account(stage: Stage, row: Row, rows: list[checks.OutboxRow], people: list[Employee]) -> None:
    """Lost and duplicated messages of both platforms into the row."""
    chats = {p.chat for p in people if p.channel == "telegram"}
    line = line_delivery(rows, stage.line, stage.platforms)
    kills = stage.bot.killed_at if stage.bot is not None else []
    telegram = telegram_delivery(rows, stage.deliveries, chats, kills)
    row.lost += line.lost + telegram.lost
    row.duplicated += line.duplicated + telegram.duplicated
    # Telegram cannot tell a send it took from one it did not: when the answer is lost (a
    # timeout, a reset, a SIGKILL before the send was recorded) the bot must send again.
    lost_answers = sum(stage.telegram_faults.lost_answers[m] for m in TELEGRAM_SENDS)
    rest = telegram.duplicated - telegram.across_kill
    unavoidable = telegram.across_kill + min(rest, lost_answers) + line.unavoidable
    row.unavoidable += unavoidable
    if line.duplicated + telegram.duplicated > unavoidable:  # show what to look into
        row.notes.extend(f"duplicate: {e}" for e in line.examples + telegram.examples)
    row.notes.append(
        f"messages due: {telegram.due} Telegram ({telegram.lost} lost, {telegram.duplicated} "
        f"duplicated), {line.due} LINE ({line.lost} lost, {line.duplicated} duplicated)"
    )


def _progress(say: Say, total: int, label: str) -> Callable[[int], None]:
    counted = [0, time.monotonic()]

    def step(n: int) -> None:
        counted[0] += n
        if time.monotonic() - counted[1] > 10 or counted[0] == total:
            counted[1] = time.monotonic()
            say(f"{label}: {counted[0]}/{total} updates acknowledged")

    return step


# 1. Platform faults -------------------------------------------------------------------------


async def platform_faults(
    say: Say, *, users: int = 500, rate: float = 0.2, wait: float = 150.0
) -> Row:
    """Journeys of `users` employees while the fakes fail `rate` of the bot's API calls."""
    stage = Stage(say, employees=users, fault_rate=rate)
    people = employees(users)
    row = Row("1. platform faults", "", "", "")
    try:
        await stage.start()
        say(f"platform faults: {users} journeys, {rate:.0%} of API calls fail")
        async with Poster(stage.bot.url) as poster:  # type: ignore[union-attr]
            journeys = await run_journeys(
                people, poster, stage.platforms, stage.deliveries, wait=wait, seed=1, say=say
            )
        rows = await settle(stage, row)
        outcomes = Counter(j.outcome for j in journeys)
        sent = sum(len(j.updates) for j in journeys)
        row.load = f"{users} journeys in parallel, {sent} updates"
        row.faults = (
            f"Telegram: {stage.telegram_faults.summary()}; LINE: {stage.line_faults.summary()}"
        )
        booked = await checks.bookings_by_chat(stage.url)
        confirmed = {(j.who.channel, j.who.chat) for j in journeys if j.outcome == "booked"}
        row.expected = (
            f"{sent} replies, {len(confirmed)} bookings confirmed to the employee "
            f"({outcomes.get('taken', 0)} found their slot taken)"
        )
        _account(stage, row, rows, people)
        stalled = [j for j in journeys if j.outcome.startswith("stalled")]
        if stalled:
            row.notes.append(f"{len(stalled)} journeys stalled: {stalled[0].outcome}")
        # Every confirmation matches one booking, and no booking went unconfirmed.
        mismatched = {k for k, n in booked.items() if n != 1} | (set(booked) ^ confirmed)
        if mismatched:
            row.problems["bookings not matching confirmations"] = len(mismatched)
        row.server_errors = poster.posting.server_errors
        lost_answers = sum(stage.telegram_faults.lost_answers[m] for m in TELEGRAM_SENDS)
        row.notes.append(
            f"Telegram sends whose answer was lost after Telegram accepted them: {lost_answers}"
        )
        row.notes.append(f"journeys: {dict(outcomes)}")
        stage.keep = not row.passed
        return row
    finally:
        await stage.close()
        stage.cleanup()


# 2. Crashes ---------------------------------------------------------------------------------


async def _blind_load(
    stage: Stage,
    people: list[Employee],
    *,
    concurrency: int,
    label: str,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Poster, list[Update], dict[Employee, int]]:
    slots = assign_slots(people, await stage.slots())
    total = len(people) * len(blind_steps(people[0], 1))
    shown = _progress(stage.say, total, label)

    def progress(n: int) -> None:
        shown(n)
        if on_progress is not None:
            on_progress(n)

    assert stage.bot is not None
    async with Poster(stage.bot.url) as poster:
        sent = await run_blind(
            poster, stage.platforms, people, slots, concurrency=concurrency, progress=progress
        )
    return poster, sent, slots


async def _effects(
    stage: Stage, row: Row, sent: list[Update], poster: Poster, people: list[Employee]
) -> None:
    """Every acknowledged update processed once, with its reply; every employee linked once."""
    events = await checks.processed_events(stage.url)
    acked = poster.posting.acked
    unprocessed = [
        u
        for u in sent
        if (u.channel, u.event_id) in acked and not events.get((u.channel, u.event_id))
    ]
    never_acked = [u for u in sent if (u.channel, u.event_id) not in acked]
    row.lost += len(unprocessed)
    if never_acked:
        row.problems["updates never acknowledged"] = len(never_acked)
    linked = await checks.linked_chats(stage.url)
    missing = [p for p in people if (p.channel, p.chat) not in linked]
    if missing:
        row.problems["employees not linked"] = len(missing)
        for who in missing[:3]:
            mine = [u.event_id for u in sent if u.chat == who.chat]
            order = await checks.processing_order(stage.url, who.channel, mine)
            steps = [
                f"{mine.index(e) + 1} ({got:%H:%M:%S.%f}/{done:%H:%M:%S.%f})"
                for e, got, done in order
            ]
            row.notes.append(
                f"{who.employee_number} ({who.channel}): steps processed (stored/processed) "
                + ", ".join(steps)
            )
    booked = await checks.bookings_by_chat(stage.url)
    twice = sum(n - 1 for n in booked.values() if n > 1)
    row.duplicated += twice
    row.notes.append(
        f"{len(acked)} updates acknowledged, {len(unprocessed)} not processed; "
        f"{sum(booked.values())} bookings, {twice} made twice"
    )


async def crashes(say: Say, *, users: int = 500, kills: int = 6, concurrency: int = 100) -> Row:
    """SIGKILL `serve` `kills` times during a load of `users` blind journeys; restart each."""
    stage = Stage(say, employees=users)
    people = employees(users)
    total = users * BLIND_STEPS
    row = Row(
        "2. crashes (SIGKILL)", f"{total} updates, {concurrency} employees at a time", "", ""
    )
    try:
        bot = await stage.start()
        marks = [int(total * (i + 1) / (kills + 1)) for i in range(kills)]
        acked = [0]
        crashing: asyncio.Task[None] | None = None

        async def crash() -> None:
            await bot.kill()
            say(f"SIGKILL #{bot.kills} at {acked[0]} updates acknowledged; restarting")
            await asyncio.sleep(0.5)
            await bot.start()

        def on_progress(n: int) -> None:
            nonlocal crashing
            acked[0] += n
            if marks and acked[0] >= marks[0] and (crashing is None or crashing.done()):
                marks.pop(0)
                crashing = asyncio.create_task(crash())

        poster, sent, _ = await _blind_load(
            stage, people, concurrency=concurrency, label="crashes", on_progress=on_progress
        )
        if crashing is not None:
            await crashing
        await bot.wait_healthy()
        row.faults = f"{bot.kills} SIGKILLs and restarts"
        row.expected = f"{total} updates take effect once, {total} replies, {users} links"
        rows = await settle(stage, row)
        await _effects(stage, row, sent, poster, people)
        _account(stage, row, rows, people)
        row.server_errors = poster.posting.server_errors
        row.notes.append(f"connection errors while down: {poster.posting.errors}")
        if bot.kills < kills:
            row.problems["fewer kills than planned"] = kills - bot.kills
        stage.keep = not row.passed
        return row
    finally:
        await stage.close()
        stage.cleanup()


# 3. Database outage -------------------------------------------------------------------------


async def outage(
    say: Say, *, users: int = 300, concurrency: int = 60, pause: float = 5.0, outages: int = 2
) -> Row:
    """Restart, then crash and restart, a private PostgreSQL cluster under load."""
    cluster = PrivatePostgres()
    total = users * BLIND_STEPS
    row = Row(
        "3. database outage (PostgreSQL)", f"{total} updates, {concurrency} at a time", "", ""
    )
    stage: Stage | None = None
    try:
        await cluster.start()
        url = await cluster.create_database("eap")
        stage = Stage(say, employees=users, database_url=url)
        people = employees(users)
        await stage.start()
        marks = [int(total * (i + 1) / (outages + 1)) for i in range(outages)]
        acked = [0]
        done: list[str] = []
        running: asyncio.Task[None] | None = None

        async def cut() -> None:
            if len(done) % 2 == 0:
                say(f"pg_ctl restart at {acked[0]} updates acknowledged")
                await cluster.restart()
                done.append("restart")
            else:
                say(f"PostgreSQL crashed (stop -m immediate) at {acked[0]}; down {pause:.0f} s")
                await cluster.down("immediate")
                await asyncio.sleep(pause)
                await cluster.up()
                done.append(f"crash + {pause:.0f} s down")

        def on_progress(n: int) -> None:
            nonlocal running
            acked[0] += n
            if marks and acked[0] >= marks[0] and (running is None or running.done()):
                marks.pop(0)
                running = asyncio.create_task(cut())

        poster, sent, _ = await _blind_load(
            stage, people, concurrency=concurrency, label="outage", on_progress=on_progress
        )
        if running is not None:
            await running
        row.faults = "PostgreSQL " + ", ".join(done)
        row.expected = f"{total} updates take effect once, {total} replies, {users} links"
        assert stage.bot is not None
        if not stage.bot.alive:
            row.problems["serve died"] = 1
        ready = False
        for _ in range(100):
            if ready := await stage.bot.ready():
                break
            await asyncio.sleep(0.2)
        if not ready:
            row.problems["/readyz not 200 after the outage"] = 1
        rows = await settle(stage, row)
        await _effects(stage, row, sent, poster, people)
        _account(stage, row, rows, people)
        row.server_errors = poster.posting.server_errors
        row.notes.append(
            f"webhook answers: {dict(sorted(poster.posting.statuses.items()))}, "
            f"connection errors: {poster.posting.errors}"
        )
        if len(done) < outages:
            row.problems["fewer outages than planned"] = outages - len(done)
        stage.keep = not row.passed
        return row
    finally:
        if stage is not None:
            await stage.close()
            stage.cleanup()
        await cluster.destroy()


# 4. Duplicates and reordering ---------------------------------------------------------------


def _lanes(
    people: list[Employee],
    updates: dict[Employee, list[Update]],
    lanes: int,
    twice: bool,
    seed: int,
) -> list[list[Update]]:
    """Streams to post in parallel: each chat in one lane, its first copies in order, chats
    interleaved at random, and (`twice`) every update again, late and shuffled."""
    rng = random.Random(seed)
    streams: list[list[Update]] = [[] for _ in range(lanes)]
    for lane in range(lanes):
        mine = [p for i, p in enumerate(people) if i % lanes == lane]
        queues = {p: list(updates[p]) for p in mine}
        stream: list[Update] = []
        while any(queues.values()):
            who = rng.choice([p for p, q in queues.items() if q])
            stream.append(queues[who].pop(0))
        if twice:
            # Each copy lands anywhere after its original, often after later updates of the
            # same chat (a late redelivery): sort by a place drawn after the original's.
            placed = [(float(i), 0, u) for i, u in enumerate(stream)]
            placed += [
                (rng.uniform(i, len(stream)), 1, redelivered(u)) for i, u in enumerate(stream)
            ]
            stream = [u for _, _, u in sorted(placed, key=lambda p: (p[0], p[1]))]
        streams[lane] = stream
    return streams


async def _run_stream(stage: Stage, streams: list[list[Update]], say: Say, label: str) -> Poster:
    assert stage.bot is not None
    total = sum(len(s) for s in streams)
    shown = _progress(say, total, label)
    async with Poster(stage.bot.url) as poster:

        async def lane(stream: list[Update]) -> None:
            for update in stream:
                await poster.deliver(update)
                shown(1)

        await asyncio.gather(*(lane(s) for s in streams))
    return poster


async def _one_run(
    say: Say, people: list[Employee], *, twice: bool, lanes: int, seed: int
) -> tuple[dict[str, Counter[tuple[object, ...]]], dict[str, list[Delivered]], Poster, Row]:
    stage = Stage(say, employees=len(people))
    row = Row("", "", "", "")
    try:
        await stage.start()
        slots = await stage.slots()
        chosen = assign_slots(people, slots)
        updates = {
            who: [
                build(stage.platforms, who, k, v, shown=False)
                for k, v in blind_steps(who, chosen.get(who))
            ]
            for who in people
        }
        streams = _lanes(people, updates, lanes, twice, seed)
        poster = await _run_stream(stage, streams, say, "twice, reordered" if twice else "once")
        await settle(stage, row)
        state = await checks.snapshot(stage.url)
        # Chats by employee number: LINE reply tokens differ between runs, content does not.
        sequences = {
            f"{who.channel}:{who.number}": stage.deliveries.by_chat.get(who.chat, [])
            for who in people
        }
        stage.keep = bool(row.problems) or bool(os.environ.get("CHAOS_KEEP"))
        return state, sequences, poster, row
    finally:
        await stage.close()
        stage.cleanup()


async def duplicates(say: Say, *, users: int = 200, lanes: int = 8, seed: int = 4) -> Row:
    """The same updates once in order, then twice with late copies: the same end state."""
    people = employees(users)
    row = Row("4. duplicates + reordering", "", "", "")
    say(f"duplicates: clean run, {users} employees")
    expected, expected_messages, _, clean = await _one_run(
        say, people, twice=False, lanes=lanes, seed=seed
    )
    say("duplicates: every update twice, copies late, chats interleaved")
    actual, actual_messages, poster, noisy = await _one_run(
        say, people, twice=True, lanes=lanes, seed=seed
    )
    total = users * BLIND_STEPS
    row.load = f"{total} updates x 2 ({2 * total} posts), {lanes} lanes"
    row.faults = f"{total} duplicates, delivered late; {users} chats interleaved at random"
    row.expected = "end state and messages equal to a clean run (each update once, in order)"
    missing, extra, lines = checks.compare(expected, actual)
    lost_messages = extra_messages = 0
    for chat, clean_items in expected_messages.items():
        keys = [d.shape for d in clean_items]
        noisy_items = actual_messages.get(chat, [])
        got = [d.shape for d in noisy_items]
        lost_messages += sum((Counter(keys) - Counter(got)).values())
        extra_messages += sum((Counter(got) - Counter(keys)).values())
        if keys != got and len(lines) < 10:
            at = next(
                (i for i, (a, b) in enumerate(zip(keys, got, strict=False)) if a != b),
                min(len(keys), len(got)),
            )
            clean_one = str(clean_items[at].content)[:160] if at < len(keys) else "-"
            noisy_one = str(noisy_items[at].content)[:160] if at < len(got) else "-"
            lines.append(f"{chat} message {at + 1}: clean {clean_one} / noisy {noisy_one}")
    row.lost = missing + lost_messages
    row.duplicated = extra + extra_messages
    row.server_errors = poster.posting.server_errors
    row.problems.update({f"clean run: {k}": v for k, v in clean.problems.items()})
    row.problems.update(noisy.problems)
    if lines:
        row.problems["end states differ"] = len(lines)
        row.notes.extend(lines[:10])
    row.notes.append(
        f"{sum(len(v) for v in expected_messages.values())} messages in the clean run, "
        f"{lost_messages} missing and {extra_messages} extra in the noisy one"
    )
    return row
