"""Property tests: random and concurrent booking operations keep slot and hours invariants."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import bookings, hours, linking, members, orgs
from storage.db import create_engine, session_factory, unit_of_work
from storage.errors import (
    BookingNotActive,
    DomainError,
    EmployeeLeft,
    NoHoursLeft,
    NotAllowed,
    NotFound,
    OverlappingBooking,
    SlotTaken,
    SlotUnavailable,
    TooMuchBookedAhead,
)
from storage.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Bucket,
    Counselor,
    HoursEntry,
    Member,
    Organisation,
    RosterEntry,
    RosterStatus,
    Slot,
)
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY

KEY = TEST_KEY.encode()
START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Taipei
DOMAIN, MODE = "psychology", "video"
MISSING_BOOKING = 10**9
OK = "ok"
_codes = itertools.count(1)

Outcome = type[DomainError] | str
Action = Callable[[AsyncSession], Awaitable[Any]]


@dataclass
class World:
    """One fresh organisation per example: its members, slots and the plan years they span.

    `members` are the first accounts of the roster's people; forget me and re-linking add
    accounts (`accounts`, numbered in order), and `current` says which one a person uses.
    """

    org: Organisation
    members: list[Member]
    slots: list[Slot]
    years: dict[date, date] = field(default_factory=dict)
    entries: list[RosterEntry] = field(default_factory=list)
    accounts: list[Member] = field(default_factory=list)
    current: dict[int, int] = field(default_factory=dict)
    left: set[int] = field(default_factory=set)

    def live(self) -> list[Member]:
        """The accounts not forgotten."""
        return [self.accounts[a] for a in sorted(self.current.values())]

    def account_of(self, person: int) -> int | None:
        """The person's live account, if any (a forgotten one has no chat left to act from)."""
        return self.current.get(person)

    def person_of(self, account: int) -> int:
        """Whose account it is."""
        return self.entries.index(
            next(e for e in self.entries if e.id == self.accounts[account].roster_entry_id)
        )

    def year_of(self, slot: Slot) -> date:
        """The plan year a slot's booking is charged to."""
        return orgs.plan_year_start(self.org, orgs.local_date(self.org, slot.starts_at))


async def build_world(
    sessions: async_sessionmaker[AsyncSession],
    *,
    people: int,
    slot_specs: list[tuple[int, int]],
    now: datetime,
    **org_fields: Any,
) -> World:
    """Create an organisation, two counselors, slots (hours ahead, minutes) and linked members."""
    code = f"PBT{next(_codes)}"
    fields = {
        "max_minutes_ahead": 10**6,
        "minutes_per_year": 180,
        "no_show_uses_hours": True,
        "cancellation_cutoff_hours": 24,
        "min_notice_hours": 24,
        "booking_horizon_days": 30,
        "plan_year_start_month": 1,
        "plan_year_start_day": 1,
        **org_fields,
    }
    async with unit_of_work(sessions) as session:
        org = Organisation(
            code=code,
            name=code,
            timezone="Asia/Taipei",
            enabled_domains=DOMAIN,
            created_at=START,
            **fields,
        )
        session.add(org)
        await session.flush()
        counselors = [
            Counselor(
                organisation_id=org.id,
                display_name=f"{code}-c{i}",
                domains=DOMAIN,
                modes=MODE,
                licence_number=f"{code}-{i}",
                licence_expires_on=date(2030, 1, 1),
            )
            for i in range(2)
        ]
        session.add_all(counselors)
        await session.flush()
        slots = [
            Slot(
                counselor_id=counselors[i % 2].id,
                starts_at=now + timedelta(hours=ahead),
                ends_at=now + timedelta(hours=ahead, minutes=length),
                blocked=False,
            )
            for i, (ahead, length) in enumerate(slot_specs)
        ]
        session.add_all(slots)
        entries = [
            RosterEntry(
                organisation_id=org.id,
                employee_hash=employee_hash(KEY, code, f"E{i:04d}"),
                department="Ops",
                updated_at=START,
            )
            for i in range(1, people + 1)
        ]
        session.add_all(entries)
        await session.flush()
        people_rows = []
        for i, entry in enumerate(entries, start=1):
            member = await members.consent(
                session, channel="test", external_id=f"{code}-{i}", locale="en", now=now
            )
            await linking.attach(session, member, entry, now)
            people_rows.append(member)
    world = World(org=org, members=people_rows, slots=slots, entries=entries)
    world.accounts = list(people_rows)
    world.current = {i: i for i in range(len(people_rows))}
    for slot in slots:
        world.years.setdefault(world.year_of(slot), orgs.local_date(org, slot.starts_at))
    return world


