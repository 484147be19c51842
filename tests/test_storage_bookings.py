"""Storage rules on SQLite and PostgreSQL: ledger sums, one booking per slot, no negative hours."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import bookings, hours, linking, members, orgs, slots
from storage.db import unit_of_work
from storage.demo import demo_enrolment_code, seed
from storage.errors import DomainError, NoHoursLeft, SlotTaken, SlotUnavailable
from storage.models import Booking, BookingStatus, Member, Organisation, Slot
from tests.conftest import TEST_KEY
from tests.helpers import Clock

KEY = TEST_KEY.encode()


async def linked_member(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, number: str
) -> Member:
    """Seed DEMO (idempotent) and link a test-channel member to an employee number."""
    async with unit_of_work(sessions) as session:
        await seed(session, key=KEY, now=clock())
        member = await members.consent(
            session, channel="test", external_id=number, locale="en", now=clock()
        )
        claim = linking.claim(KEY, "DEMO", number, demo_enrolment_code(KEY, number))
        outcome = await linking.link(session, member=member, claim=claim, key=KEY, now=clock())
        assert outcome.linked is member
    return member


async def demo_org(session: AsyncSession) -> Organisation:
    return await orgs.by_code(session, "DEMO")


async def first_free(sessions, clock: Clock, domain: str = "psychology", mode: str = "video"):
    async with sessions() as session:
        org = await demo_org(session)
        return await slots.free_slots(
            session, org=org, domain=domain, mode=mode, now=clock(), max_minutes=600
        )


def apart(found: list[Slot]) -> list[Slot]:
    """The slots one person may hold together: none overlaps an earlier one."""
    kept: list[Slot] = []
    for slot in found:
        if all(slot.starts_at >= k.ends_at or slot.ends_at <= k.starts_at for k in kept):
            kept.append(slot)
    return kept


async def allow_ahead(sessions: async_sessionmaker[AsyncSession], minutes: int) -> None:
    """Raise DEMO's cap on minutes booked ahead (tests about the yearly hours)."""
    async with unit_of_work(sessions) as session:
        (await demo_org(session)).max_minutes_ahead = minutes


async def test_plan_year_boundaries() -> None:
    org = Organisation(code="X", name="X", plan_year_start_month=7, plan_year_start_day=1)
    assert orgs.plan_year_start(org, date(2026, 6, 30)) == date(2025, 7, 1)
    assert orgs.plan_year_start(org, date(2026, 7, 1)) == date(2026, 7, 1)
    assert orgs.plan_year_end(org, date(2026, 7, 1)) == date(2027, 7, 1)
    leap = Organisation(code="Y", name="Y", plan_year_start_month=2, plan_year_start_day=29)
    assert orgs.plan_year_start(leap, date(2027, 3, 1)) == date(2027, 2, 28)


async def test_free_slots_respect_notice_and_horizon(sessions, clock) -> None:
    await linked_member(sessions, clock, "E0100")
    found = await first_free(sessions, clock)
    assert found, "demo has psychology video slots"
    assert all(s.starts_at >= clock() + timedelta(hours=24) for s in found)
    assert all(s.starts_at <= clock() + timedelta(days=30) for s in found)


