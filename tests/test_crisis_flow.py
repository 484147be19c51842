"""The crisis conversation after the screen: lines that fit, a question that is understood,
a truthful offer, a hand-off that is followed up, and nothing typed lost into another step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.flood import FloodGuard
from handlers import crisis_lines
from handlers.crisis_handoff import follow_up_unanswered
from storage import hours, orgs
from storage.db import unit_of_work
from storage.models import Booking, Bucket, CrisisAlert, CrisisEvent, Member, Slot
from tests.crisis_helpers import (
    CRISIS_EN,
    CRISIS_ZH,
    FakeVerdict,
    ScreenedDispatcher,
    calls,
    counselor_named,
    outbox_texts,
    outbox_to,
    payloads,
    set_org,
    shown_numbers,
)
from tests.helpers import Chat
from tests.test_counselors import linked_counselor
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo

ASKED = ["crisis-lines-self", "crisis-ask"]
ASKED_AGAIN = ["crisis-lines-again", "crisis-ask"]
THREAT = "有人要殺我"
WORRY = "我朋友說他想死"
CONCERN = "最近壓力好大，快撐不下去"


@pytest.fixture
def screened(sessions, settings, clock):
    """A chat factory over the dispatcher wired as proposed, with the test's verdicts."""
    verdicts = {
        THREAT: FakeVerdict("crisis", "others-danger"),
        WORRY: FakeVerdict("crisis", "third-party"),
        CONCERN: FakeVerdict("concern", "self"),
    }
    dispatcher = ScreenedDispatcher(sessions, settings, clock=clock, verdicts=verdicts)
    dispatcher.flood = FloodGuard(limit=100_000)
    return lambda user="alice": Chat(dispatcher, user)


async def member_of(sessions, user: str) -> Member:
    async with sessions() as session:
        return await session.scalar(select(Member).where(Member.external_id == user))


def programme_shown(clock) -> bool:
    """Whether the free public programme runs on the clock's day."""
    return crisis_lines.programme(crisis_lines.taiwan_date(clock())) is not None


async def test_crisis_shows_the_lines_first_then_asks_with_three_buttons(chat, sessions, clock):
    await seed_demo(sessions, clock)
    await chat.say(CRISIS_ZH)
    assert chat.keys == ASKED
    assert calls(chat.replies) == ["1925", "1995", "1980"]
    assert shown_numbers(chat.replies[0]) == ["1925", "1995", "1980"]
    assert payloads(chat.replies[1:]) == ["cr:d:s", "cr:t:s", "cr:ok:s"]  # nothing to go back to
    async with sessions() as session:
        events = list(await session.scalars(select(CrisisEvent)))
    assert len(events) == 1 and {c.name for c in CrisisEvent.__table__.columns}.isdisjoint(
        {"text", "message", "words"}
    )


@pytest.mark.parametrize(
    ("text", "kind", "first", "danger"),
    [
        (CRISIS_ZH, "self", ["1925", "1995", "1980"], ["119", "110", "1925", "1995"]),
        (THREAT, "others-danger", ["113", "110"], ["110", "113", "119"]),
        (WORRY, "third-party", ["1925", "119", "110"], ["119", "110", "1925"]),
    ],
)
async def test_each_kind_gets_its_own_lines(screened, sessions, clock, text, kind, first, danger):
    await seed_demo(sessions, clock)
    chat = screened()
    await chat.say(text)
    assert chat.keys == [f"crisis-lines-{kind}", "crisis-ask"]
    assert calls(chat.replies) == first
    assert chat.replies[1].params == {"kind": kind}
    await chat.choose("crisis-answer-danger")
    assert chat.keys == ["crisis-danger", "crisis-danger-next"]  # no on-call set up
    assert calls(chat.replies) == danger


@pytest.mark.parametrize(
    ("answer", "keys"),
    [
        ("我有危險", ["crisis-danger", "crisis-danger-next"]),
        ("help", ["crisis-danger", "crisis-danger-next"]),
        ("not safe", ["crisis-danger", "crisis-danger-next"]),
        ("想找人談", None),
        ("我沒事", ["crisis-safe"]),
        ("I'm OK", ["crisis-safe"]),
    ],
)
async def test_typed_answers_are_understood(chat, sessions, clock, answer, keys) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say(CRISIS_EN)
    await chat.say(answer)
    if keys is None:  # "want to talk": the lines, then the earliest session
        assert chat.keys == ["crisis-talk-lines", "crisis-talk-offer"]
    else:
        assert chat.keys == keys
    if keys == ["crisis-safe"]:
        assert shown_numbers(chat.replies[0]) == ["1925"]
        assert payloads(chat.replies) == ["cr:t", "m"]  # linked at the menu: nothing to resume