@dataclass(frozen=True)
class Snapshot:
    """What the database holds for one organisation, already checked for internal consistency."""

    bookings: list[Booking]
    consumed: dict[int, bool]
    balances: dict[tuple[int, date], hours.Balance]


def _group(rows: list[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


async def check_database(session: AsyncSession, world: World, now: datetime) -> Snapshot:
    """Assert the slot, ledger and balance invariants straight from the tables."""
    org = world.org
    doubled = await session.scalars(
        select(Booking.slot_id)
        .where(Booking.status == BookingStatus.BOOKED)
        .group_by(Booking.slot_id)
        .having(func.count() > 1)
    )
    assert list(doubled) == [], "a slot has two active bookings"
    rows = list(
        await session.scalars(
            select(Booking).where(Booking.organisation_id == org.id).order_by(Booking.id)
        )
    )
    entries = list(
        await session.scalars(select(HoursEntry).where(HoursEntry.organisation_id == org.id))
    )
    events = _group(
        list(
            await session.scalars(
                select(BookingEvent)
                .join(Booking, Booking.id == BookingEvent.booking_id)
                .where(Booking.organisation_id == org.id)
            )
        ),
        lambda e: e.booking_id,
    )
    ledger_of = _group([e for e in entries if e.booking_id is not None], lambda e: e.booking_id)
    for entry in entries:
        if entry.booking_id is None:
            assert (entry.bucket, entry.minutes) == (Bucket.GRANTED, org.minutes_per_year)
    successors = Counter(b.rescheduled_from_id for b in rows if b.rescheduled_from_id)
    cutoff = timedelta(hours=org.cancellation_cutoff_hours)
    consumed: dict[int, bool] = {}
    for b in rows:
        booked = b.status == BookingStatus.BOOKED
        assert b.active_slot_id == (b.slot_id if booked else None), f"booking {b.id} slot hold"
        history = sorted(events[b.id], key=lambda e: e.id)
        assert [e.status for e in history] == [BookingStatus.BOOKED] + (
            [] if booked else [b.status]
        )
        late = not booked and history[-1].at > b.starts_at - cutoff
        assert b.status != BookingStatus.CANCELLED or not late
        assert b.status != BookingStatus.LATE_CANCELLED or late
        consumed[b.id] = {
            BookingStatus.BOOKED: False,
            BookingStatus.CANCELLED: False,
            BookingStatus.LATE_CANCELLED: True,
            BookingStatus.HELD: True,
            BookingStatus.NO_SHOW: org.no_show_uses_hours,
            BookingStatus.RESCHEDULED: late,
        }[b.status]
        expected = {f"reserve:{b.id}": (Bucket.RESERVED, b.minutes)}
        if not booked:
            expected[f"release:{b.id}"] = (Bucket.RESERVED, -b.minutes)
        if consumed[b.id]:
            expected[f"use:{b.id}"] = (Bucket.USED, b.minutes)
        ledger = ledger_of.pop(b.id, [])
        assert {e.idempotency_key: (e.bucket, e.minutes) for e in ledger} == expected
        assert len(ledger) == len(expected), f"booking {b.id} has duplicate ledger entries"
        assert all((e.member_id, e.plan_year) == (b.member_id, b.plan_year) for e in ledger)
        assert successors[b.id] == (1 if b.status == BookingStatus.RESCHEDULED else 0)
    assert not ledger_of, "ledger entries for bookings that do not exist"

    balances: dict[tuple[int, date], hours.Balance] = {}
    for member in world.live():
        for year, on in world.years.items():
            balance = await hours.balance(session, org=org, member=member, on=on, now=now)
            assert balance.year_start == year
            balances[(member.id, year)] = balance
    sums: dict[tuple[int, date, Bucket], int] = defaultdict(int)
    totals = await session.execute(
        select(
            HoursEntry.member_id,
            HoursEntry.plan_year,
            HoursEntry.bucket,
            func.sum(HoursEntry.minutes),
        )
        .where(HoursEntry.organisation_id == org.id)
        .group_by(HoursEntry.member_id, HoursEntry.plan_year, HoursEntry.bucket)
    )
    for member_id, plan_year, bucket, total in totals:
        sums[(member_id, plan_year, Bucket(bucket))] = int(total)
    for member in world.live():
        active = sorted(
            (b for b in rows if b.member_id == member.id and b.status == BookingStatus.BOOKED),
            key=lambda b: b.starts_at,
        )
        for earlier, later in itertools.pairwise(active):
            assert earlier.ends_at <= later.starts_at, f"member {member.id} is in two places"
    for (member_id, year), balance in balances.items():
        mine = [b for b in rows if b.member_id == member_id and b.plan_year == year]
        reserved = sum(b.minutes for b in mine if b.status == BookingStatus.BOOKED)
        used = sum(b.minutes for b in mine if consumed[b.id])
        assert balance.granted == sums[(member_id, year, Bucket.GRANTED)] == org.minutes_per_year
        assert balance.reserved == sums[(member_id, year, Bucket.RESERVED)] == reserved
        assert balance.used == sums[(member_id, year, Bucket.USED)] == used
        assert balance.reserved >= 0 and balance.used >= 0
        assert balance.left >= 0, f"member {member_id} overspent: {balance}"
        cells = balance.by_domain.values()
        assert sum(c["reserved"] for c in cells) == balance.reserved
        assert sum(c["used"] for c in cells) == balance.used
    return Snapshot(bookings=rows, consumed=consumed, balances=balances)


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], world: World, now: datetime
) -> Snapshot:
    """Check the invariants in a transaction that is rolled back (balance() may add grants)."""
    async with sessions() as session:
        try:
            return await check_database(session, world, now)
        finally:
            session.expunge_all()  # keep the loaded rows readable after the rollback
            await session.rollback()


