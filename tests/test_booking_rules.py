"""Issue 21's booking rules on SQLite and PostgreSQL: no overlapping sessions, a cap on hours
booked ahead, and yearly grants that survive a reused member id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import func, select, text

from bot.i18n import SUPPORTED, render
from storage import bookings, hours, linking, members, orgs
from storage.db import create_engine, session_factory, unit_of_work
from storage.demo import demo_enrolment_code
from storage.errors import DomainError, OverlappingBooking, TooMuchBookedAhead
from storage.models import Booking, BookingStatus, Member, RosterEntry, Slot
from storage.schema import alembic_config
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo
from tests.test_schema import _database_at, _drop
from tests.test_storage_bookings import (
    KEY,
    allow_ahead,
    apart,
    demo_org,
    first_free,
    linked_member,
)

PSY = {"domain": "psychology", "mode": "video"}


def same_time_pairs(found: list[Slot]) -> list[tuple[Slot, Slot]]:
    """Pairs of free slots of two counselors that start together."""
    return [
        (a, b)
        for i, a in enumerate(found)
        for b in found[i + 1 :]
        if a.starts_at == b.starts_at and a.counselor_id != b.counselor_id
    ]


async def book(sessions, member: Member, slot: Slot, now) -> Booking:
    async with unit_of_work(sessions) as session:
        return await bookings.book(session, member=member, slot_id=slot.id, now=now, **PSY)


async def count_bookings(sessions, member: Member) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Booking).where(Booking.member_id == member.id)
        return int(await session.scalar(query) or 0)


# --- one member, one session at a time -----------------------------------------------------


async def test_an_overlapping_booking_is_refused_with_the_other_start(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0120")
    first, second = same_time_pairs(await first_free(sessions, clock))[0]
    held = await book(sessions, member, first, clock())
    with pytest.raises(OverlappingBooking) as err:
        await book(sessions, member, second, clock())
    async with sessions() as session:
        tz = orgs.tz(await demo_org(session))
    assert err.value.message_key == "book-overlap"
    assert err.value.params == {"start": held.starts_at.astimezone(tz)}
    assert await count_bookings(sessions, member) == 1


async def test_a_reschedule_may_reuse_its_own_time_but_not_another(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0121")
    found = await first_free(sessions, clock)
    first, twin = same_time_pairs(found)[0]
    later = next(s for s in apart(found) if s.starts_at >= first.ends_at)
    booking = await book(sessions, member, first, clock())
    other = await book(sessions, member, later, clock())
    async with unit_of_work(sessions) as session:
        moved = await bookings.reschedule(
            session, member=member, booking_id=booking.id, new_slot_id=twin.id, now=clock()
        )
    clash = [s for s in found if s.starts_at == later.starts_at and s.id != later.id]
    if clash:  # the demo has two counselors at most times; skip the check where it has one
        with pytest.raises(OverlappingBooking) as err:
            async with unit_of_work(sessions) as session:
                await bookings.reschedule(
                    session,
                    member=member,
                    booking_id=moved.id,
                    new_slot_id=clash[0].id,
                    now=clock(),
                )
        assert err.value.params["start"] == other.starts_at
    async with sessions() as session:
        assert (await session.get(Booking, moved.id)).status == BookingStatus.BOOKED


async def test_two_overlapping_books_at_once_give_one_booking(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0122")
    pairs = same_time_pairs(await first_free(sessions, clock))[:3]

    async def attempt(slot: Slot) -> str:
        try:
            await book(sessions, member, slot, clock())
        except DomainError as err:
            return err.message_key
        return "ok"

    for first, second in pairs:
        results = await asyncio.gather(attempt(first), attempt(second))
        assert sorted(results) == ["book-overlap", "ok"]
    assert await count_bookings(sessions, member) == len(pairs)


# --- hours booked ahead ----------------------------------------------------------------------


async def test_hours_booked_ahead_stop_at_the_organisation_cap(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0123")
    free = apart(await first_free(sessions, clock))
    made = [await book(sessions, member, slot, clock()) for slot in free[:4]]
    with pytest.raises(TooMuchBookedAhead) as err:
        await book(sessions, member, free[4], clock())
    assert err.value.message_key == "book-ahead-cap"
    assert err.value.params == {"cap": 4.0, "booked": 4.0}
    async with unit_of_work(sessions) as session:
        await bookings.cancel(session, member=member, booking_id=made[0].id, now=clock())
    await book(sessions, member, free[4], clock())
    assert await count_bookings(sessions, member) == 5


async def test_a_started_session_no_longer_counts_as_ahead(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0124")
    await allow_ahead(sessions, 90)
    free = apart(await first_free(sessions, clock))
    first = await book(sessions, member, free[0], clock())
    with pytest.raises(TooMuchBookedAhead) as err:
        await book(sessions, member, free[1], clock())
    assert err.value.params == {"cap": 1.5, "booked": 1.0}
    clock.advance(seconds=(first.starts_at - clock()).total_seconds() + 60)
    later = next(s for s in free if s.starts_at >= clock() + timedelta(hours=24))
    await book(sessions, member, later, clock())  # still booked, not yet held: but not ahead


async def test_concurrent_books_never_pass_the_cap(sessions, clock) -> None:
    member = await linked_member(sessions, clock, "E0125")
    free = apart(await first_free(sessions, clock))[:6]

    async def attempt(slot: Slot) -> str:
        try:
            await book(sessions, member, slot, clock())
        except DomainError as err:
            return err.message_key
        return "ok"

    results = await asyncio.gather(*(attempt(s) for s in free))
    assert sorted(results) == ["book-ahead-cap"] * 2 + ["ok"] * 4


# --- grants survive a reused member id -------------------------------------------------------


async def test_forget_me_then_relink_gets_a_fresh_grant(db_url, sessions, clock) -> None:
    number = "E0126"
    member = await linked_member(sessions, clock, number)
    free = apart(await first_free(sessions, clock))
    await book(sessions, member, free[0], clock())
    async with unit_of_work(sessions) as session:
        org = await demo_org(session)
        recovery = await linking.link(
            session,
            member=await session.get(Member, member.id),
            claim=linking.claim(KEY, "DEMO", number, demo_enrolment_code(KEY, number)),
            key=KEY,
            now=clock(),
        )
        await members.forget(session, await session.get(Member, member.id))
    assert recovery.linked is None  # the enrolment code was spent: the recovery code is needed
    async with unit_of_work(sessions) as session:
        again = await members.consent(
            session, channel="test", external_id="new-phone", locale="en", now=clock()
        )
        entry = await session.get(RosterEntry, member.roster_entry_id)
        await linking.attach(session, again, entry, clock())
        if db_url.startswith("sqlite"):
            assert again.id == member.id  # the forgotten member's id is reused on SQLite
        assert again.grant_key != member.grant_key
        on = orgs.local_date(org, free[0].starts_at)
        balance = await hours.balance(session, org=org, member=again, on=on, now=clock())
    assert (balance.granted, balance.reserved, balance.used) == (480, 0, 0)


# --- what the employee sees ------------------------------------------------------------------


async def test_the_booking_flow_explains_an_overlap_and_shows_the_days(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    async with sessions() as session:
        org = await demo_org(session)
    first, second = same_time_pairs(await first_free(sessions, clock))[0]
    await chat.tap(f"bk:ok:{first.id}:psychology:video")
    assert chat.keys == ["book-confirmed"]
    await chat.tap(f"bk:ok:{second.id}:psychology:video")
    assert chat.keys == ["book-overlap", "book-choose-day"]
    assert chat.replies[0].params == {"start": first.starts_at.astimezone(orgs.tz(org))}


async def test_the_booking_flow_explains_the_cap_and_shows_the_days(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await allow_ahead(sessions, 60)
    await link(chat)
    await book_first(chat)
    later = apart(await first_free(sessions, clock))[-1]
    await chat.tap(f"bk:ok:{later.id}:psychology:video")
    assert chat.keys == ["book-ahead-cap", "book-choose-day"]
    assert chat.replies[0].params == {"cap": 1.0, "booked": 1.0}


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_new_refusals_render_in_every_locale(locale: str) -> None:
    cap = render(locale, "book-ahead-cap", {"cap": 4.0, "booked": 3.5})
    assert "4" in cap and "3.5" in cap and "{" not in cap
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Taipei"))
    overlap = render(locale, "book-overlap", {"start": start})
    assert "10:00" in overlap and "{" not in overlap


# --- migration 0009 re-grants what a reused id swallowed -------------------------------------

JOINED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
BEFORE_0009 = [
    "INSERT INTO organisation (id, code, name, timezone, plan_year_start_month, "
    "plan_year_start_day, minutes_per_year, enabled_domains, cancellation_cutoff_hours, "
    "min_notice_hours, booking_horizon_days, no_show_uses_hours, min_group_size, "
    "min_group_size_usage, digest_weekday, digest_hour, created_at) VALUES (1, 'ACME', 'Acme', "
    "'Asia/Taipei', 1, 1, 480, 'psychology', 24, 24, 30, true, 5, 10, 0, 9, :now)",
    # 1 kept its grant; 2 reuses a forgotten member's id; 3 is not linked yet.
    "INSERT INTO member (id, channel, external_id, locale, consent_at, pseudonym, "
    "organisation_id, linked_at, first_seen_at) VALUES "
    "(1, 'test', 'a', 'en', :now, 'p1', 1, :now, :now), "
    "(2, 'test', 'b', 'en', :now, 'p2', 1, :now, :now), "
    "(3, 'test', 'c', 'en', :now, 'p3', NULL, NULL, :now)",
    "INSERT INTO hours_entry (organisation_id, member_id, plan_year, bucket, minutes, reason, "
    "idempotency_key, created_at) VALUES "
    "(1, 1, '2026-01-01', 'granted', 480, 'plan_year', 'grant:1:2026-01-01', :now), "
    "(1, NULL, '2026-01-01', 'granted', 480, 'plan_year', 'grant:2:2026-01-01', :now), "
    "(1, NULL, '2025-01-01', 'granted', 480, 'plan_year', 'grant:2:2025-01-01', :now), "
    "(1, NULL, '2026-01-01', 'granted', 480, 'plan_year', 'grant:3:2026-01-01', :now)",
]


async def _grants(engine) -> dict[str, tuple[int | None, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT idempotency_key, member_id, plan_year FROM hours_entry")
        )
        return {key: (member_id, str(year)) for key, member_id, year in rows}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_migration_0009_regrants_what_a_reused_id_swallowed(backend, tmp_path) -> None:
    url, name = await _database_at(backend, tmp_path)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0008")
        engine = create_engine(url)
        async with engine.begin() as connection:
            for statement in BEFORE_0009:
                await connection.execute(text(statement), {"now": JOINED})
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0009")
        async with engine.connect() as connection:
            keys = dict((await connection.execute(text("SELECT id, grant_key FROM member"))).all())
            audit = (
                await connection.execute(text("SELECT organisation_id, action FROM audit_log"))
            ).all()
            cap = await connection.scalar(text("SELECT max_minutes_ahead FROM organisation"))
        assert len(set(keys.values())) == 3 and all(len(k) == 32 for k in keys.values())
        assert await _grants(engine) == {
            f"grant:{keys[1]}:2026-01-01": (1, "2026-01-01"),
            f"grant:{keys[2]}:2026-01-01": (2, "2026-01-01"),
            "grant:2:2026-01-01": (None, "2026-01-01"),
            "grant:2:2025-01-01": (None, "2025-01-01"),
            "grant:3:2026-01-01": (None, "2026-01-01"),
        }
        assert [tuple(r) for r in audit] == [(1, "hours-regranted")] and cap == 240
        factory = session_factory(engine)
        async with factory() as session:
            org = await orgs.by_code(session, "ACME")
            for member_id in (1, 2):
                member = await session.get(Member, member_id)
                on = JOINED.date()
                balance = await hours.balance(session, org=org, member=member, on=on, now=JOINED)
                assert balance.granted == 480, member_id  # granted once, never twice
            await session.commit()
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0008")
        back = await _grants(engine)
        assert back["grant:1:2026-01-01"] == (1, "2026-01-01")  # the old code finds it again
        assert sorted(member for member, _ in back.values() if member is not None) == [1, 2]
        await engine.dispose()
    finally:
        await _drop(name)
