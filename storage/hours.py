"""Counseling hours: a ledger of signed minutes per bucket; balances are always sums."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import orgs
from storage.db import insert_ignore
from storage.models import Bucket, HoursEntry, Member, Organisation


@dataclass(frozen=True)
class Balance:
    """Minutes granted, reserved (booked, not held), used and left in one plan year."""

    granted: int
    reserved: int
    used: int
    year_start: date
    year_end: date
    by_domain: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def left(self) -> int:
        """Minutes still bookable."""
        return self.granted - self.reserved - self.used


def grant_key(member_key: str, year_start: date) -> str:
    """The idempotency key of a member's grant for a plan year."""
    return f"grant:{member_key}:{year_start.isoformat()}"


async def ensure_grant(
    session: AsyncSession, *, org: Organisation, member: Member, year_start: date, now: datetime
) -> None:
    """Grant the plan year's allotment once (idempotent by the member's never-reused key)."""
    values = {
        "organisation_id": org.id,
        "member_id": member.id,
        "plan_year": year_start,
        "bucket": Bucket.GRANTED.value,
        "minutes": org.minutes_per_year,
        "reason": "plan_year",
        "idempotency_key": grant_key(member.grant_key, year_start),
        "created_at": now,
    }
    await session.execute(insert_ignore(session, HoursEntry, values))


async def add_entry(
    session: AsyncSession,
    *,
    org: Organisation,
    member_id: int | None,
    plan_year: date,
    bucket: Bucket,
    minutes: int,
    reason: str,
    key: str,
    now: datetime,
    domain: str | None = None,
    booking_id: int | None = None,
) -> None:
    """Append one ledger entry; the idempotency key makes a repeat a no-op."""
    values = {
        "organisation_id": org.id,
        "member_id": member_id,
        "plan_year": plan_year,
        "bucket": bucket.value,
        "minutes": minutes,
        "reason": reason,
        "idempotency_key": key,
        "domain": domain,
        "booking_id": booking_id,
        "created_at": now,
    }
    await session.execute(insert_ignore(session, HoursEntry, values))


async def balance(
    session: AsyncSession, *, org: Organisation, member: Member, on: date, now: datetime
) -> Balance:
    """Sum the ledger of the plan year containing `on` (granting it first if new)."""
    year_start = orgs.plan_year_start(org, on)
    await ensure_grant(session, org=org, member=member, year_start=year_start, now=now)
    rows = await session.execute(
        select(HoursEntry.bucket, HoursEntry.domain, func.sum(HoursEntry.minutes))
        .where(HoursEntry.member_id == member.id, HoursEntry.plan_year == year_start)
        .group_by(HoursEntry.bucket, HoursEntry.domain)
    )
    totals = {bucket: 0 for bucket in Bucket}
    by_domain: dict[str, dict[str, int]] = {}
    for bucket, domain, minutes in rows:
        totals[Bucket(bucket)] += int(minutes or 0)
        if domain is not None and Bucket(bucket) != Bucket.GRANTED:
            cell = by_domain.setdefault(str(domain), {"reserved": 0, "used": 0})
            cell[Bucket(bucket).value] += int(minutes or 0)
    by_domain = {d: v for d, v in by_domain.items() if v["reserved"] or v["used"]}
    return Balance(
        granted=totals[Bucket.GRANTED],
        reserved=totals[Bucket.RESERVED],
        used=totals[Bucket.USED],
        year_start=year_start,
        year_end=orgs.plan_year_end(org, on),
        by_domain=by_domain,
    )