async def attempt(sessions: async_sessionmaker[AsyncSession], action: Action) -> Outcome:
    """Run one operation in its own transaction; a refusal is an outcome, not a failure."""
    try:
        async with unit_of_work(sessions) as session:
            await action(session)
    except DomainError as err:
        return type(err)
    return OK


# --- the sequential model ---------------------------------------------------------------------


@dataclass
class Expected:
    """What the model believes about one booking."""

    member: int  # the account that made it
    slot: int
    minutes: int
    plan_year: date
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus = BookingStatus.BOOKED
    consumed: bool = False


@dataclass
class Model:
    """The rules restated in plain Python: predicts each outcome and the resulting state."""

    world: World
    now: datetime
    bookings: dict[int, Expected] = field(default_factory=dict)

    def holder(self, slot: int) -> Expected | None:
        """The active booking on a slot, if any."""
        held = [
            b
            for b in self.bookings.values()
            if b.slot == slot and b.status == BookingStatus.BOOKED
        ]
        assert len(held) <= 1
        return held[0] if held else None

    def left(self, member: int, year: date) -> int:
        """Minutes the account can still book in the plan year."""
        mine = [b for b in self.bookings.values() if b.member == member and b.plan_year == year]
        spent = sum(b.minutes for b in mine if b.status == BookingStatus.BOOKED or b.consumed)
        return self.world.org.minutes_per_year - spent

    def late(self, booking: Expected) -> bool:
        """Whether letting go of the booking now forfeits its hours."""
        cutoff = timedelta(hours=self.world.org.cancellation_cutoff_hours)
        return self.now > booking.starts_at - cutoff

    def alive(self, member: int) -> bool:
        """Whether the account is not forgotten."""
        return member in self.world.current.values()

    def refuse_book(
        self,
        member: int,
        slot: int,
        credit: Expected | None = None,
        replacing: Expected | None = None,
    ) -> type[DomainError] | None:
        """Why book() must refuse, or None when it must succeed."""
        if self.world.person_of(member) in self.world.left:
            return EmployeeLeft
        if not self.alive(member):
            return NotAllowed
        org, target = self.world.org, self.world.slots[slot]
        earliest = self.now + timedelta(hours=org.min_notice_hours)
        if not earliest <= target.starts_at <= self.now + timedelta(days=org.booking_horizon_days):
            return SlotUnavailable
        if self.holder(slot) is not None:
            return SlotTaken
        mine = [
            b
            for b in self.bookings.values()
            if b.member == member and b.status == BookingStatus.BOOKED and b is not replacing
        ]
        if any(b.starts_at < target.ends_at and b.ends_at > target.starts_at for b in mine):
            return OverlappingBooking
        ahead = sum(b.minutes for b in mine if b.starts_at > self.now)
        if ahead + self.minutes(slot) > org.max_minutes_ahead:
            return TooMuchBookedAhead
        year = self.world.year_of(target)
        bonus = credit.minutes if credit is not None and credit.plan_year == year else 0
        return NoHoursLeft if self.left(member, year) + bonus < self.minutes(slot) else None

    def minutes(self, slot: int) -> int:
        """A slot's length in minutes."""
        target = self.world.slots[slot]
        return int((target.ends_at - target.starts_at).total_seconds() // 60)

    def refuse_change(self, member: int, booking_id: int) -> type[DomainError] | None:
        """Why cancel() or reschedule() must refuse before looking at the new slot."""
        if not self.alive(member):
            return NotAllowed
        booking = self.bookings.get(booking_id)
        if booking is None or booking.member != member:
            return NotFound
        if booking.status != BookingStatus.BOOKED or booking.starts_at <= self.now:
            return BookingNotActive
        return None

    def add(self, booking: Booking, member: int, slot: int) -> None:
        """Record a booking the database made."""
        assert booking.id not in self.bookings
        assert booking.minutes == self.minutes(slot)
        self.bookings[booking.id] = Expected(
            member=member,
            slot=slot,
            minutes=self.minutes(slot),
            plan_year=self.world.year_of(self.world.slots[slot]),
            starts_at=self.world.slots[slot].starts_at,
            ends_at=self.world.slots[slot].ends_at,
        )

    def finish(self, booking_id: int, status: BookingStatus, consumed: bool) -> None:
        """Record that a booking ended."""
        self.bookings[booking_id].status = status
        self.bookings[booking_id].consumed = consumed

    def pick(self, ref: int) -> int:
        """A booking id from a drawn number: usually an active one, sometimes any, or none."""
        ids = sorted(self.bookings)
        active = [i for i in ids if self.bookings[i].status == BookingStatus.BOOKED]
        pool = active if ref % 3 and active else ids
        return pool[ref % len(pool)] if pool else MISSING_BOOKING


def compare(model: Model, shot: Snapshot) -> None:
    """The database holds exactly the bookings and balances the model expects."""
    world = model.world
    index = {world.accounts[a].id: a for a in world.current.values()}
    slot_index = {s.id: i for i, s in enumerate(world.slots)}
    actual = {
        b.id: (index.get(b.member_id), slot_index[b.slot_id], b.status, shot.consumed[b.id])
        for b in shot.bookings
    }
    expected = {
        i: (b.member if model.alive(b.member) else None, b.slot, b.status, b.consumed)
        for i, b in model.bookings.items()
    }
    assert actual == expected
    for (member_id, year), balance in shot.balances.items():
        assert balance.left == model.left(index[member_id], year)


async def _book_step(
    sessions: async_sessionmaker[AsyncSession], model: Model, op: tuple[Any, ...]
) -> Outcome:
    """A person books a slot with their account (a forgotten one if they have no other)."""
    world, now = model.world, model.now
    member = world.account_of(op[1] % len(world.entries))
    if member is None:
        return "skipped"
    slot = op[2] % len(world.slots)
    predicted = model.refuse_book(member, slot)
    new: list[Booking] = []

    async def action(session: AsyncSession) -> None:
        new.append(
            await bookings.book(
                session,
                member=world.accounts[member],
                slot_id=world.slots[slot].id,
                domain=DOMAIN,
                mode=MODE,
                now=now,
            )
        )

    outcome = await attempt(sessions, action)
    if outcome == OK:
        model.add(new[0], member, slot)
    return _agree(op, predicted, outcome)


def _agree(op: tuple[Any, ...], predicted: type[DomainError] | None, outcome: Outcome) -> Outcome:
    assert outcome == (predicted or OK), f"{op}: model says {predicted}, storage gave {outcome}"
    return outcome


async def _change_step(
    sessions: async_sessionmaker[AsyncSession], model: Model, op: tuple[Any, ...]
) -> Outcome:
    """Cancel or reschedule a booking, as its owner's account or as someone else's."""
    world, now, kind = model.world, model.now, op[0]
    booking_id = model.pick(op[1])
    owner = model.bookings[booking_id].member if booking_id in model.bookings else 0
    people = len(world.entries)
    other = world.account_of((world.person_of(owner) + 1) % people)
    member = other if op[2] == 0 else owner
    if member is None or not model.alive(member):
        return "skipped"
    predicted = model.refuse_change(member, booking_id)
    new: list[Booking] = []
    if kind == "cancel":
        late = predicted is None and model.late(model.bookings[booking_id])

        async def cancel(session: AsyncSession) -> None:
            _, terms = await bookings.cancel(
                session, member=world.accounts[member], booking_id=booking_id, now=now
            )
            assert terms.late == late

        outcome = _agree(op, predicted, await attempt(sessions, cancel))
        if outcome == OK:
            status = BookingStatus.LATE_CANCELLED if late else BookingStatus.CANCELLED
            model.finish(booking_id, status, consumed=late)
        return outcome
    slot = op[3] % len(world.slots)
    if predicted is None:
        old = model.bookings[booking_id]
        late = model.late(old)
        predicted = model.refuse_book(member, slot, credit=None if late else old, replacing=old)

    async def reschedule(session: AsyncSession) -> None:
        new.append(
            await bookings.reschedule(
                session,
                member=world.accounts[member],
                booking_id=booking_id,
                new_slot_id=world.slots[slot].id,
                now=now,
            )
        )

    outcome = _agree(op, predicted, await attempt(sessions, reschedule))
    if outcome == OK:
        assert new[0].rescheduled_from_id == booking_id
        model.finish(booking_id, BookingStatus.RESCHEDULED, consumed=late)
        model.add(new[0], member, slot)
    return outcome


async def _complete_step(
    sessions: async_sessionmaker[AsyncSession], model: Model, op: tuple[Any, ...]
) -> Outcome:
    """The counselor marks a booking held or a no-show (also a forgotten person's)."""
    booking_id, held = model.pick(op[1]), op[2]
    booking = model.bookings.get(booking_id)
    predicted = None
    if booking is None:
        predicted = NotFound
    elif booking.status != BookingStatus.BOOKED:
        predicted = BookingNotActive

    async def action(session: AsyncSession) -> None:
        await bookings.complete(session, booking_id=booking_id, held=held, now=model.now)

    outcome = _agree(op, predicted, await attempt(sessions, action))
    if outcome == OK:
        status = BookingStatus.HELD if held else BookingStatus.NO_SHOW
        model.finish(booking_id, status, consumed=held or model.world.org.no_show_uses_hours)
    return outcome


async def _person_step(
    sessions: async_sessionmaker[AsyncSession], model: Model, op: tuple[Any, ...]
) -> Outcome:
    """Forget me, re-link (a new account on the same roster entry), or HR marks left/back."""
    world, now = model.world, model.now
    person = op[1] % len(world.entries)
    kind = op[0]
    if kind == "forget" and person in world.current:
        async with unit_of_work(sessions) as session:
            member = await session.get(Member, world.accounts[world.current[person]].id)
            await members.forget(session, member)  # type: ignore[arg-type]
        del world.current[person]
        return OK
    if kind == "relink" and person not in world.current and person not in world.left:
        async with unit_of_work(sessions) as session:
            member = await members.consent(
                session,
                channel="test",
                external_id=f"{world.org.code}-{person}-{len(world.accounts)}",
                locale="en",
                now=now,
            )
            entry = await session.get(RosterEntry, world.entries[person].id)
            await linking.attach(session, member, entry, now)  # type: ignore[arg-type]
        world.current[person] = len(world.accounts)
        world.accounts.append(member)
        return OK
    if kind == "roster":
        status = RosterStatus.LEFT if op[2] else RosterStatus.ACTIVE
        async with unit_of_work(sessions) as session:
            entry = await session.get(RosterEntry, world.entries[person].id)
            entry.status = status  # type: ignore[union-attr]
        (world.left.add if op[2] else world.left.discard)(person)
        return OK
    return "skipped"


STEPS = {
    "book": _book_step,
    "cancel": _change_step,
    "reschedule": _change_step,
    "complete": _complete_step,
    "forget": _person_step,
    "relink": _person_step,
    "roster": _person_step,
}


async def step(
    sessions: async_sessionmaker[AsyncSession], model: Model, op: tuple[Any, ...]
) -> None:
    """Apply one drawn operation to the database and the model; their outcomes must agree."""
    outcome = await STEPS[op[0]](sessions, model, op)
    event(f"{op[0]}: {getattr(outcome, '__name__', outcome)}")


CONFIGS = st.fixed_dictionaries(
    {
        "people": st.integers(3, 4),
        # Half hours from 25 to 45 hours ahead: close enough for one person's sessions to clash.
        "slot_specs": st.lists(
            st.tuples(st.integers(50, 90), st.sampled_from([60, 60, 90])),
            min_size=6,
            max_size=10,
            unique_by=lambda spec: spec[0],
        ),
        "minutes_per_year": st.sampled_from([120, 180]),
        "max_minutes_ahead": st.sampled_from([60, 90, 150, 240]),
        "no_show_uses_hours": st.booleans(),
        "cancellation_cutoff_hours": st.sampled_from([12, 24, 48]),
        "booking_horizon_days": st.sampled_from([3, 30]),
        # 27 November splits the slots (25-29 November, Taipei) over two plan years.
        "plan_year_start_day": st.sampled_from([1, 27]),
    }
)
BOOK = st.tuples(st.just("book"), st.integers(0, 3), st.integers(0, 9))
RESCHEDULE = st.tuples(
    st.just("reschedule"), st.integers(0, 30), st.integers(0, 5), st.integers(0, 9)
)
OPERATIONS = st.one_of(
    BOOK,
    BOOK,
    BOOK,
    st.tuples(st.just("cancel"), st.integers(0, 30), st.integers(0, 5)),
    RESCHEDULE,
    RESCHEDULE,
    st.tuples(st.just("complete"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([1, 3, 6, 12])),
    st.tuples(st.just("forget"), st.integers(0, 3)),
    st.tuples(st.just("relink"), st.integers(0, 3)),
    st.tuples(st.just("roster"), st.integers(0, 3), st.booleans()),
)
# The bug of issue 21 in one sequence: the newest account forgets, and the person links again.
REUSE = st.tuples(st.integers(0, 3)).map(
    lambda p: [("forget", -1), ("relink", -1), ("book", -1, p[0])]
)


async def run_operations(
    sessions: async_sessionmaker[AsyncSession], config: dict[str, Any], ops: list[tuple[Any, ...]]
) -> None:
    """One example: a fresh organisation, then the operations; the full check after a re-link
    and at the end (every outcome is compared with the model at every step)."""
    org_fields = dict(config)
    if org_fields["plan_year_start_day"] != 1:
        org_fields["plan_year_start_month"] = 11
    slot_specs = [(half / 2, length) for half, length in org_fields.pop("slot_specs")]
    world = await build_world(sessions, now=START, slot_specs=slot_specs, **org_fields)
    model = Model(world=world, now=START)
    for op in ops:
        if op[0] == "advance":
            model.now += timedelta(hours=op[1])
            continue
        await step(sessions, model, op)
        if op[0] == "relink":
            compare(model, await snapshot(sessions, world, model.now))
    compare(model, await snapshot(sessions, world, model.now))


@pytest.fixture
def runner(db_url: str) -> Iterator[tuple[asyncio.Runner, async_sessionmaker[AsyncSession]]]:
    """One event loop and engine for all examples of a test (each example has its own org)."""
    with asyncio.Runner() as loop:
        engine = create_engine(db_url)
        yield loop, session_factory(engine)
        loop.run(engine.dispose())


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    config=CONFIGS,
    ops=st.lists(OPERATIONS, min_size=4, max_size=12),
    reuse=st.lists(REUSE, max_size=1),
)
def test_random_operations_keep_slots_and_hours_consistent(
    runner: tuple[asyncio.Runner, async_sessionmaker[AsyncSession]],
    config: dict[str, Any],
    ops: list[tuple[Any, ...]],
    reuse: list[list[tuple[Any, ...]]],
) -> None:
    note(f"config={config}")
    loop, sessions = runner
    loop.run(run_operations(sessions, config, [*(reuse[0] if reuse else []), *ops]))


# --- truly concurrent attempts ----------------------------------------------------------------


async def gather_outcomes(
    sessions: async_sessionmaker[AsyncSession], actions: list[Action]
) -> list[Outcome]:
    """Run the actions at once; any error other than a refusal fails the test."""
    results = await asyncio.gather(
        *(attempt(sessions, a) for a in actions), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)  # type: ignore[arg-type]


def book_action(member: Member, slot: Slot, now: datetime) -> Action:
    """book() as a deferred action."""
    return lambda s: bookings.book(
        s, member=member, slot_id=slot.id, domain=DOMAIN, mode=MODE, now=now
    )


def cancel_action(member: Member, booking: Booking, now: datetime) -> Action:
    """cancel() as a deferred action."""
    return lambda s: bookings.cancel(s, member=member, booking_id=booking.id, now=now)


def reschedule_action(member: Member, booking: Booking, slot: Slot, now: datetime) -> Action:
    """reschedule() as a deferred action."""
    return lambda s: bookings.reschedule(
        s, member=member, booking_id=booking.id, new_slot_id=slot.id, now=now
    )


def complete_action(booking: Booking, held: bool, now: datetime) -> Action:
    """complete() as a deferred action."""
    return lambda s: bookings.complete(s, booking_id=booking.id, held=held, now=now)


@dataclass
class Board:
    """The state a concurrent round starts from."""

    world: World
    now: datetime
    shot: Snapshot

    def left(self, member: Member) -> int:
        """The member's minutes left (one plan year in these tests)."""
        (year,) = self.world.years
        return self.shot.balances[(member.id, year)].left

    def active(self, member: Member) -> list[Booking]:
        """The member's bookings that can still be cancelled or rescheduled."""
        return [
            b
            for b in self.shot.bookings
            if b.member_id == member.id
            and b.status == BookingStatus.BOOKED
            and b.starts_at > self.now
        ]

    def late(self, booking: Booking) -> bool:
        """Whether letting go of the booking now forfeits its hours."""
        cutoff = timedelta(hours=self.world.org.cancellation_cutoff_hours)
        return self.now > booking.starts_at - cutoff

    def free(self) -> list[Slot]:
        """Slots nobody holds that are still bookable."""
        held = {b.slot_id for b in self.shot.bookings if b.status == BookingStatus.BOOKED}
        earliest = self.now + timedelta(hours=self.world.org.min_notice_hours)
        return [s for s in self.world.slots if s.id not in held and s.starts_at >= earliest]


def holders(shot: Snapshot, slot: Slot) -> list[int | None]:
    """Who holds a slot now."""
    return [
        b.member_id
        for b in shot.bookings
        if b.slot_id == slot.id and b.status == BookingStatus.BOOKED
    ]


async def same_slot_round(
    sessions: async_sessionmaker[AsyncSession], board: Board, rng: random.Random
) -> None:
    """Six members book or reschedule into one slot while two others cancel or book elsewhere."""
    free = board.free()
    target = rng.choice(free)
    others = [s for s in free if s is not target]
    racers, bystanders = board.world.members[:6], board.world.members[6:]
    actions, affordable = [], []
    for member in racers:
        movable = board.active(member)
        if movable and rng.random() < 0.6:
            old = rng.choice(movable)
            actions.append(reschedule_action(member, old, target, board.now))
            affordable.append(not board.late(old) or board.left(member) >= 60)
        else:
            actions.append(book_action(member, target, board.now))
            affordable.append(board.left(member) >= 60)
    for member in bystanders:
        movable = board.active(member)
        if movable:
            actions.append(cancel_action(member, rng.choice(movable), board.now))
        else:
            actions.append(book_action(member, others.pop(), board.now))
    outcomes = await gather_outcomes(sessions, actions)
    raced = outcomes[: len(racers)]
    assert set(raced) <= {OK, SlotTaken, NoHoursLeft}, raced
    assert raced.count(OK) == (1 if any(affordable) else 0), (raced, affordable)
    for can, got in zip(affordable, raced, strict=True):
        # Those with the hours lose only to the winner; those without never win.
        assert got in ({OK, SlotTaken} if can else {SlotTaken, NoHoursLeft}), (can, got)
    assert set(outcomes[len(racers) :]) <= {OK, NoHoursLeft}
    shot = await snapshot(sessions, board.world, board.now)
    winners = [m.id for m, got in zip(racers, raced, strict=True) if got == OK]
    assert holders(shot, target) == winners


async def overspend_round(
    sessions: async_sessionmaker[AsyncSession], board: Board, rng: random.Random, spender: Member
) -> None:
    """One member books six slots at once beyond their hours while cancelling and completing."""
    free = board.free()
    rng.shuffle(free)
    wanted, elsewhere = free[:6], free[6:]
    actions = [book_action(spender, slot, board.now) for slot in wanted]
    movable = board.active(spender)
    rng.shuffle(movable)
    cancelled = movable.pop() if movable else None
    if cancelled is not None:
        actions.append(cancel_action(spender, cancelled, board.now))
    if movable:
        actions.append(complete_action(movable.pop(), rng.random() < 0.5, board.now))
    moved = movable.pop() if movable else None
    if moved is not None:
        actions.append(reschedule_action(spender, moved, elsewhere[0], board.now))
    left = board.left(spender)
    outcomes = await gather_outcomes(sessions, actions)
    booked, rest = outcomes[: len(wanted)], outcomes[len(wanted) :]
    assert set(booked) <= {OK, NoHoursLeft}, booked
    moved_outcome = rest.pop() if moved is not None else None
    assert rest == [OK] * len(rest), rest  # the cancel and the completion always go through
    assert moved_outcome in (None, OK, NoHoursLeft), moved_outcome
    freed = cancelled.minutes if cancelled is not None and not board.late(cancelled) else 0
    late_move = moved is not None and moved_outcome == OK and board.late(moved)
    shot = await snapshot(sessions, board.world, board.now)
    (year,) = board.world.years
    after = shot.balances[(spender.id, year)].left
    assert after >= 0
    assert after == left + freed - 60 * booked.count(OK) - 60 * late_move
    if NoHoursLeft in booked:
        assert after < 60 + freed, "a booking was refused although the hours were there"
    else:
        assert booked.count(OK) == len(wanted)
    assert [holders(shot, s) for s in wanted] == [
        [spender.id] if got == OK else [] for got in booked
    ]


async def run_storm(db_url: str) -> None:
    """Alternate same-slot races and overspending races, moving the clock 3 hours each round."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        specs = [(25 + 2 * i, 60) for i in range(60)]
        world = await build_world(
            sessions, people=8, slot_specs=specs, now=START, minutes_per_year=240
        )
        rng = random.Random(20261124)
        now = START
        for rnd in range(14):
            board = Board(world, now, await snapshot(sessions, world, now))
            if rnd % 2 == 0:
                await same_slot_round(sessions, board, rng)
            else:
                await overspend_round(sessions, board, rng, world.members[(3 * rnd) % 8])
            now += timedelta(hours=3)
    finally:
        await engine.dispose()


def test_concurrent_books_cancels_and_reschedules_keep_invariants(db_url: str) -> None:
    asyncio.run(run_storm(db_url))


FINISHED_BY = {
    "cancel": {BookingStatus.CANCELLED, BookingStatus.LATE_CANCELLED},
    "held": {BookingStatus.HELD},
    "no_show": {BookingStatus.NO_SHOW},
    "reschedule": {BookingStatus.RESCHEDULED},
}


async def run_finish_race(db_url: str) -> list[str]:
    """Race cancel, held, no-show and reschedule on the same bookings; return any deadlocks."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    deadlocks: list[str] = []
    try:
        specs = [(25 + i, 60) for i in range(60)]
        world = await build_world(
            sessions, people=5, slot_specs=specs, now=START, minutes_per_year=6000
        )
        now, spare = START, iter(world.slots[30:])
        for rnd in range(3):
            made = []
            for member, slot in zip(world.members, world.slots[rnd * 10 :], strict=False):
                async with unit_of_work(sessions) as session:
                    made.append(
                        await bookings.book(
                            session,
                            member=member,
                            slot_id=slot.id,
                            domain=DOMAIN,
                            mode=MODE,
                            now=now,
                        )
                    )
            now += timedelta(hours=6)
            contenders = []
            for member, booking in zip(world.members, made, strict=True):
                contenders += [
                    ("cancel", cancel_action(member, booking, now)),
                    ("held", complete_action(booking, True, now)),
                    ("no_show", complete_action(booking, False, now)),
                    ("reschedule", reschedule_action(member, booking, next(spare), now)),
                ]
            results = await asyncio.gather(
                *(attempt(sessions, action) for _, action in contenders), return_exceptions=True
            )
            for result in results:
                if isinstance(result, DBAPIError) and "deadlock" in str(result):
                    deadlocks.append(str(result.orig).splitlines()[0])
                elif isinstance(result, BaseException):
                    raise result
            shot = await snapshot(sessions, world, now)
            status = {b.id: b.status for b in shot.bookings}
            for index, booking in enumerate(made):
                group = contenders[4 * index : 4 * index + 4]
                outcomes = results[4 * index : 4 * index + 4]
                winners = [
                    name for (name, _), got in zip(group, outcomes, strict=True) if got == OK
                ]
                assert len(winners) == 1, (booking.id, outcomes)
                assert status[booking.id] in FINISHED_BY[winners[0]]
                losers = [got for got in outcomes if got != OK and not isinstance(got, DBAPIError)]
                assert set(losers) <= {BookingNotActive}, outcomes
    finally:
        await engine.dispose()
    return deadlocks


def test_racing_to_finish_one_booking_has_one_winner(db_url: str) -> None:
    deadlocks = asyncio.run(run_finish_race(db_url))
    assert deadlocks == []
