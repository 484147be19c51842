"""Linking a chat to the roster: organisation code, employee number and enrolment code, checked
together, so every failure looks the same; recovery codes move a link to a new chat.

Failed attempts count against the chat account and against the (organisation, employee
number) tried, both under keyed hashes that outlive "forget me"; a burst of failures against
one organisation is recorded in the audit log for the provider, and locks nobody else out.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, orgs, outbox
from storage.errors import TooManyAttempts, UnknownOrganisation
from storage.models import (
    AuditLog,
    ConversationState,
    CrisisEvent,
    LinkAttempt,
    Member,
    OutboxMessage,
    OutboxStatus,
    RosterEntry,
    RosterStatus,
)
from storage.pseudonyms import (
    employee_hash,
    enrolment_hash,
    keyed_hash,
    new_recovery_code,
    recovery_hash,
)

MAX_FAILURES = 5
WINDOW = timedelta(hours=1)
BURST_FAILURES = 30
BURST_WINDOW = timedelta(minutes=10)
BURST_ACTION = "link-burst"


@dataclass(frozen=True)
class Claim:
    """What someone typed to link: organisation code, employee number (hashed), a code."""

    organisation_code: str
    employee_digest: str
    secret: str


def claim(key: bytes, organisation_code: str, employee_number: str, secret: str) -> Claim:
    """A claim from what was typed (the employee number is hashed at once)."""
    code = organisation_code.strip().upper()[:32]
    return Claim(code, employee_hash(key, code, employee_number), secret)


@dataclass(frozen=True)
class FormerChat:
    """Where a moved link used to be, so that chat can be told."""

    channel: str
    external_id: str
    locale: str
    stopped: bool


@dataclass(frozen=True)
class Outcome:
    """What an attempt did: linked (with a recovery code to show once) or refused."""

    linked: Member | None = None
    recovery_code: str = ""
    moved_from: FormerChat | None = None
    warn: Member | None = None  # holds the entry whose spent code was just tried
    burst: bool = False  # this failure completed a burst against the organisation


def account_hash(key: bytes, channel: str, external_id: str) -> str:
    """Keyed hash of a chat account, under which its failed attempts are counted."""
    return keyed_hash(key, "link-account", channel, external_id)


def employee_key(key: bytes, claim: Claim) -> str:
    """Keyed hash of the (organisation, employee number) a claim tries."""
    return keyed_hash(key, "link-employee", claim.employee_digest)


async def _wait_minutes(session: AsyncSession, where: ColumnElement[bool], now: datetime) -> int:
    """Minutes until the oldest failure in the window expires; 0 while under the limit."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(LinkAttempt.attempted_at)).where(
                where, LinkAttempt.attempted_at > now - WINDOW
            )
        )
    ).one()
    if count < MAX_FAILURES or oldest is None:
        return 0
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
    return max(1, int(((oldest + WINDOW) - now).total_seconds() // 60) + 1)


async def check_account(session: AsyncSession, account: str, now: datetime) -> None:
    """Raise TooManyAttempts when this chat account failed too often in the last hour."""
    minutes = await _wait_minutes(session, LinkAttempt.account_hash == account, now)
    if minutes:
        raise TooManyAttempts(minutes=minutes)


async def _check_limits(session: AsyncSession, account: str, employee: str, now: datetime) -> None:
    minutes = max(
        await _wait_minutes(session, LinkAttempt.account_hash == account, now),
        await _wait_minutes(session, LinkAttempt.employee_key == employee, now),
    )
    if minutes:
        raise TooManyAttempts(minutes=minutes)


async def _entry(session: AsyncSession, claim: Claim) -> tuple[int | None, RosterEntry | None]:
    """The organisation id and roster entry (locked for the turn) a claim names, if any."""
    try:
        org = await orgs.by_code(session, claim.organisation_code)
    except UnknownOrganisation:
        return None, None
    entry = await session.scalar(
        select(RosterEntry)
        .where(
            RosterEntry.organisation_id == org.id,
            RosterEntry.employee_hash == claim.employee_digest,
        )
        .with_for_update()
    )
    return org.id, entry


def _matches(stored: str | None, candidate: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, candidate)


async def link(
    session: AsyncSession, *, member: Member, claim: Claim, key: bytes, now: datetime
) -> Outcome:
    """Link (or, with a recovery code, move) a chat; any failure is recorded and looks alike."""
    attempt = LinkAttempt(
        account_hash=account_hash(key, str(member.channel), member.external_id),
        employee_key=employee_key(key, claim),
        attempted_at=now,
    )
    await _check_limits(session, attempt.account_hash, attempt.employee_key, now)
    attempt.organisation_id, entry = await _entry(session, claim)
    enrolment, recovery = enrolment_hash(key, claim.secret), recovery_hash(key, claim.secret)
    holder = None
    if entry is not None:
        holder = await session.scalar(select(Member).where(Member.roster_entry_id == entry.id))
    if entry is None or entry.status != RosterStatus.ACTIVE:
        return await _fail(session, attempt)
    if _matches(entry.recovery_hash, recovery):
        return await _move(session, member, entry, holder, key, now)
    right_code = _matches(entry.enrolment_hash, enrolment)
    if right_code and entry.enrolment_used_at is None and holder is None:
        entry.enrolment_used_at = now
        return await _attach(session, member, entry, key, now)
    refused = await _fail(session, attempt)
    if right_code and holder is not None:  # the code leaked: tell whoever holds the link
        return Outcome(warn=holder, burst=refused.burst)
    return refused


async def _fail(session: AsyncSession, attempt: LinkAttempt) -> Outcome:
    """Count the failure; every kind of failure is recorded the same way."""
    session.add(attempt)
    await session.flush()
    return Outcome(burst=await _burst(session, attempt.organisation_id, attempt.attempted_at))


async def _burst(session: AsyncSession, organisation_id: int | None, now: datetime) -> bool:
    """Record a burst of failures against an organisation once per burst window."""
    if organisation_id is None:
        return False
    since = now - BURST_WINDOW
    failures = await session.scalar(
        select(func.count()).where(
            LinkAttempt.organisation_id == organisation_id, LinkAttempt.attempted_at > since
        )
    )
    if int(failures or 0) < BURST_FAILURES:
        return False
    recorded = await session.scalar(
        select(AuditLog.id)
        .where(
            AuditLog.organisation_id == organisation_id,
            AuditLog.action == BURST_ACTION,
            AuditLog.at > since,
        )
        .limit(1)
    )
    if recorded is not None:
        return False
    await audit.record(
        session,
        actor_kind="system",
        action=BURST_ACTION,
        now=now,
        organisation_id=organisation_id,
        detail={"failures": int(failures or 0), "minutes": BURST_WINDOW.seconds // 60},
    )
    return True


async def _attach(
    session: AsyncSession, member: Member, entry: RosterEntry, key: bytes, now: datetime
) -> Outcome:
    """Link the member to the entry and issue a fresh recovery code."""
    code = new_recovery_code()
    entry.recovery_hash = recovery_hash(key, code)
    await attach(session, member, entry, now)
    return Outcome(linked=member, recovery_code=code)


async def attach(session: AsyncSession, member: Member, entry: RosterEntry, now: datetime) -> None:
    """Link a member to a roster entry directly (seeding; the checks are the caller's)."""
    member.organisation_id = entry.organisation_id
    member.roster_entry_id = entry.id
    member.linked_at = now
    await session.flush()


async def _move(
    session: AsyncSession,
    newcomer: Member,
    entry: RosterEntry,
    holder: Member | None,
    key: bytes,
    now: datetime,
) -> Outcome:
    """Move the link, with its bookings and hours, from the holder's chat to this one."""
    if holder is None:  # linked before, then forgot: the recovery code links again
        return await _attach(session, newcomer, entry, key, now)
    former = FormerChat(
        str(holder.channel),
        holder.external_id,
        holder.locale,
        holder.messaging_stopped_at is not None,
    )
    await _readdress(session, holder, newcomer)
    outcome = await _attach(session, holder, entry, key, now)
    return Outcome(linked=holder, recovery_code=outcome.recovery_code, moved_from=former)


async def _readdress(session: AsyncSession, holder: Member, newcomer: Member) -> None:
    """Give the holder's member row the newcomer's chat; the newcomer's empty row goes."""
    old = (OutboxMessage.channel == holder.channel, OutboxMessage.recipient == holder.external_id)
    await session.execute(
        update(OutboxMessage)
        .where(*old, OutboxMessage.status == OutboxStatus.PENDING)
        .values(channel=newcomer.channel, recipient=newcomer.external_id)
    )
    await outbox.drop_for_recipient(
        session, channel=str(holder.channel), recipient=holder.external_id
    )
    await session.execute(
        delete(ConversationState).where(
            ConversationState.channel == holder.channel,
            ConversationState.external_id == holder.external_id,
        )
    )
    await session.execute(
        update(CrisisEvent).where(CrisisEvent.member_id == newcomer.id).values(member_id=holder.id)
    )
    chat = (newcomer.channel, newcomer.external_id, newcomer.locale, newcomer.consent_at)
    await session.delete(newcomer)
    await session.flush()
    holder.channel, holder.external_id, holder.locale, holder.consent_at = chat
    holder.messaging_stopped_at = None
    await session.flush()


async def purge(session: AsyncSession, now: datetime) -> int:
    """Delete attempts older than the limit window; return how many."""
    result = await session.execute(
        delete(LinkAttempt).where(LinkAttempt.attempted_at < now - max(WINDOW, BURST_WINDOW))
    )
    return int(result.rowcount or 0)
