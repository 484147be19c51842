"""Dialogs: first contact, consent, linking, menu, about, hours, language, forget me."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.types import Key
from storage.db import unit_of_work
from storage.demo import seed
from storage.models import Member, RosterEntry
from tests.conftest import TEST_KEY
from tests.helpers import Chat, Clock, local_date


async def seed_demo(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """Load the demo organisation with the test key."""
    async with unit_of_work(sessions) as session:
        await seed(session, key=TEST_KEY.encode(), now=clock())


async def link(chat: Chat, number: str = "E0002", language_code: str | None = None) -> None:
    """Consent and link as an employee of DEMO."""
    await chat.say("hi", language_code=language_code)
    await chat.choose("consent-yes")
    await chat.say("DEMO")
    await chat.say(number)
    assert chat.keys == ["link-done", "menu-main"]


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
    assert chat.keys == ["consent-declined"]
    assert await count_members(sessions) == 0


async def test_language_code_picks_english_at_first_contact(chat) -> None:
    await chat.say("hello", language_code="en-US")
    assert chat.locale == "en"
    assert chat.payload_of("consent-yes") == "consent:yes:en"


async def test_link_with_org_code_and_employee_number(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("hello")
    await chat.choose("consent-yes")
    assert chat.keys == ["link-ask-org"]
    await chat.say("demo")
    assert chat.replies[0].key == "link-ask-employee-number"
    assert chat.replies[0].params == {"organisation": "示範科技股份有限公司"}
    await chat.say(" e0002 ")
    assert chat.keys == ["link-done", "menu-main"]
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.external_id == "alice"))
        entry = await session.get(RosterEntry, member.roster_entry_id)
    assert member.consent_at == clock()
    assert "E0002" not in entry.employee_hash and len(entry.employee_hash) == 64


async def test_deep_link_carries_the_org_code(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("/start DEMO")
    assert chat.payload_of("consent-yes") == "consent:yes:zh-TW:DEMO"
    await chat.choose("consent-yes")
    assert chat.keys == ["link-ask-employee-number"]


async def test_wrong_number_then_rate_limit_with_wait_time(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("hello")
    await chat.choose("consent-yes")
    await chat.say("NOPE")
    assert chat.keys == ["link-unknown-org"]
    await chat.say("DEMO")
    for _ in range(4):
        await chat.say("X9999")
        assert chat.keys == ["link-not-on-roster", "link-ask-employee-number-again"]
    clock.advance(minutes=10)
    await chat.say("E0003")
    assert chat.keys == ["link-too-many-attempts"]
    assert chat.replies[0].params == {"minutes": 51}
    clock.advance(minutes=51)
    await chat.say("hi")
    assert chat.keys == ["link-required", "link-ask-org"]
    await chat.say("DEMO")
    await chat.say("E0003")
    assert chat.keys == ["link-done", "menu-main"]


async def test_a_roster_entry_linked_elsewhere_is_refused(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(Chat(dispatcher, "first"), "E0010")
    second = Chat(dispatcher, "second")
    await second.say("hi")
    await second.choose("consent-yes")
    await second.say("DEMO")
    await second.say("E0010")
    assert second.keys == ["link-already-linked", "link-ask-employee-number-again"]


async def test_left_employee_cannot_link(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    async with unit_of_work(sessions) as session:
        entries = (await session.scalars(select(RosterEntry))).all()
        from storage.pseudonyms import employee_hash

        target = employee_hash(TEST_KEY.encode(), "DEMO", "E0020")
        next(e for e in entries if e.employee_hash == target).status = "left"
    await chat.say("hi")
    await chat.choose("consent-yes")
    await chat.say("DEMO")
    await chat.say("E0020")
    assert chat.keys[0] == "link-employee-left"


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
