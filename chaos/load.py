"""Employees and their journeys: consent, link, menu, hours and a booking, on Telegram or LINE.

Interactive journeys wait for each answer and press the buttons it shows (scenario 1). Blind
journeys are a fixed list of updates sent one after another as each is acknowledged, as a
platform does; they carry the slot to book from the start (scenarios 2-4).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.platforms import (
    ChaosLine,
    ChaosTelegram,
    Delivered,
    Deliveries,
    Poster,
    Update,
    line_event,
    line_update,
    matches,
    telegram_update,
)
from chaos.server import KEY

# A mode both demo counselors of each domain offer, so every slot of the domain can be booked.
DOMAINS = (
    ("psychology", "video"),
    ("legal", "phone"),
    ("finance", "video"),
    ("nutrition", "video"),
)
CONFIRMED, TAKEN = "hrs", "bk:day:"  # the menu after a booking; the days after a refusal
BLIND_STEPS = 11  # updates in a blind journey


@dataclass(frozen=True)
class Employee:
    """One employee: their roster number and the chat they use."""

    number: int
    channel: str

    @property
    def employee_number(self) -> str:
        """Their employee number on the demo roster (E0001 is the console demo user)."""
        return f"E{self.number:04d}"

    @property
    def enrolment_code(self) -> str:
        """Their enrolment code: the demo roster's, derived from the chaos pseudonym key."""
        from storage.demo import demo_enrolment_code

        return demo_enrolment_code(KEY.encode(), self.employee_number)

    @property
    def chat(self) -> str:
        """Their Telegram user id or LINE user id."""
        if self.channel == "telegram":
            return str(700_000 + self.number)
        return "U" + hashlib.md5(f"chaos-{self.number}".encode()).hexdigest()

    @property
    def domain(self) -> tuple[str, str]:
        """The kind of help (and mode) they book."""
        return DOMAINS[(self.number // 2) % len(DOMAINS)]


def employees(count: int, *, first: int = 2) -> list[Employee]:
    """`count` employees, alternately on Telegram and LINE."""
    return [Employee(n, "telegram" if n % 2 == 0 else "line") for n in range(first, first + count)]


class Platforms:
    """Builds the updates an employee's actions cause, on their platform."""

    def __init__(self, telegram: ChaosTelegram, line: ChaosLine) -> None:
        """Use the fakes for ids, reply tokens and shown buttons."""
        self.telegram = telegram
        self.line = line
        self.tokens: dict[str, str] = {}  # LINE reply token -> webhook event id
        self.serials = itertools.count(1)  # LINE event ids, the same in every run
        self.event_times: dict[str, float] = {}  # LINE event id -> its timestamp (epoch s)

    def _line(self, who: Employee, kind: str, value: str = "") -> Update:
        event = line_event(
            self.line, who.chat, kind, value, serial=next(self.serials), tokens=self.tokens
        )
        self.event_times[event["webhookEventId"]] = event["timestamp"] / 1000
        return line_update(event)

    def start(self, who: Employee) -> Update:
        """Open the chat: /start on Telegram, adding the bot as a friend on LINE."""
        if who.channel == "telegram":
            return telegram_update(self.telegram.text(int(who.chat), "/start"), int(who.chat))
        return self._line(who, "follow")

    def text(self, who: Employee, words: str) -> Update:
        """Type a message."""
        if who.channel == "telegram":
            return telegram_update(self.telegram.text(int(who.chat), words), int(who.chat))
        return self._line(who, "message", words)

    def press(self, who: Employee, payload: str, *, shown: bool) -> Update:
        """Press a button (`shown`: on the message showing it, else as a bare button press)."""
        if who.channel == "telegram":
            chat = int(who.chat)
            update = (
                self.telegram.press(chat, payload)
                if shown
                else self.telegram.blind_press(chat, payload)
            )
            return telegram_update(update, chat)
        return self._line(who, "postback", payload)


# Blind journeys --------------------------------------------------------------------------


def blind_steps(who: Employee, slot: int | None) -> list[tuple[str, str]]:
    """BLIND_STEPS updates: start, consent, link (organisation, number, code), hours, about,
    book (domain, slot), my bookings."""
    domain, mode = who.domain
    steps = [
        ("start", ""),
        ("press", "consent:yes:zh-TW"),
        ("text", "DEMO"),
        ("text", who.employee_number),
        ("text", who.enrolment_code),
        ("press", "hrs"),
        ("press", "about"),
        ("press", "bk"),
        ("press", f"bk:d:{domain}"),
        ("press", f"bk:ok:{slot}:{domain}:{mode}" if slot else f"bk:m:{domain}:{mode}"),
        ("press", "my"),
    ]
    return steps


def build(platforms: Platforms, who: Employee, kind: str, value: str, *, shown: bool) -> Update:
    """The update for one step."""
    if kind == "start":
        return platforms.start(who)
    if kind == "text":
        return platforms.text(who, value)
    return platforms.press(who, value, shown=shown)


def assign_slots(people: list[Employee], slots: dict[str, list[int]]) -> dict[Employee, int]:
    """A slot per employee, in turn within each domain (wrapping round when there are more
    employees than slots, so some book a slot someone else took)."""
    taken: dict[str, int] = {}
    chosen = {}
    for who in people:
        domain = who.domain[0]
        options = slots.get(domain) or []
        if options:
            index = taken.get(domain, 0)
            chosen[who] = options[index % len(options)]
            taken[domain] = index + 1
    return chosen


async def run_blind(
    poster: Poster,
    platforms: Platforms,
    people: list[Employee],
    slots: dict[Employee, int],
    *,
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> list[Update]:
    """Every employee's updates in order, each posted until acknowledged; all updates sent."""
    gate = asyncio.Semaphore(concurrency)
    sent: list[Update] = []

    async def one(who: Employee) -> None:
        async with gate:
            for kind, value in blind_steps(who, slots.get(who)):
                update = build(platforms, who, kind, value, shown=False)
                sent.append(update)
                await poster.deliver(update)
                if progress is not None:
                    progress(1)

    await asyncio.gather(*(one(who) for who in people))
    return sent


# Interactive journeys --------------------------------------------------------------------


@dataclass
class Journey:
    """How far one employee got and what they saw."""

    who: Employee
    steps: int = 0
    outcome: str = ""  # booked, taken, no slots, stalled at <step>
    updates: list[Update] = field(default_factory=list)
    stalled_on: Update | None = None


def _taken(fresh: list[Delivered]) -> bool:
    """Whether the answer went back to the days (the slot was taken) or offers the waitlist."""
    return any(matches(p, w) for d in fresh for p in d.payloads for w in (TAKEN, "wl:j:"))


def _choose(fresh: list[Delivered], prefix: str, rng: random.Random) -> str | None:
    """A payload with this prefix from the newest delivery offering one (picked at random)."""
    for delivered in reversed(fresh):
        options = [p for p in delivered.payloads if matches(p, prefix)]
        if options:
            return rng.choice(options[:6])
    return None


async def run_journey(
    who: Employee,
    poster: Poster,
    platforms: Platforms,
    deliveries: Deliveries,
    *,
    wait: float,
    seed: int,
) -> Journey:
    """Consent, link, check hours, book: each step after seeing the answer to the last."""
    rng = random.Random(seed * 100_003 + who.number)
    domain, mode = who.domain
    journey = Journey(who)
    # (action, value or prefix to pick, payloads the answer must offer; () = any answer)
    plan: list[tuple[str, str, tuple[str, ...]]] = [
        ("start", "", ("consent:yes:",)),
        ("pick", "consent:yes:", ()),
        ("text", "DEMO", ()),
        ("text", who.employee_number, ()),
        ("text", who.enrolment_code, ("hrs",)),
        ("press", "hrs", ("bk",)),
        ("press", "bk", (f"bk:d:{domain}",)),
        ("press", f"bk:d:{domain}", (f"bk:m:{domain}:{mode}",)),
        ("press", f"bk:m:{domain}:{mode}", ("bk:day:", "wl:j:")),
        # Someone else may take the slot first: then the days are shown again (TAKEN).
        ("pick", "bk:day:", ("bk:s:", TAKEN, "wl:j:")),
        ("pick", "bk:s:", ("bk:ok:", TAKEN, "wl:j:")),
        ("pick", "bk:ok:", (CONFIRMED, TAKEN, "wl:j:")),
    ]
    fresh: list[Delivered] = []
    for action, value, want in plan:
        if action == "pick":
            choice = _choose(fresh, value, rng)
            if choice is None and value == "bk:day:":
                journey.outcome = "no slots"
                return journey
            if choice is None:  # the days again instead: someone took the slot first
                journey.outcome = "taken" if _taken(fresh) else f"no {value} button"
                return journey
            value, action = choice, "press"
        since = deliveries.count(who.chat)
        if action == "start":
            update = platforms.start(who)
        elif action == "text":
            update = platforms.text(who, value)
        else:
            update = platforms.press(who, value, shown=True)
        journey.updates.append(update)
        await poster.deliver(update)
        seen = await deliveries.wait(who.chat, since, want, within=wait)
        if seen is None:
            journey.stalled_on = update
            journey.outcome = f"stalled after {action} {value}"
            return journey
        fresh = seen
        journey.steps += 1
    last = [p for d in fresh for p in d.payloads]
    journey.outcome = "booked" if CONFIRMED in last else "taken"
    return journey


async def run_journeys(
    people: list[Employee],
    poster: Poster,
    platforms: Platforms,
    deliveries: Deliveries,
    *,
    wait: float,
    seed: int,
    say: Callable[[str], None],
) -> list[Journey]:
    """Every employee's journey at once; progress every 10 s."""
    started = time.monotonic()
    tasks = [
        asyncio.create_task(run_journey(who, poster, platforms, deliveries, wait=wait, seed=seed))
        for who in people
    ]
    while True:
        _, pending = await asyncio.wait(tasks, timeout=10)
        if not pending:
            break
        steps = sum(len(t.result().updates) for t in tasks if t.done())
        say(
            f"{len(tasks) - len(pending)}/{len(tasks)} journeys done, "
            f"{len(poster.posting.acked)} updates acknowledged "
            f"({time.monotonic() - started:.0f} s; {steps} steps in finished journeys)"
        )
    return [t.result() for t in tasks]
