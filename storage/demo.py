"""Demo data: organisation DEMO, a roster with enrolment codes derived from the key, counselors
with slots, invite codes (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import orgs
from storage.db import insert_ignore
from storage.models import (
    Counselor,
    HrUser,
    Invite,
    InviteKind,
    JobRun,
    Member,
    Organisation,
    RosterEntry,
    Slot,
)
from storage.pseudonyms import (
    ENROLMENT_LENGTH,
    code_hash,
    crockford,
    employee_hash,
    enrolment_hash,
    keyed_hash,
    new_invite_code,
    new_pseudonym,
)

DEPARTMENTS = ("Engineering", "Sales", "Operations", "Finance", "People")
COUNSELORS = (
    ("王心怡", "psychology", "video,phone,in_person"),
    ("林志明", "psychology", "video,phone"),
    ("陳怡君", "legal", "video,phone"),
    ("張家豪", "legal", "phone,in_person"),
    ("李淑芬", "finance", "video,phone"),
    ("黃建宏", "finance", "video,in_person"),
    ("吳佩珊", "nutrition", "video,phone"),
    ("劉俊傑", "nutrition", "video,in_person"),
)
SLOT_HOURS = (9, 10, 11, 14, 15, 16)
DEMO_CONSOLE_USER = "demo"
MARKER = {"job": "seed-demo", "run_key": "DEMO"}  # a JobRun row: this database holds demo data
SHOWN_CODES = ("E0002", "E0003", "E0004")  # enrolment codes seed-demo prints for trying


def demo_enrolment_code(key: bytes, employee_number: str) -> str:
    """The demo roster's enrolment code for an employee: derived from the key, so repeatable."""
    digest = keyed_hash(key, "demo-enrolment", employee_number.upper())
    return crockford(bytes.fromhex(digest), ENROLMENT_LENGTH)


@dataclass(frozen=True)
class DemoResult:
    """What seeding created, and the fresh one-time codes to print."""

    organisation: str
    roster_size: int
    counselors: int
    slots_added: int
    counselor_invite: str
    hr_invite: str
    enrolment_codes: dict[str, str]  # employee number -> enrolment code, to try linking


async def _organisation(session: AsyncSession, now: datetime) -> Organisation:
    org = await session.scalar(select(Organisation).where(Organisation.code == "DEMO"))
    if org is None:
        org = Organisation(
            code="DEMO",
            name="示範科技股份有限公司",
            timezone="Asia/Taipei",
            minutes_per_year=8 * 60,
            enabled_domains="psychology,legal,finance,nutrition",
            created_at=now,
        )
        session.add(org)
        await session.flush()
    return org


async def _roster(session: AsyncSession, org: Organisation, key: bytes, now: datetime) -> None:
    codes = {}
    for number in range(1, 201):
        digest = employee_hash(key, org.code, f"E{number:04d}")
        codes[digest] = enrolment_hash(key, demo_enrolment_code(key, f"E{number:04d}"))
        values = {
            "organisation_id": org.id,
            "employee_hash": digest,
            "department": DEPARTMENTS[number % len(DEPARTMENTS)],
            "status": "active",
            "updated_at": now,
            "enrolment_hash": codes[digest],
        }
        await session.execute(insert_ignore(session, RosterEntry, values))
    uncoded = await session.scalars(
        select(RosterEntry).where(
            RosterEntry.organisation_id == org.id, RosterEntry.enrolment_hash.is_(None)
        )
    )
    for entry in uncoded:  # seeded before enrolment codes existed
        entry.enrolment_hash = codes.get(entry.employee_hash)


async def _counselors(session: AsyncSession, org: Organisation, today: date) -> list[Counselor]:
    existing = {
        c.display_name: c
        for c in await session.scalars(
            select(Counselor).where(Counselor.organisation_id == org.id)
        )
    }
    for name, domain, modes in COUNSELORS:
        if name not in existing:
            existing[name] = Counselor(
                organisation_id=org.id,
                display_name=name,
                domains=domain,
                modes=modes,
                languages="zh-TW,en",
                licence_number=f"TW-{abs(hash(name)) % 100000:05d}",
                licence_expires_on=today + timedelta(days=3 * 365),
            )
            session.add(existing[name])
    await session.flush()
    return list(existing.values())


