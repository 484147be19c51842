"""Dialogs: first contact, consent, linking, menu, about, hours, language, forget me."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.types import Key, Reply, from_payload
from storage.db import unit_of_work
from storage.demo import demo_enrolment_code, seed
from storage.models import Member, OutboxMessage, RosterEntry
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY
from tests.helpers import Chat, Clock, local_date


async def seed_demo(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """Load the demo organisation with the test key."""
    async with unit_of_work(sessions) as session:
        await seed(session, key=TEST_KEY.encode(), now=clock())


def code_of(number: str) -> str:
    """The demo enrolment code of an employee number, under the test key."""
    return demo_enrolment_code(TEST_KEY.encode(), number)


async def type_details(chat: Chat, org: str, number: str, code: str) -> None:
    """Type the organisation code, employee number and enrolment (or recovery) code."""
    await chat.say(org)
    assert chat.keys == ["link-ask-employee-number"]
    await chat.say(number)
    assert chat.keys == ["link-ask-enrolment-code"]
    await chat.say(code)


async def link(chat: Chat, number: str = "E0002", language_code: str | None = None) -> str:
    """Consent and link as an employee of DEMO; return the recovery code shown."""
    await chat.say("hi", language_code=language_code)
    await chat.choose("consent-yes")
    await type_details(chat, "DEMO", number, code_of(number))
    assert chat.keys == ["link-done", "menu-main"]
    return str(chat.replies[0].params["recovery"])


async def count_members(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Member)) or 0)


async def test_first_contact_shows_privacy_notice_and_stores_nothing(chat, sessions) -> None:
    replies = await chat.say("hello")
    assert chat.keys == ["privacy-notice"]
    assert [c.label for c in replies[0].choices] == ["consent-yes", "consent-no", "menu-language"]
    assert chat.locale == "zh-TW"
    assert await count_members(sessions) == 0


async def test_declining_consent_stores_nothing(chat, sessions) -> None:
    await chat.say("hello")
    await chat.choose("consent-no")
    assert chat.keys == ["consent-declined", "crisis-lines-declined"]  # the lines need no consent
    assert await count_members(sessions) == 0


async def test_language_code_picks_english_at_first_contact(chat) -> None:
    await chat.say("hello", language_code="en-US")
    assert chat.locale == "en"
    assert chat.payload_of("consent-yes") == "consent:yes:en"


async def test_link_with_org_code_employee_number_and_enrolment_code(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await chat.say("hello")
    await chat.choose("consent-yes")
    assert chat.keys == ["link-ask-org"]
    await chat.say("demo")
    assert chat.replies == [Reply("link-ask-employee-number")]  # no organisation name
    await chat.say(" e0002 ")
    assert chat.replies == [Reply("link-ask-enrolment-code")]
    await chat.say(code_of("E0002").replace("-", " ").lower())
    assert chat.keys == ["link-done", "menu-main"]
    recovery = chat.replies[0].params["recovery"]
    assert re.fullmatch(
        r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", recovery
    )
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.external_id == "alice"))
        entry = await session.get(RosterEntry, member.roster_entry_id)
    assert member.consent_at == clock() and entry.enrolment_used_at == clock()
    assert "E0002" not in entry.employee_hash and len(entry.employee_hash) == 64
    assert recovery not in str(entry.recovery_hash) and len(entry.recovery_hash) == 64


async def test_deep_link_carries_the_org_code_but_never_names_it(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("/start DEMO")
    assert chat.payload_of("consent-yes") == "consent:yes:zh-TW:DEMO"
    await chat.choose("consent-yes")
    assert chat.replies == [Reply("link-ask-employee-number")]
    stranger = Chat(chat.dispatcher, "stranger")
    await stranger.say("/start NOSUCHORG")
    await stranger.choose("consent-yes")
    assert stranger.replies == chat.replies  # a valid code and an invalid one look alike


async def refuses(chat: Chat, org: str, number: str, code: str) -> None:
    """Type the three details and get the one answer every failure gets."""
    await type_details(chat, org, number, code)
    assert chat.replies == [Reply("link-refused"), Reply("link-ask-org")]


async def test_every_failure_gets_the_same_answer(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(Chat(dispatcher, "holder"), "E0010")
    async with unit_of_work(sessions) as session:
        target = employee_hash(TEST_KEY.encode(), "DEMO", "E0020")
        entry = await session.scalar(
            select(RosterEntry).where(RosterEntry.employee_hash == target)
        )
        entry.status = "left"
    attempts = [
        ("DEMO", "E0010", code_of("E0010")),  # already linked (its code is spent)
        ("DEMO", "E0020", code_of("E0020")),  # left
        ("DEMO", "X9999", code_of("E0011")),  # not on the roster
        ("ACME", "E0011", code_of("E0011")),  # unknown organisation
        ("DEMO", "E0011", code_of("E0012")),  # wrong enrolment code
    ]
    for number, details in enumerate(attempts):
        chat = Chat(dispatcher, f"prober-{number}")
        await chat.say("hi")
        await chat.choose("consent-yes")
        await refuses(chat, *details)


async def test_failures_then_rate_limit_with_wait_time(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    chat.dispatcher.flood.limit = 1000  # faster than a person types; flood has its own tests
    await chat.say("hello")
    await chat.choose("consent-yes")
    await refuses(chat, "ACME", "E0003", code_of("E0003"))
    for _ in range(4):
        await refuses(chat, "DEMO", "X9999", code_of("E0003"))
    clock.advance(minutes=10)
    await chat.say("DEMO")
    assert chat.keys == ["link-too-many-attempts"]
    assert chat.replies[0].params == {"minutes": 51}
    clock.advance(minutes=51)
    await chat.say("hi")
    assert chat.keys == ["link-required", "link-ask-org"]
    await type_details(chat, "DEMO", "E0003", code_of("E0003"))
    assert chat.keys == ["link-done", "menu-main"]


async def test_forget_me_does_not_reset_the_limit(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    chat.dispatcher.flood.limit = 1000  # faster than a person types; flood has its own tests
    before = await count_members(sessions)
    await chat.say("hello")
    await chat.choose("consent-yes")
    for _ in range(5):
        await refuses(chat, "DEMO", "E0004", "WRONG-CODE1")
    await chat.tap("priv:forget:yes")
    assert chat.keys == ["forget-done"] and await count_members(sessions) == before
    await chat.say("hi")
    await chat.choose("consent-yes")
    await chat.say("DEMO")
    assert chat.keys == ["link-too-many-attempts"]


async def outbox_keys(sessions: async_sessionmaker[AsyncSession], recipient: str) -> list[str]:
    """The message keys queued for a chat."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        )
        return [reply.key for row in rows for reply in from_payload(row.payload)]


