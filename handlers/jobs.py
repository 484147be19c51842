"""Scheduled jobs: plain async functions of (sessions, now), idempotent, feeding the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import crisis_handoff, digest, notify, staff_jobs
from handlers.feedback import prompt
from handlers.types import Key, Reply
from kpi.release import release_all
from kpi.snapshot import snapshot_all
from storage import feedback, orgs, retention
from storage.db import unit_of_work
from storage.models import Booking, BookingStatus, Member

Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[int]]
REMINDERS = (("reminder-24h", timedelta(hours=24)), ("reminder-1h", timedelta(hours=1)))


async def send_reminders(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Remind employees 24 h and 1 h before a session (once each, by outbox key)."""
    sent = 0
    async with unit_of_work(sessions) as session:
        rows = await session.execute(
            select(Booking, Member)
            .join(Member, Member.id == Booking.member_id)
            .where(
                Booking.status == BookingStatus.BOOKED,
                Booking.starts_at > now,
                Booking.starts_at <= now + timedelta(hours=24),
                Member.messaging_stopped_at.is_(None),
            )
        )
        for booking, member in rows:
            org = await orgs.by_id(session, booking.organisation_id)
            lead = booking.starts_at - now
            key, _ = next((k, d) for k, d in reversed(REMINDERS) if lead <= d)
            reply = Reply(
                key,
                start=booking.starts_at.astimezone(orgs.tz(org)),
                domain=Key(f"domain-{booking.domain.value}"),
                mode=Key(f"mode-{booking.mode.value}"),
            )
            sent += await notify.to_chat(session, member, [reply], f"{key}:{booking.id}", now)
    return sent


async def send_feedback_prompts(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Prompt after each held session, remind once after 48 h; prompts expire after 14 days."""
    sent = 0
    async with unit_of_work(sessions) as session:
        for row, key in [
            (r, "feedback-prompt") for r in await feedback.open_prompts(session, now=now)
        ] + [(r, "feedback-reminder") for r in await feedback.due_reminders(session, now=now)]:
            member = await session.get(Member, row.member_id) if row.member_id else None
            if member is None or member.messaging_stopped_at is not None:
                continue
            intro = Reply(key, domain=Key(f"domain-{row.domain.value}"))
            sent += await notify.to_chat(
                session, member, [intro, prompt(row)], f"{key}:{row.id}", now
            )
    return sent


async def purge_old_rows(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    keep: retention.Retention = retention.DEFAULT,
) -> int:
    """Apply the retention rules (processed events, sent messages, idle states, media)."""
    async with unit_of_work(sessions) as session:
        return await retention.purge(session, now=now, keep=keep)


def build_jobs(
    key: bytes, keep: retention.Retention = retention.DEFAULT
) -> dict[str, tuple[Job, int]]:
    """Every scheduled job by name, with its interval in seconds."""

    async def purge(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
        return await purge_old_rows(sessions, now, keep)

    def keyed(job: Callable[..., Awaitable[int]]) -> Job:
        async def run(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
            return await job(sessions, now, key)

        return run

    return {
        "reminders": (send_reminders, 60),
        "crisis_alerts": (crisis_handoff.follow_up_unanswered, 60),
        "feedback_prompts": (send_feedback_prompts, 300),
        "counselor_agendas": (keyed(staff_jobs.send_agendas), 300),
        "session_outcomes": (keyed(staff_jobs.ask_outcomes), 300),
        "waitlist_holds": (keyed(staff_jobs.rotate_waitlist), 60),
        "weekly_slots": (keyed(staff_jobs.extend_slots), 3600),
        "retention": (purge, 3600),
        "kpi_snapshots": (snapshot_all, 3600),
        "kpi_releases": (release_all, 3600),
        "hr_digests": (keyed(digest.send_digests), 600),
    }