@pytest.mark.parametrize("unclear", ["好", "嗯", "yes", "？", "我也不知道"])
async def test_an_unclear_answer_is_asked_again_and_never_read_as_safe(
    chat, sessions, clock, unclear
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say(CRISIS_ZH)
    for _ in range(2):
        await chat.say(unclear)
        assert chat.keys == ASKED_AGAIN
        assert calls(chat.replies) == ["1925", "1995", "1980"]
        assert payloads(chat.replies[1:]) == ["cr:d:s", "cr:t:s", "cr:ok:s"]
    await chat.choose("crisis-answer-safe")
    assert chat.keys == ["crisis-safe"]


async def test_typing_ok_in_the_note_step_after_a_crisis_is_never_the_note(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.tap("bk")
    await chat.choose("domain-psychology")
    await chat.choose("mode-video")
    await chat.choose("book-day")
    await chat.choose("book-slot")
    await chat.choose("book-add-note")
    assert chat.keys == ["book-ask-note"]
    await chat.say(CRISIS_ZH)
    assert chat.keys == ASKED
    assert "cr:back" in payloads(chat.replies)
    await chat.say("好")
    assert chat.keys == ASKED_AGAIN
    await chat.say("0912345678")  # not a callback step: just unclear
    assert chat.keys == ASKED_AGAIN
    await chat.choose("crisis-back")
    assert chat.keys == ["crisis-back-done", "book-ask-note"]
    await chat.say("I'd like to talk about sleep")
    assert chat.keys == ["book-note-saved", "book-confirm"]
    await chat.choose("book-confirm-yes")
    assert chat.keys == ["book-confirmed"]
    async with sessions() as session:
        notes = list(await session.scalars(select(Booking.note)))
    assert notes == ["I'd like to talk about sleep"]


async def test_a_button_of_the_interrupted_flow_resumes_it_and_a_menu_leaves(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.tap("bk")
    await chat.choose("domain-psychology")
    video = chat.payload_of("mode-video")
    await chat.say(CRISIS_ZH)
    await chat.tap(video)  # the earlier button: the person chose to go on booking
    assert chat.keys == ["book-choose-day"]
    await chat.say(CRISIS_ZH)
    await chat.say("選單")
    assert chat.keys == ["menu-main"]
    await chat.say("好")
    assert chat.keys == ["not-understood"]


async def test_wanting_to_talk_offers_the_earliest_session_it_can_book(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-answer-talk")
    assert chat.keys == ["crisis-talk-lines", "crisis-talk-offer"]
    offer = chat.replies[1].choices[0]
    assert offer.label == "crisis-earliest-slot" and offer.payload.startswith("bk:s:")
    assert offer.params["start"] - clock() >= timedelta(hours=24)
    await chat.tap(offer.payload)
    assert chat.keys == ["book-confirm"]
    assert chat.replies[0].params["start"] == offer.params["start"]


async def test_hours_used_up_says_so_and_points_to_lines_and_free_counseling(
    chat, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    member = await member_of(sessions, "alice")
    async with unit_of_work(sessions) as session:
        org = await orgs.by_id(session, member.organisation_id)
        today = orgs.local_date(org, clock())
        year = orgs.plan_year_start(org, today)
        await hours.add_entry(
            session,
            org=org,
            member_id=member.id,
            plan_year=year,
            bucket=Bucket.USED,
            minutes=org.minutes_per_year,
            reason="test",
            key="used-up",
            now=clock(),
        )
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-answer-talk")
    programme = ["crisis-programme"] if programme_shown(clock) else []
    assert chat.keys == ["crisis-talk-no-hours", *programme, "crisis-talk-next"]
    assert chat.replies[0].params["resets"] == orgs.plan_year_end(org, today)
    assert calls(chat.replies) == ["1925", "1995", "1980"]
    assert not [p for p in payloads(chat.replies) if p.startswith(("bk", "wl"))]
    assert "book-no-hours-left" not in chat.keys  # never "please ask HR"


async def test_no_slot_says_that_and_offers_the_waitlist(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    async with unit_of_work(sessions) as session:
        await session.execute(update(Slot).values(blocked=True))
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-answer-talk")
    programme = ["crisis-programme"] if programme_shown(clock) else []
    assert chat.keys == ["crisis-talk-no-slot", *programme, "crisis-talk-next"]
    assert "wl:j:psychology" in payloads(chat.replies)


async def test_someone_not_linked_who_wants_to_talk_gets_the_lines(chat, sessions, clock):
    await seed_demo(sessions, clock)
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-answer-talk")
    programme = ["crisis-programme"] if programme_shown(clock) else []
    assert chat.keys == ["crisis-talk-lines", *programme, "crisis-talk-next"]


async def test_declining_the_privacy_notice_still_shows_the_lines(chat, sessions) -> None:
    await chat.say("hello")
    assert chat.keys == ["privacy-notice"]
    await chat.choose("consent-no")
    assert chat.keys == ["consent-declined", "crisis-lines-declined"]
    assert calls(chat.replies) == ["1925", "1995", "1980"]
    async with sessions() as session:
        assert await session.scalar(select(Member)) is None


async def on_call_world(dispatcher, sessions, clock) -> tuple[Chat, Chat]:
    """A linked employee and the on-call counselor, linked to a chat."""
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    on_call = await counselor_named(sessions, "王心怡")
    await set_org(sessions, on_call_counselor_id=on_call.id, crisis_line="0800-555-123")
    employee = Chat(dispatcher, "alice")
    await link(employee)
    return employee, counselor


async def raise_alert(employee: Chat) -> None:
    await employee.say(CRISIS_ZH)
    await employee.choose("crisis-answer-danger")
    assert employee.keys == ["crisis-danger", "crisis-alert-offer"]
    assert calls(employee.replies) == ["119", "110", "1925", "1995", "0800555123"]
    await employee.choose("crisis-alert-yes")
    assert employee.keys == ["crisis-alert-sent", "crisis-ask-number"]


async def test_alert_with_acknowledgement(dispatcher, sessions, clock) -> None:
    employee, counselor = await on_call_world(dispatcher, sessions, clock)
    await raise_alert(employee)
    await employee.tap("cr:a:s")  # pressed twice: still one alert, one message
    assert employee.keys == ["crisis-alert-sent", "crisis-ask-number"]
    sent = await outbox_to(sessions, counselor.user)
    assert [r.key for m in sent for r in m if r.key.startswith("crisis")] == ["crisis-alert"]
    alert = sent[-1][0]
    assert set(alert.params) == {"client", "at"} and alert.params["client"].startswith("C-")
    assert alert.params["at"] == clock().astimezone(alert.params["at"].tzinfo)
    await employee.say("0912-345-678")
    assert employee.keys == ["crisis-number-sent"]
    callback = (await outbox_to(sessions, counselor.user))[-1][0]
    assert (callback.key, callback.params["phone"]) == ("crisis-alert-callback", "0912345678")
    assert CRISIS_ZH not in await outbox_texts(sessions)
    clock.advance(minutes=3)
    await counselor.tap(alert.choices[0].payload)
    assert counselor.keys == ["crisis-alert-ack-done"]
    await counselor.tap(alert.choices[0].payload)
    assert counselor.keys == ["crisis-alert-ack-again"]
    told = await outbox_to(sessions, "alice")
    assert [m[0].key for m in told] == ["crisis-alert-acknowledged"]
    clock.advance(minutes=30)
    assert await follow_up_unanswered(sessions, clock()) == 0
    async with sessions() as session:
        assert len(list(await session.scalars(select(CrisisAlert)))) == 1


async def test_alert_without_acknowledgement_is_followed_up_once(
    dispatcher, sessions, clock
) -> None:
    employee, counselor = await on_call_world(dispatcher, sessions, clock)
    await raise_alert(employee)
    clock.advance(minutes=9)
    assert await follow_up_unanswered(sessions, clock()) == 0
    clock.advance(minutes=2)
    assert await follow_up_unanswered(sessions, clock()) == 1
    assert await follow_up_unanswered(sessions, clock()) == 0  # a rerun is harmless
    [[unanswered, question]] = await outbox_to(sessions, "alice")
    assert unanswered.key == "crisis-alert-unanswered" and unanswered.params["minutes"] == 10
    assert calls([unanswered]) == ["119", "110", "1925", "1995", "0800555123"]
    assert [c.payload for c in question.choices] == ["cr:d:s", "cr:t:s", "cr:ok:s"]
    alert = (await outbox_to(sessions, counselor.user))[-1][0]
    await counselor.tap(alert.choices[0].payload)  # late, still recorded; no second message
    assert counselor.keys == ["crisis-alert-ack-done"]


async def test_another_counselor_cannot_acknowledge(dispatcher, sessions, clock) -> None:
    employee, counselor = await on_call_world(dispatcher, sessions, clock)
    await raise_alert(employee)
    alert = (await outbox_to(sessions, counselor.user))[-1][0]
    other = await linked_counselor(dispatcher, sessions, clock, "dr-lin", "林志明")
    await other.tap(alert.choices[0].payload)
    assert other.keys == ["error-not-found", "counselor-menu"]
    await employee.tap(alert.choices[0].payload)
    assert employee.keys[0] in ("error-not-allowed", "crisis-ask")


async def test_no_on_call_means_no_consent_button(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-answer-danger")
    assert chat.keys == ["crisis-danger", "crisis-danger-next"]
    await chat.tap("cr:a:s")  # a stale or forged consent
    assert chat.keys == ["crisis-alert-unavailable", "crisis-ask"]
    async with sessions() as session:
        assert await session.scalar(select(CrisisAlert)) is None


async def test_a_concern_adds_one_gentle_check_in_per_half_hour(screened, sessions, clock):
    await seed_demo(sessions, clock)
    chat = screened()
    await link(chat)
    await chat.tap("bk")
    await chat.say(CONCERN)
    assert chat.keys == ["crisis-check-in", "not-understood"]
    assert payloads(chat.replies[:1]) == ["cr:d:s", "cr:t:s", "cr:ok:s"]
    assert shown_numbers(chat.replies[0]) == ["1925"]
    assert chat.payload_of("domain-psychology")  # the step's own buttons are still there
    await chat.say(CONCERN)
    assert chat.keys == ["not-understood"]
    clock.advance(minutes=31)
    await chat.say(CONCERN)
    assert chat.keys == ["crisis-check-in", "not-understood"]
    await chat.choose("crisis-answer-safe")
    assert chat.keys == ["crisis-safe"]
    await chat.choose("domain-psychology")  # the booking step went on all along
    assert chat.keys == ["book-choose-mode"]


async def test_a_counselor_declining_a_flagged_booking_is_warned_and_the_client_reoffered(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "alice")
    await link(employee)
    await book_first(employee)
    await employee.say(CRISIS_ZH)  # flags the upcoming booking
    await employee.choose("crisis-answer-safe")
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    assert booking.crisis_flag
    if booking.counselor_id != (await counselor_named(sessions, "王心怡")).id:
        counselor = await linked_counselor(dispatcher, sessions, clock, "dr-lin", "林志明")
    await counselor.tap(f"co:dec:{booking.id}")
    assert counselor.keys == ["counselor-decline-crisis-warning", "counselor-decline-confirm"]
    await counselor.choose("counselor-decline-yes")
    assert counselor.keys[0] == "counselor-declined"
    told = await outbox_to(sessions, "alice")
    keys = [[r.key for r in m] for m in told]
    assert ["booking-declined"] in keys
    reoffer = next(m for m in told if m[0].key.startswith("crisis-reoffer"))
    if reoffer[0].key == "crisis-reoffer":
        assert reoffer[0].choices[0].payload.startswith("bk:s:")
        async with sessions() as session:
            slot = await session.get(Slot, int(reoffer[0].choices[0].payload.split(":")[2]))
        assert slot.counselor_id != booking.counselor_id
    assert "1925" in calls(reoffer)


async def test_a_screened_answer_in_the_conversation_is_still_understood(chat, sessions, clock):
    await seed_demo(sessions, clock)
    await chat.say(CRISIS_ZH)
    await chat.say("no I'm not safe, I have the pills here")  # a crisis too: recorded, and danger
    assert chat.keys == ["crisis-danger", "crisis-danger-next"]
    await chat.say(CRISIS_EN)  # another crisis message: the lines and the question again
    assert chat.keys == ASKED
    async with sessions() as session:
        assert len(list(await session.scalars(select(CrisisEvent)))) == 3
