"""The weekly HR digest: the latest released month and the plan year to its end, once a week.

Text summary (each figure with its error, which month, when the next release comes), chart and
CSV to every linked HR user, from stored releases only; before the first release, a note saying
when figures come.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import notify
from handlers.hr import summary
from handlers.types import Attachment, Reply
from kpi import metrics, released
from kpi.report import released_digest
from storage import orgs
from storage.db import unit_of_work
from storage.models import HrUser, Organisation


def is_due(org: Organisation, now: datetime) -> bool:
    """Whether it is the organisation's digest day, at or after its hour (local time)."""
    local = now.astimezone(orgs.tz(org))
    return local.weekday() == org.digest_weekday and local.hour >= org.digest_hour


async def digest_replies(
    session: AsyncSession, org: Organisation, now: datetime, locale: str, *, telegram: bool
) -> tuple[list[Reply], str]:
    """The digest messages for one HR user and the week they are sent in."""
    today = orgs.local_date(org, now)
    week = metrics.last_complete_week(org, today).start.isoformat()
    digest = await released_digest(session, org, today=today)
    if digest is None:
        return [Reply("kpi-not-released", next_release=released.next_release(org, today))], week
    month = digest.period.start.isoformat()
    replies = [
        summary(digest, "hr-digest"),
        Reply(
            "hr-digest-chart",
            attachment=Attachment(f"eap-kpi-{month}.png", "image/png", digest.chart(locale)),
        ),
    ]
    if telegram:
        replies.append(
            Reply(
                "hr-digest-csv",
                attachment=Attachment(f"eap-kpi-{month}.csv", "text/csv", digest.csv(locale)),
            )
        )
    return replies, week


async def send_for(session: AsyncSession, org: Organisation, now: datetime) -> int:
    """Queue the digest to each linked, active HR user of an organisation (once per week)."""
    sent = 0
    users = await session.scalars(
        select(HrUser).where(
            HrUser.organisation_id == org.id,
            HrUser.active.is_(True),
            HrUser.external_id.is_not(None),
        )
    )
    for user in users:
        replies, week = await digest_replies(
            session,
            org,
            now,
            user.locale,
            telegram=user.channel is not None and user.channel.value == "telegram",
        )
        sent += await notify.to_staff(session, user, replies, f"digest:{user.id}:{week}", now)
    return sent


async def send_digests(
    sessions: async_sessionmaker[AsyncSession], now: datetime, key: bytes
) -> int:
    """Every organisation whose digest is due gets it (idempotent per HR user and week)."""
    sent = 0
    async with unit_of_work(sessions) as session:
        for org in await session.scalars(select(Organisation)):
            if is_due(org, now):
                sent += await send_for(session, org, now)
    return sent
