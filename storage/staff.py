"""Counselors and HR users: creation, one-time invite codes, and linking a chat."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidInvite
from storage.models import Counselor, Domain, HrUser, Invite, InviteKind, Mode, Organisation
from storage.pseudonyms import code_hash, new_invite_code

INVITE_DAYS = 7


class BadStaffInput(ValueError):
    """A counselor or HR field has a bad value; the message says which."""


def _checked(values: str, allowed: type[Domain] | type[Mode], what: str) -> str:
    items = [v.strip() for v in values.split(",") if v.strip()]
    known = {a.value for a in allowed}
    bad = [v for v in items if v not in known]
    if not items or bad:
        raise BadStaffInput(f"{what} must be a comma-separated list of {', '.join(sorted(known))}")
    return ",".join(items)


async def create_counselor(
    session: AsyncSession,
    *,
    org: Organisation,
    name: str,
    domains: str,
    modes: str,
    licence_number: str,
    licence_expires_on: date,
    languages: str = "zh-TW",
) -> Counselor:
    """Add a counselor to an organisation after checking domains and modes."""
    counselor = Counselor(
        organisation_id=org.id,
        display_name=name.strip()[:100],
        domains=_checked(domains, Domain, "--domains"),
        modes=_checked(modes, Mode, "--modes"),
        languages=languages,
        licence_number=licence_number.strip()[:50],
        licence_expires_on=licence_expires_on,
    )
    session.add(counselor)
    await session.flush()
    return counselor


async def create_hr_user(session: AsyncSession, *, org: Organisation, name: str) -> HrUser:
    """Add an HR user to an organisation."""
    user = HrUser(organisation_id=org.id, display_name=name.strip()[:100])
    session.add(user)
    await session.flush()
    return user


async def issue_invite(
    session: AsyncSession,
    *,
    org: Organisation,
    now: datetime,
    counselor: Counselor | None = None,
    hr_user: HrUser | None = None,
) -> str:
    """Create a one-time code for a counselor or HR user; only its hash is stored."""
    code = new_invite_code()
    session.add(
        Invite(
            organisation_id=org.id,
            kind=InviteKind.COUNSELOR if counselor else InviteKind.HR,
            code_hash=code_hash(code),
            counselor_id=counselor.id if counselor else None,
            hr_user_id=hr_user.id if hr_user else None,
            expires_at=now + timedelta(days=INVITE_DAYS),
        )
    )
    await session.flush()
    return code


async def redeem(
    session: AsyncSession,
    *,
    code: str,
    channel: str,
    external_id: str,
    locale: str,
    now: datetime,
) -> Counselor | HrUser:
    """Link this chat to the invite's counselor or HR user; the code works once."""
    invite = await session.scalar(
        select(Invite).where(Invite.code_hash == code_hash(code)).with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise InvalidInvite()
    target: Counselor | HrUser | None
    if invite.kind == InviteKind.COUNSELOR:
        target = await session.get(Counselor, invite.counselor_id)
    else:
        target = await session.get(HrUser, invite.hr_user_id)
    if target is None:
        raise InvalidInvite()
    try:
        async with session.begin_nested():
            target.channel, target.external_id = channel, external_id
            target.locale, target.linked_at = locale, now
            invite.used_at = now
            await session.flush()
    except IntegrityError:
        raise InvalidInvite() from None
    return target


async def set_locale(session: AsyncSession, person: Counselor | HrUser, locale: str) -> None:
    """Change a counselor's or HR user's language."""
    person.locale = locale
    await session.flush()


async def counselors_of(session: AsyncSession, org: Organisation) -> list[Counselor]:
    """An organisation's counselors by name."""
    rows = await session.scalars(
        select(Counselor)
        .where(Counselor.organisation_id == org.id)
        .order_by(Counselor.display_name)
    )
    return list(rows)