async def test_a_spent_code_is_refused_and_the_linked_chat_is_told(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(Chat(dispatcher, "first"), "E0010")
    second = Chat(dispatcher, "second")
    await second.say("hi")
    await second.choose("consent-yes")
    await refuses(second, "DEMO", "E0010", code_of("E0010"))
    assert await outbox_keys(sessions, "first") == ["link-someone-tried"]
    assert await outbox_keys(sessions, "second") == []


async def test_a_recovery_code_moves_the_link_to_a_new_chat(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    old_phone = Chat(dispatcher, "old-phone")
    recovery = await link(old_phone, "E0012")
    async with sessions() as session:
        before = await session.scalar(select(Member).where(Member.external_id == "old-phone"))
    new_phone = Chat(dispatcher, "new-phone")
    await new_phone.say("hi")
    await new_phone.choose("consent-yes")
    await type_details(new_phone, "DEMO", "E0012", recovery)
    assert new_phone.keys == ["link-done", "menu-main"]
    assert new_phone.replies[0].params["recovery"] != recovery
    async with sessions() as session:
        after = await session.get(Member, before.id)
    assert (after.external_id, after.roster_entry_id) == ("new-phone", before.roster_entry_id)
    assert await outbox_keys(sessions, "old-phone") == ["link-moved-away"]
    await old_phone.say("hi")
    assert old_phone.keys == ["privacy-notice"]
    third = Chat(dispatcher, "third")
    await third.say("hi")
    await third.choose("consent-yes")
    await refuses(third, "DEMO", "E0012", recovery)  # the old recovery code is spent too


async def test_unlinked_member_is_asked_to_link_before_the_menu(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("hi")
    await chat.choose("consent-yes")
    await chat.tap("hrs")
    assert chat.keys == ["link-required", "link-ask-org"]


async def test_menu_about_and_hours(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    for text in ("選單", "/menu", "MENU"):
        await chat.say(text)
        assert chat.keys == ["menu-main"]
    await chat.choose("menu-about")
    assert chat.keys[0] == "about-intro"
    assert [r.params["domain"] for r in chat.replies if r.key == "about-domain"] == [
        Key("domain-psychology"),
        Key("domain-legal"),
        Key("domain-finance"),
        Key("domain-nutrition"),
    ]
    await chat.tap("hrs")
    assert chat.replies[0].key == "hours-summary"
    params = chat.replies[0].params
    assert (params["granted"], params["used"], params["reserved"], params["left"]) == (8, 0, 0, 8)
    assert params["resets"] == date(local_date(clock()).year + 1, 1, 1)


async def test_unknown_text_and_unknown_payload_get_choices_again(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say("what is the weather")
    assert chat.keys == ["not-understood"]
    assert [c.payload for c in chat.replies[0].choices][:3] == ["about", "hrs", "bk"]
    await chat.tap("zzz:1:2")
    assert chat.keys == ["not-understood"]


async def test_switch_language(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.tap("lang")
    await chat.choose("language-en")
    assert chat.keys == ["language-set", "menu-main"]
    assert chat.locale == "en"
    await chat.say("menu")
    assert chat.locale == "en"


async def test_forget_me_deletes_the_link(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    before = await count_members(sessions)
    await link(chat)
    await chat.tap("priv")
    await chat.choose("privacy-forget")
    assert chat.keys == ["forget-confirm"]
    await chat.choose("forget-yes")
    assert chat.keys == ["forget-done"]
    assert await count_members(sessions) == before
    await chat.say("hi")
    assert chat.keys == ["privacy-notice"]
