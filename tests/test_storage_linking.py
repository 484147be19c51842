"""Linking rules on SQLite and PostgreSQL: limits that outlive "forget me", single-use codes,
recovery moving a link, the someone-tried warning, and the burst alert that locks nobody out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import linking, members, orgs, retention, roster
from storage.db import unit_of_work
from storage.demo import demo_enrolment_code, seed
from storage.errors import TooManyAttempts
from storage.models import AuditLog, LinkAttempt, Member, RosterEntry
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY
from tests.helpers import Clock

KEY = TEST_KEY.encode()


def code_of(number: str) -> str:
    """The demo enrolment code of an employee number."""
    return demo_enrolment_code(KEY, number)


async def attempt(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    chat: str,
    number: str,
    code: str,
    org: str = "DEMO",
) -> linking.Outcome:
    """Consent as `chat` (if new) and try to link; the turn commits either way."""
    async with unit_of_work(sessions) as session:
        member = await members.consent(
            session, channel="test", external_id=chat, locale="en", now=clock()
        )
        claim = linking.claim(KEY, org, number, code)
        return await linking.link(session, member=member, claim=claim, key=KEY, now=clock())


async def seeded(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    async with unit_of_work(sessions) as session:
        await seed(session, key=KEY, now=clock())


async def test_the_right_three_details_link_once(sessions, clock) -> None:
    await seeded(sessions, clock)
    outcome = await attempt(sessions, clock, "a", "e0002", code_of("E0002").lower())
    assert outcome.linked is not None and outcome.linked.roster_entry_id is not None
    assert len(outcome.recovery_code) == 14 and outcome.moved_from is None
    async with unit_of_work(sessions) as session:
        member = await session.scalar(select(Member).where(Member.external_id == "a"))
        await members.forget(session, member)
    again = await attempt(sessions, clock, "b", "E0002", code_of("E0002"))
    assert (again.linked, again.warn) == (None, None)  # single use, even once forgotten


async def test_the_account_limit_outlives_forget_me(sessions, clock) -> None:
    await seeded(sessions, clock)
    for number in range(5):
        assert (await attempt(sessions, clock, "a", f"X{number}", "WRONGCODE1")).linked is None
    async with unit_of_work(sessions) as session:
        member = await session.scalar(select(Member).where(Member.external_id == "a"))
        await members.forget(session, member)
    clock.advance(minutes=20)
    with pytest.raises(TooManyAttempts) as refused:
        await attempt(sessions, clock, "a", "E0005", code_of("E0005"))
    assert refused.value.params == {"minutes": 41}
    assert (await attempt(sessions, clock, "b", "E0005", code_of("E0005"))).linked is not None
    clock.advance(minutes=41)
    assert (await attempt(sessions, clock, "a", "E0006", code_of("E0006"))).linked is not None


async def test_the_employee_number_limit_spans_accounts(sessions, clock) -> None:
    await seeded(sessions, clock)
    for chat in range(5):
        assert (await attempt(sessions, clock, f"c{chat}", "E0007", "WRONGCODE1")).linked is None
    with pytest.raises(TooManyAttempts):
        await attempt(sessions, clock, "fresh", "E0007", code_of("E0007"))
    assert (await attempt(sessions, clock, "fresh", "E0008", code_of("E0008"))).linked is not None
    clock.advance(hours=1)
    assert (await attempt(sessions, clock, "late", "E0007", code_of("E0007"))).linked is not None


async def test_a_spent_code_warns_the_linked_chat_and_a_wrong_one_does_not(
    sessions, clock
) -> None:
    await seeded(sessions, clock)
    first = await attempt(sessions, clock, "holder", "E0009", code_of("E0009"))
    assert first.linked is not None
    spent = await attempt(sessions, clock, "thief", "E0009", code_of("E0009"))
    assert spent.linked is None and spent.warn is not None
    assert spent.warn.external_id == "holder"
    wrong = await attempt(sessions, clock, "thief", "E0009", code_of("E0010"))
    assert (wrong.linked, wrong.warn) == (None, None)


async def test_a_recovery_code_moves_the_link_with_its_member_row(sessions, clock) -> None:
    await seeded(sessions, clock)
    first = await attempt(sessions, clock, "old", "E0011", code_of("E0011"))
    assert first.linked is not None
    member_id, entry_id = first.linked.id, first.linked.roster_entry_id
    moved = await attempt(sessions, clock, "new", "E0011", first.recovery_code)
    assert moved.linked is not None and moved.linked.id == member_id
    assert moved.moved_from == linking.FormerChat("test", "old", "en", False)
    assert moved.recovery_code not in ("", first.recovery_code)
    async with sessions() as session:
        chats = {m.external_id: m.roster_entry_id for m in await session.scalars(select(Member))}
    assert chats.get("new") == entry_id and "old" not in chats
    stale = await attempt(sessions, clock, "other", "E0011", first.recovery_code)
    assert stale.linked is None
    back = await attempt(sessions, clock, "other", "E0011", moved.recovery_code)
    assert back.linked is not None and back.linked.id == member_id


async def test_a_left_employee_is_refused_even_with_the_right_code(sessions, clock) -> None:
    await seeded(sessions, clock)
    async with unit_of_work(sessions) as session:
        digest = employee_hash(KEY, "DEMO", "E0012")
        entry = await session.scalar(
            select(RosterEntry).where(RosterEntry.employee_hash == digest)
        )
        entry.status = "left"
    refused = await attempt(sessions, clock, "a", "E0012", code_of("E0012"))
    assert (refused.linked, refused.warn) == (None, None)


async def test_a_burst_is_recorded_once_and_locks_nobody_else_out(sessions, clock) -> None:
    await seeded(sessions, clock)
    outcomes = [
        await attempt(sessions, clock, f"bot-{n}", f"X{n:04d}", "WRONGCODE1")
        for n in range(linking.BURST_FAILURES + 1)
    ]
    assert [o.burst for o in outcomes] == [False] * 29 + [True, False]
    unknown = await attempt(sessions, clock, "bot-x", "X1", "WRONGCODE1", org="ACME")
    assert unknown.burst is False
    async with sessions() as session:
        alerts = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "link-burst"))
        )
    assert [(a.actor_kind, a.detail) for a in alerts] == [
        ("system", {"failures": 30, "minutes": 10})
    ]
    assert (await attempt(sessions, clock, "real", "E0013", code_of("E0013"))).linked is not None


async def test_retention_drops_attempts_after_the_window(sessions, clock) -> None:
    await seeded(sessions, clock)
    await attempt(sessions, clock, "a", "X1", "WRONGCODE1")
    clock.advance(minutes=59)
    await attempt(sessions, clock, "a", "X2", "WRONGCODE1")
    clock.advance(minutes=2)
    async with unit_of_work(sessions) as session:
        await retention.purge(session, now=clock())
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(LinkAttempt))
    assert left == 1


async def test_attempts_keep_no_chat_id_or_employee_number(sessions, clock) -> None:
    await seeded(sessions, clock)
    await attempt(sessions, clock, "chat-4711", "E0014", "WRONGCODE1")
    async with sessions() as session:
        row = await session.scalar(select(LinkAttempt))
    stored = f"{row.account_hash} {row.employee_key}"
    assert "4711" not in stored and "E0014" not in stored and len(row.account_hash) == 64
    assert row.employee_key != employee_hash(KEY, "DEMO", "E0014")  # no join to the roster
    assert row.attempted_at == clock()


async def test_roster_codes_from_the_file_or_generated_link_once(sessions, clock) -> None:
    await seeded(sessions, clock)
    text = (
        "employee_number,department,status,enrolment_code\n"
        "N1,Ops,active,\nN2,Ops,active,own-code-2345\nN3,Ops,left,\n"
    )
    async with unit_of_work(sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        report = await roster.import_csv(
            session, org, text, key=KEY, now=clock(), generate_codes=True
        )
    [(number, generated)] = report.codes
    assert (number, report.added, report.errors) == ("N1", 3, [])
    assert (await attempt(sessions, clock, "n1", "N1", generated)).linked is not None
    assert (await attempt(sessions, clock, "n2", "N2", "OWNC0DE2345")).linked is not None
    async with unit_of_work(sessions) as session:
        again = await roster.import_csv(session, org, text, key=KEY, now=clock())
    assert (again.unchanged, again.codes) == (3, [])
    reissued = text.replace("own-code-2345", "NEWCODE2345")
    async with unit_of_work(sessions) as session:
        await roster.import_csv(session, org, reissued, key=KEY, now=clock())
    moved = await attempt(sessions, clock, "n2-new", "N2", "NEWCODE2345")
    assert moved.linked is None and moved.warn is not None  # a new code never moves a link
