"""Messages to the other party of a booking, handed to the outbox in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.types import Choice, Key, Reply, to_payload
from storage import orgs, outbox
from storage.counselors import client_alias
from storage.models import Booking, Counselor, HrUser, Member


async def alias_of(session: AsyncSession, key: bytes, booking: Booking) -> str:
    """The counselor-specific alias of the booking's employee ('-' once forgotten)."""
    member = await session.get(Member, booking.member_id) if booking.member_id else None
    return client_alias(key, booking.counselor_id, member.pseudonym) if member else "-"


async def booking_params(session: AsyncSession, key: bytes, booking: Booking) -> dict:
    """What a counselor sees of a booking: time, domain, mode, alias, crisis flag."""
    org = await orgs.by_id(session, booking.organisation_id)
    return {
        "start": booking.starts_at.astimezone(orgs.tz(org)),
        "domain": Key(f"domain-{booking.domain}"),
        "mode": Key(f"mode-{booking.mode}"),
        "client": await alias_of(session, key, booking),
        "flag": 1 if booking.crisis_flag else 0,
    }


async def to_chat(
    session: AsyncSession,
    person: Member | Counselor | HrUser,
    replies: list[Reply],
    key: str,
    now: datetime,
) -> bool:
    """Queue messages to a person's chat, unless unlinked or messaging was stopped."""
    stopped = isinstance(person, Member) and person.messaging_stopped_at is not None
    if person.channel is None or person.external_id is None or stopped:
        return False
    return await outbox.enqueue(
        session,
        channel=person.channel.value,
        recipient=person.external_id,
        locale=person.locale,
        payload=to_payload(replies),
        key=key,
        now=now,
    )


to_staff = to_chat


async def to_counselor(
    session: AsyncSession, booking: Booking, replies: list[Reply], key: str, now: datetime
) -> bool:
    """Queue messages to the booking's counselor, if linked to a chat."""
    counselor = await session.get(Counselor, booking.counselor_id)
    return counselor is not None and await to_chat(session, counselor, replies, key, now)


async def to_member(
    session: AsyncSession, member_id: int | None, replies: list[Reply], key: str, now: datetime
) -> bool:
    """Queue messages to an employee, unless forgotten or messaging was stopped."""
    member = await session.get(Member, member_id) if member_id else None
    return member is not None and await to_chat(session, member, replies, key, now)


async def new_booking(session: AsyncSession, key: bytes, booking: Booking, now: datetime) -> None:
    """Tell the counselor about a new booking, with the note and a way to decline."""
    params = await booking_params(session, key, booking)
    replies = [
        Reply(
            "counselor-new-booking",
            **params,
            choices=[
                Choice("counselor-view", f"co:b:{booking.id}"),
                Choice("counselor-decline", f"co:dec:{booking.id}"),
            ],
        )
    ]
    if booking.note:
        replies.insert(1, Reply("counselor-note", note=booking.note))
    await to_counselor(session, booking, replies, f"notify-new:{booking.id}", now)


async def cancelled(session: AsyncSession, key: bytes, booking: Booking, now: datetime) -> None:
    """Tell the counselor a booking was cancelled."""
    params = await booking_params(session, key, booking)
    await to_counselor(
        session,
        booking,
        [Reply("counselor-cancelled", **params)],
        f"notify-cancel:{booking.id}",
        now,
    )


async def rescheduled(
    session: AsyncSession, key: bytes, old: Booking, new: Booking, now: datetime
) -> None:
    """Tell the counselor(s) a booking moved."""
    params = await booking_params(session, key, new)
    old_start = (await booking_params(session, key, old))["start"]
    if old.counselor_id == new.counselor_id:
        await to_counselor(
            session,
            new,
            [Reply("counselor-rescheduled", old_start=old_start, **params)],
            f"notify-move:{new.id}",
            now,
        )
        return
    await cancelled(session, key, old, now)
    await new_booking(session, key, new, now)


async def declined(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """Tell the employee the counselor declined, that the hours are back, and offer others."""
    org = await orgs.by_id(session, booking.organisation_id)
    reply = Reply(
        "booking-declined",
        start=booking.starts_at.astimezone(orgs.tz(org)),
        domain=Key(f"domain-{booking.domain}"),
        choices=[
            Choice("booking-declined-other", f"bk:m:{booking.domain}:{booking.mode}"),
            Choice("menu-back", "m"),
        ],
    )
    await to_member(session, booking.member_id, [reply], f"declined:{booking.id}", now)
