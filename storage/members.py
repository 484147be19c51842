"""Employees' chat accounts: consent, roster rights, language, activity, forget me (linking
is storage/linking.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import bindparam, delete, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import orgs
from storage.db import insert_ignore
from storage.errors import EmployeeLeft, NotAllowed
from storage.models import (
    Booking,
    ConversationState,
    Counselor,
    CrisisEvent,
    Feedback,
    HrUser,
    Member,
    MemberActivity,
    RosterEntry,
    RosterStatus,
    WaitlistEntry,
)
from storage.pseudonyms import new_pseudonym


@dataclass(frozen=True)
class Identity:
    """Who a chat account is: an employee, a counselor, an HR user, or nobody yet."""

    member: Member | None = None
    counselor: Counselor | None = None
    hr_user: HrUser | None = None


# Every turn runs it: built once (building and keying it per call cost more than running it).
_ROLES = union_all(
    *(
        select(literal(name).label("role"), model.id).where(
            model.channel == bindparam("b_channel"),
            model.external_id == bindparam("b_external_id"),
        )
        for name, model in (("member", Member), ("counselor", Counselor), ("hr", HrUser))
    )
)


async def identify(session: AsyncSession, channel: str, external_id: str) -> Identity:
    """Look up every role a chat account holds (one round trip to find them)."""
    found = {
        role: row_id
        for role, row_id in await session.execute(
            _ROLES, {"b_channel": channel, "b_external_id": external_id}
        )
    }
    return Identity(
        member=await session.get(Member, found["member"]) if "member" in found else None,
        counselor=await session.get(Counselor, found["counselor"])
        if "counselor" in found
        else None,
        hr_user=await session.get(HrUser, found["hr"]) if "hr" in found else None,
    )


async def consent(
    session: AsyncSession, *, channel: str, external_id: str, locale: str, now: datetime
) -> Member:
    """Record consent by creating the chat account (idempotent)."""
    existing = await session.scalar(
        select(Member).where(Member.channel == channel, Member.external_id == external_id)
    )
    if existing is not None:
        return existing
    member = Member(
        channel=channel,
        external_id=external_id,
        locale=locale,
        consent_at=now,
        first_seen_at=now,
        pseudonym=new_pseudonym(),
    )
    session.add(member)
    await session.flush()
    return member


async def require_active(session: AsyncSession, member: Member | None) -> RosterEntry:
    """Return the member's roster entry, or raise NotAllowed when unlinked or left."""
    if member is None or member.roster_entry_id is None:
        raise NotAllowed()
    entry = await session.get(RosterEntry, member.roster_entry_id)
    if entry is None or entry.status != RosterStatus.ACTIVE:
        raise EmployeeLeft()
    return entry


async def set_locale(session: AsyncSession, member: Member, locale: str) -> None:
    """Change the member's language."""
    member.locale = locale
    await session.flush()


async def record_activity(session: AsyncSession, member: Member, kind: str, now: datetime) -> None:
    """Note a meaningful action (viewed services, checked hours, started a booking) for KPIs."""
    if member.organisation_id is None:
        return
    org = await orgs.by_id(session, member.organisation_id)
    values = {
        "organisation_id": org.id,
        "member_id": member.id,
        "pseudonym": member.pseudonym,
        "kind": kind,
        "day": orgs.local_date(org, now),
    }
    await session.execute(insert_ignore(session, MemberActivity, values))


async def _blur_crisis_times(session: AsyncSession, member: Member) -> None:
    """Keep the local day of a forgotten person's crisis events, not the time, which would
    join them to the reply sent that second."""
    events = await session.scalars(select(CrisisEvent).where(CrisisEvent.member_id == member.id))
    for event in events:
        org = await orgs.by_id(session, event.organisation_id) if event.organisation_id else None
        zone = orgs.tz(org) if org else UTC
        day = event.occurred_at.astimezone(zone).date()
        event.occurred_at = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


async def forget(session: AsyncSession, member: Member) -> None:
    """Delete the link, external ids, notes and comments; keep anonymous bookings and ledger."""
    await session.execute(
        update(Booking).where(Booking.member_id == member.id).values(note=None, member_id=None)
    )
    await session.execute(
        update(Feedback).where(Feedback.member_id == member.id).values(comment=None)
    )
    await session.execute(delete(WaitlistEntry).where(WaitlistEntry.member_id == member.id))
    await _blur_crisis_times(session, member)
    await session.execute(
        delete(ConversationState).where(
            ConversationState.channel == member.channel,
            ConversationState.external_id == member.external_id,
        )
    )
    await session.delete(member)
    await session.flush()


async def stop_messaging(
    session: AsyncSession, channel: str, external_id: str, now: datetime | None
) -> None:
    """Stop (now) or resume (None) messages to a chat, e.g. when blocked; deletes nothing."""
    await session.execute(
        update(Member)
        .where(Member.channel == channel, Member.external_id == external_id)
        .values(messaging_stopped_at=now)
    )