async def _slots(
    session: AsyncSession, org: Organisation, counselors: list[Counselor], now: datetime
) -> int:
    added = 0
    today = orgs.local_date(org, now)
    for offset in range(15):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for index, counselor in enumerate(counselors):
            for hour in SLOT_HOURS[index % 2 :: 1 + index % 2]:
                start = datetime.combine(day, time(hour), tzinfo=orgs.tz(org))
                values = {
                    "counselor_id": counselor.id,
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=counselor.session_minutes),
                    "blocked": False,
                }
                result = await session.execute(insert_ignore(session, Slot, values))
                added += result.rowcount or 0
    return added


async def _invites(
    session: AsyncSession, org: Organisation, counselor: Counselor, now: datetime
) -> tuple[str, str]:
    hr = await session.scalar(
        select(HrUser).where(HrUser.organisation_id == org.id, HrUser.display_name == "Demo HR")
    )
    if hr is None:
        hr = HrUser(organisation_id=org.id, display_name="Demo HR")
        session.add(hr)
        await session.flush()
    await session.execute(
        update(Invite)
        .where(Invite.organisation_id == org.id, Invite.used_at.is_(None))
        .values(expires_at=now)
    )
    codes = []
    for kind, target in ((InviteKind.COUNSELOR, counselor.id), (InviteKind.HR, hr.id)):
        code = new_invite_code()
        session.add(
            Invite(
                organisation_id=org.id,
                kind=kind,
                code_hash=code_hash(code),
                counselor_id=target if kind == InviteKind.COUNSELOR else None,
                hr_user_id=target if kind == InviteKind.HR else None,
                expires_at=now + timedelta(days=7),
            )
        )
        codes.append(code)
    return codes[0], codes[1]


async def _demo_member(
    session: AsyncSession, org: Organisation, key: bytes, now: datetime
) -> None:
    entry = await session.scalar(
        select(RosterEntry).where(
            RosterEntry.organisation_id == org.id,
            RosterEntry.employee_hash == employee_hash(key, org.code, "E0001"),
        )
    )
    member = await session.scalar(
        select(Member).where(Member.channel == "console", Member.external_id == DEMO_CONSOLE_USER)
    )
    holder = await session.scalar(select(Member).where(Member.roster_entry_id == entry.id))
    if member is None and holder is None and entry is not None:
        session.add(
            Member(
                channel="console",
                external_id=DEMO_CONSOLE_USER,
                locale="zh-TW",
                consent_at=now,
                first_seen_at=now,
                pseudonym=new_pseudonym(),
                organisation_id=org.id,
                roster_entry_id=entry.id,
                linked_at=now,
            )
        )
        entry.enrolment_used_at = now  # linked directly: E0001's code is spent


async def seed(session: AsyncSession, *, key: bytes, now: datetime) -> DemoResult:
    """Create or top up the demo organisation; safe to run any number of times."""
    org = await _organisation(session, now)
    await _roster(session, org, key, now)
    counselors = await _counselors(session, org, orgs.local_date(org, now))
    added = await _slots(session, org, counselors, now)
    counselor_code, hr_code = await _invites(session, org, counselors[0], now)
    await _demo_member(session, org, key, now)
    await session.execute(insert_ignore(session, JobRun, {**MARKER, "ran_at": now}))
    await session.flush()
    return DemoResult(
        organisation=org.code,
        roster_size=200,
        counselors=len(counselors),
        slots_added=added,
        counselor_invite=counselor_code,
        hr_invite=hr_code,
        enrolment_codes={n: demo_enrolment_code(key, n) for n in SHOWN_CODES},
    )


async def is_demo_only(session: AsyncSession) -> bool:
    """Whether `seed-demo` made this database and it holds no other organisation."""
    marked = await session.scalar(
        select(JobRun.id).where(JobRun.job == MARKER["job"], JobRun.run_key == MARKER["run_key"])
    )
    others = await session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.code != "DEMO")
    )
    return marked is not None and not others
