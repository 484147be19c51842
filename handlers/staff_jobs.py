"""Counselor-side scheduled jobs: daily agenda, outcome questions, waitlist holds, slots."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import notify, waitlist
from handlers.types import Choice, Reply
from storage import counselors, orgs
from storage import waitlist as waitlist_store
from storage.db import unit_of_work
from storage.models import Organisation

AGENDA_HOUR = 8
ASK_AGAIN_AFTER = timedelta(hours=2)
SLOT_HORIZON_DAYS = 30


async def send_agendas(
    sessions: async_sessionmaker[AsyncSession], now: datetime, key: bytes
) -> int:
    """At 08:00 organisation time, send each linked counselor the day's sessions (once)."""
    sent = 0
    async with unit_of_work(sessions) as session:
        for counselor in await counselors.linked(session):
            org = await session.get(Organisation, counselor.organisation_id)
            local = now.astimezone(orgs.tz(org))
            if local.hour < AGENDA_HOUR:
                continue
            start = datetime.combine(local.date(), time(0), tzinfo=orgs.tz(org))
            items = await counselors.bookings_between(
                session, counselor, start, start + timedelta(days=1)
            )
            replies = [Reply("counselor-agenda-title", day=local.date(), count=len(items))]
            for booking in items:
                params = await notify.booking_params(session, key, booking)
                replies.append(Reply("counselor-agenda-line", **params))
            replies[-1].choices = [Choice("counselor-agenda", "co:ag")]
            sent += await notify.to_staff(
                session, counselor, replies, f"agenda:{counselor.id}:{local.date()}", now
            )
    return sent


async def ask_outcomes(
    sessions: async_sessionmaker[AsyncSession], now: datetime, key: bytes
) -> int:
    """Ask the counselor held or no-show when a session ends, and again 2 h later."""
    sent = 0
    async with unit_of_work(sessions) as session:
        for booking in await counselors.unmarked(session, ended_before=now):
            params = await notify.booking_params(session, key, booking)
            again = now >= booking.ends_at + ASK_AGAIN_AFTER
            reply = Reply(
                "counselor-ask-outcome-again" if again else "counselor-ask-outcome",
                **params,
                choices=[
                    Choice("counselor-held", f"co:held:{booking.id}"),
                    Choice("counselor-no-show", f"co:ns:{booking.id}"),
                ],
            )
            tag = "outcome-again" if again else "outcome"
            sent += await notify.to_counselor(
                session, booking, [reply], f"{tag}:{booking.id}", now
            )
    return sent


async def rotate_waitlist(
    sessions: async_sessionmaker[AsyncSession], now: datetime, key: bytes
) -> int:
    """Offer slots whose 30-minute hold ran out to the next in line."""
    offered = 0
    async with unit_of_work(sessions) as session:
        for slot_id in await waitlist_store.expired_offers(session, now=now):
            offered += await waitlist.offer_freed_slot(session, slot_id, now)
    return offered


async def extend_slots(
    sessions: async_sessionmaker[AsyncSession], now: datetime, key: bytes
) -> int:
    """Keep slots from counselors' weekly hours open for the next 30 days."""
    added = 0
    async with unit_of_work(sessions) as session:
        for counselor in await counselors.with_weekly_hours(session):
            org = await session.get(Organisation, counselor.organisation_id)
            added += await counselors.generate_slots(
                session, counselor, org, start=orgs.local_date(org, now), days=SLOT_HORIZON_DAYS
            )
    return added
