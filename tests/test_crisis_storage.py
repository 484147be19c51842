"""Crisis records: an episode is one person's hits on one local day; the monthly report has
counts only; the check-in is rate-limited per chat; the migration marks old repeat hits."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import select, text, update

from bot.i18n import render
from handlers.crisis_report import report_replies
from kpi.metrics import Period, period_counts
from storage import crisis, crisis_alerts
from storage.db import create_engine, unit_of_work
from storage.models import Channel, Counselor, CrisisEvent, Member, Organisation
from storage.schema import alembic_config

TAIPEI = ZoneInfo("Asia/Taipei")
DAY = date(2026, 11, 17)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


async def world(session) -> tuple[Organisation, list[Member]]:
    """An organisation, two members and a counselor."""
    org = Organisation(code="ACME", name="Acme", created_at=local(DAY, 9))
    session.add(org)
    await session.flush()
    people = [
        Member(
            channel=Channel.TEST,
            external_id=f"m{n}",
            locale="zh-TW",
            consent_at=local(DAY, 9),
            pseudonym=f"p{n}",
            organisation_id=org.id,
            first_seen_at=local(DAY, 9),
        )
        for n in range(2)
    ]
    session.add_all(people)
    session.add(
        Counselor(
            organisation_id=org.id,
            display_name="Dr",
            domains="psychology",
            modes="video",
            licence_number="L",
            licence_expires_on=date(2030, 1, 1),
            channel=Channel.TEST,
            external_id="dr",
        )
    )
    await session.flush()
    return org, people


async def hit(session, member: Member | None, at: datetime) -> None:
    await crisis.record(session, channel="test", locale="zh-TW", member=member, now=at)
    await session.flush()


async def test_thirty_nine_hits_in_a_day_are_one_episode(sessions) -> None:
    async with unit_of_work(sessions) as session:
        org, (alice, bob) = await world(session)
        for n in range(39):
            await hit(session, alice, local(DAY, 8) + timedelta(minutes=20 * n))  # to 20:40
        await hit(session, alice, local(DAY, 23, 59))
        await hit(session, alice, local(DAY + timedelta(days=1), 0, 1))  # a new local day
        await hit(session, bob, local(DAY, 12))
        await hit(session, None, local(DAY, 12))  # someone unknown: no organisation
    async with sessions() as session:
        week = (local(DAY, 0), local(DAY + timedelta(days=7), 0))
        assert await crisis.episodes(session, org.id, *week) == 3
        assert await crisis.episodes(session, org.id, local(DAY, 0), local(DAY, 23)) == 2
        counts = await period_counts(session, org, Period(DAY, DAY + timedelta(days=7)))
        assert counts.crisis_events == 3
    async with unit_of_work(sessions) as session:  # "forget me" keeps the count right
        await session.execute(update(CrisisEvent).values(member_id=None))
    async with sessions() as session:
        assert await crisis.episodes(session, org.id, *week) == 3


async def test_a_check_in_at_most_every_half_hour_per_chat(sessions) -> None:
    now = local(DAY, 10)
    async with unit_of_work(sessions) as session:
        due = [
            await crisis.check_in_due(session, chat_hash="a", now=now),
            await crisis.check_in_due(session, chat_hash="a", now=now + timedelta(minutes=29)),
            await crisis.check_in_due(session, chat_hash="b", now=now + timedelta(minutes=29)),
            await crisis.check_in_due(session, chat_hash="a", now=now + timedelta(minutes=31)),
        ]
    assert due == [True, False, True, True]
    async with unit_of_work(sessions) as session:
        later = now + timedelta(minutes=31, days=1)
        assert await crisis.purge_check_ins(session, later) == 1  # "b"; "a" is just a day old
        assert await crisis.purge_check_ins(session, later + timedelta(seconds=1)) == 1


async def test_the_monthly_report_counts_episodes_and_hand_offs_only(sessions) -> None:
    async with unit_of_work(sessions) as session:
        _, (alice, bob) = await world(session)
        counselor = await session.scalar(select(Counselor))
        for n in range(5):
            await hit(session, alice, local(DAY, 9, n))
        await hit(session, bob, local(date(2026, 11, 30), 23, 30))  # November in Taipei
        await hit(session, bob, local(date(2026, 12, 1), 0, 30))  # December
        first, _ = await crisis_alerts.raise_alert(
            session, member=alice, counselor=counselor, kind="self", now=local(DAY, 9)
        )
        await crisis_alerts.acknowledge(
            session, counselor=counselor, alert_id=first.id, now=local(DAY, 9, 5)
        )
        late, _ = await crisis_alerts.raise_alert(
            session, member=bob, counselor=counselor, kind="self", now=local(DAY, 20)
        )
        await crisis_alerts.acknowledge(
            session, counselor=counselor, alert_id=late.id, now=local(DAY, 20, 30)
        )
    async with sessions() as session:
        report = await crisis.monthly_report(session, month=date(2026, 11, 1))
    assert report.month == date(2026, 11, 1) and report.episodes == 2
    [row] = report.organisations
    assert (row.code, row.episodes, row.alerts, row.acknowledged_in_time) == ("ACME", 2, 2, 1)
    for locale in ("zh-TW", "en"):
        replies = report_replies(report, locale)
        text = "\n\n".join(render(locale, r.key, r.params) for r in replies)
        assert "{" not in text and "2026-11" in text and "1925" in text
        assert "m0" not in text and "p0" not in text  # no chat id, no pseudonym


def backfill(url: str) -> None:
    """Go back to before the crisis-care migration, add old events, migrate again."""
    config = alembic_config(url)
    command.downgrade(config, "0004")
    try:
        asyncio.run(_old_events(url))
        command.upgrade(config, "0005")
    finally:
        command.upgrade(config, "head")


async def _old_events(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO organisation (id, code, name, timezone, plan_year_start_month,"
                " plan_year_start_day, minutes_per_year, enabled_domains,"
                " cancellation_cutoff_hours, min_notice_hours, booking_horizon_days,"
                " no_show_uses_hours, min_group_size, min_group_size_usage, digest_weekday,"
                " digest_hour, created_at) VALUES (1, 'OLD', 'Old', 'Asia/Taipei', 1, 1, 480,"
                " 'psychology', 24, 24, 30, true, 5, 10, 0, 9, :at)"
            ),
            {"at": local(DAY, 9)},
        )
        await connection.execute(
            text(
                "INSERT INTO member (id, channel, external_id, locale, consent_at, pseudonym,"
                " organisation_id, first_seen_at) VALUES (1, 'test', 'm', 'zh-TW', :at, 'p', 1,"
                " :at)"
            ),
            {"at": local(DAY, 9)},
        )
        hits = [(1, local(DAY, 9)), (1, local(DAY, 23)), (1, local(DAY + timedelta(days=1), 1))]
        hits += [(None, local(DAY, 9)), (None, local(DAY, 10))]  # forgotten: each its own
        for n, (member, at) in enumerate(hits, start=1):
            await connection.execute(
                text(
                    "INSERT INTO crisis_event (id, organisation_id, member_id, channel, locale,"
                    " occurred_at) VALUES (:id, 1, :member, 'test', 'zh-TW', :at)"
                ),
                {"id": n, "member": member, "at": at},
            )
    await engine.dispose()


async def test_the_migration_marks_old_repeat_hits(db_url: str, sessions) -> None:
    await asyncio.to_thread(backfill, db_url)
    async with sessions() as session:
        rows = await session.execute(select(CrisisEvent.id, CrisisEvent.episode_start))
        marks = dict(rows.all())
        assert marks == {1: True, 2: False, 3: True, 4: True, 5: True}
        assert await crisis.episodes(session, 1, local(DAY, 0), local(DAY, 0) + timedelta(2)) == 4