async def test_book_reserves_and_cancel_returns_hours(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0101")
    slot = (await first_free(sessions, clock))[0]
    async with unit_of_work(sessions) as session:
        booking = await bookings.book(
            session,
            member=member,
            slot_id=slot.id,
            domain="psychology",
            mode="video",
            now=clock(),
        )
        org = await demo_org(session)
        on = orgs.local_date(org, slot.starts_at)  # the booking's plan year, even on 31 Dec
        balance = await hours.balance(session, org=org, member=member, on=on, now=clock())
    assert (balance.granted, balance.reserved, balance.used, balance.left) == (480, 60, 0, 420)
    assert balance.by_domain == {"psychology": {"reserved": 60, "used": 0}}
    assert slot.id not in [s.id for s in await first_free(sessions, clock)]
    async with unit_of_work(sessions) as session:
        _, terms = await bookings.cancel(
            session, member=member, booking_id=booking.id, now=clock()
        )
        balance = await hours.balance(session, org=org, member=member, on=on, now=clock())
    assert terms.late is False
    assert (balance.reserved, balance.used, balance.left) == (0, 0, 480)
    assert slot.id in [s.id for s in await first_free(sessions, clock)]


async def test_late_cancel_forfeits_hours(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0102")
    slot = (await first_free(sessions, clock))[0]
    async with unit_of_work(sessions) as session:
        booking = await bookings.book(
            session,
            member=member,
            slot_id=slot.id,
            domain="psychology",
            mode="video",
            now=clock(),
        )
    clock.now = slot.starts_at - timedelta(hours=2)
    async with unit_of_work(sessions) as session:
        cancelled, terms = await bookings.cancel(
            session, member=member, booking_id=booking.id, now=clock()
        )
        org = await demo_org(session)
        balance = await hours.balance(
            session, org=org, member=member, on=orgs.local_date(org, clock()), now=clock()
        )
    assert terms.late is True and cancelled.status == BookingStatus.LATE_CANCELLED
    assert (balance.reserved, balance.used, balance.left) == (0, 60, 420)


async def test_no_hours_left_is_refused_and_nothing_is_written(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0103")
    await allow_ahead(sessions, 600)
    free = apart(await first_free(sessions, clock))
    for slot in free[:8]:
        async with unit_of_work(sessions) as session:
            await bookings.book(
                session,
                member=member,
                slot_id=slot.id,
                domain="psychology",
                mode="video",
                now=clock(),
            )
    with pytest.raises(NoHoursLeft) as err:
        async with unit_of_work(sessions) as session:
            await bookings.book(
                session,
                member=member,
                slot_id=free[8].id,
                domain="psychology",
                mode="video",
                now=clock(),
            )
    assert err.value.params == {"needed": 60, "left": 0}
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Booking))
    assert count == 8


async def test_wrong_domain_or_mode_is_unavailable(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0104")
    slot = (await first_free(sessions, clock, "legal", "phone"))[0]
    async with unit_of_work(sessions) as session:
        with pytest.raises(SlotUnavailable):
            await bookings.book(
                session,
                member=member,
                slot_id=slot.id,
                domain="psychology",
                mode="phone",
                now=clock(),
            )


async def test_reschedule_keeps_old_until_new_is_secured(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0105")
    other = await linked_member(sessions, clock, "E0106")
    first, second, taken = (await first_free(sessions, clock))[:3]
    async with unit_of_work(sessions) as session:
        booking = await bookings.book(
            session,
            member=member,
            slot_id=first.id,
            domain="psychology",
            mode="video",
            now=clock(),
        )
        await bookings.book(
            session, member=other, slot_id=taken.id, domain="psychology", mode="video", now=clock()
        )
    with pytest.raises(SlotTaken):
        async with unit_of_work(sessions) as session:
            await bookings.reschedule(
                session, member=member, booking_id=booking.id, new_slot_id=taken.id, now=clock()
            )
    async with sessions() as session:
        assert (await session.get(Booking, booking.id)).status == BookingStatus.BOOKED
    async with unit_of_work(sessions) as session:
        new = await bookings.reschedule(
            session, member=member, booking_id=booking.id, new_slot_id=second.id, now=clock()
        )
        org = await demo_org(session)
        on = orgs.local_date(org, second.starts_at)
        balance = await hours.balance(session, org=org, member=member, on=on, now=clock())
    assert new.rescheduled_from_id == booking.id
    assert balance.reserved == 60 and balance.left == 420


async def test_concurrent_attempts_on_one_slot_give_one_booking(sessions, clock) -> None:
    people = [await linked_member(sessions, clock, f"E{150 + i:04d}") for i in range(8)]
    slot = (await first_free(sessions, clock))[0]

    async def attempt(member: Member) -> str:
        try:
            async with unit_of_work(sessions) as session:
                await bookings.book(
                    session,
                    member=member,
                    slot_id=slot.id,
                    domain="psychology",
                    mode="video",
                    now=clock(),
                )
        except DomainError as err:
            return err.message_key
        return "ok"

    results = await asyncio.gather(*(attempt(m) for m in people))
    assert sorted(results) == ["book-slot-taken"] * 7 + ["ok"]
    async with sessions() as session:
        active = await session.scalar(
            select(func.count()).select_from(Booking).where(Booking.active_slot_id == slot.id)
        )
    assert active == 1


async def test_concurrent_spending_never_goes_negative(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0180")
    await allow_ahead(sessions, 600)
    free = apart(await first_free(sessions, clock))[:12]

    async def attempt(slot_id: int) -> str:
        try:
            async with unit_of_work(sessions) as session:
                await bookings.book(
                    session,
                    member=member,
                    slot_id=slot_id,
                    domain="psychology",
                    mode="video",
                    now=clock(),
                )
        except DomainError as err:
            return err.message_key
        return "ok"

    results = await asyncio.gather(*(attempt(s.id) for s in free))
    assert results.count("ok") == 8
    async with unit_of_work(sessions) as session:
        org = await demo_org(session)
        on = orgs.local_date(org, free[0].starts_at)
        balance = await hours.balance(session, org=org, member=member, on=on, now=clock())
    assert balance.left == 0
