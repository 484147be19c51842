"""Replies rendered for LINE stay within LINE's limits, checked by spec and by LINE's rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.line_render import (
    MAX_TEXT,
    render_messages,
    split_text,
    to_requests,
    utf16_len,
)
from bot.i18n import render
from handlers.menu import main_choices
from handlers.types import Choice, Reply
from tests.fake_line import message_problems
from tests.helpers import Chat
from tests.openapi_check import load
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo

LOCALES = ["zh-TW", "en"]


def problems(requests: list[list[dict[str, Any]]]) -> list[str]:
    """Everything LINE would refuse in these push requests."""
    spec = load("messaging-api.yml")
    found = []
    for messages in requests:
        body = {"to": "U" + "0" * 32, "messages": messages}
        found += message_problems(messages)
        found += spec.errors(body, "PushMessageRequest")
    return found


def quick_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


async def journey_replies(chat: Chat, sessions, clock) -> list[list[Reply]]:
    """Every reply list of a full employee journey on the test channel."""
    seen: list[list[Reply]] = []

    async def step(action) -> None:
        await action
        seen.append(list(chat.replies))

    chat.dispatcher.flood.limit = 1000  # a script taps faster than a person
    await seed_demo(sessions, clock)
    await step(chat.say("hi"))
    await link(chat)
    seen.append(list(chat.replies))
    for payload in ("about", "hrs", "help", "lang", "priv", "fb", "my", "bk", "bk:d:legal"):
        await step(chat.tap(payload))
    await step(chat.tap("bk:m:psychology:video"))
    await step(chat.choose("book-day"))
    await book_first(chat, note="a note")
    seen.append(list(chat.replies))
    await step(chat.tap("my"))
    await step(chat.choose("my-cancel"))
    await step(chat.say("我想死"))
    return seen


@pytest.mark.parametrize("locale", LOCALES)
async def test_every_reply_of_the_journey_is_valid_for_line(chat, sessions, clock, locale) -> None:
    for replies in await journey_replies(chat, sessions, clock):
        requests = to_requests(locale, replies)
        assert requests and problems(requests) == [], [r.key for r in replies]
        for message in (m for request in requests for m in request):
            if message["type"] == "flex":
                assert message["altText"].strip()


def test_menu_choices_become_quick_replies_with_full_display_text() -> None:
    (message,) = render_messages("en", [Reply("menu-main", choices=main_choices())])
    labels = [render("en", c.label) for c in main_choices()]
    shown = quick_items(message)
    assert [a["data"] for a in shown] == [c.payload for c in main_choices()]
    assert [a["displayText"] for a in shown] == labels
    assert all(len(a["label"]) <= 20 for a in shown)
    assert "Privacy and forget…" in [a["label"] for a in shown]  # 21 characters, cut


def test_crisis_lines_dial_from_a_card_not_quick_replies() -> None:
    calls = [
        Choice("crisis-call-line", f"call:{n}", {"name": "x", "number": n})
        for n in ("1925", "1995", "110")
    ]
    messages = render_messages(
        "zh-TW", [Reply("crisis-back-done"), Reply("crisis-ask", kind="self", choices=calls)]
    )
    assert [m["type"] for m in messages] == ["text", "flex"]
    boxes = messages[1]["contents"]["body"]["contents"][1:]
    assert [b["action"]["uri"] for b in boxes] == ["tel:1925", "tel:1995", "tel:110"]
    assert all("quickReply" not in m for m in messages)
    assert problems([messages]) == []


def test_more_than_13_choices_become_cards_of_buttons() -> None:
    choices = [Choice("book-day", f"d:{n}", {"day": f"day {n}"}) for n in range(20)]
    (message,) = render_messages("en", [Reply("book-choose-day", choices=choices)])
    bubbles = message["contents"]["contents"]
    assert message["type"] == "flex" and len(bubbles) == 3
    data = [b["action"]["data"] for bubble in bubbles for b in bubble["body"]["contents"][-8:]]
    assert data[-20:] == [f"d:{n}" for n in range(20)]
    assert problems([[message]]) == []


def test_bookings_form_one_carousel_paged_by_twelve() -> None:
    replies = [
        Reply("my-booking", start=f"day {n}", choices=[Choice("my-cancel", f"my:c:{n}")])
        for n in range(30)
    ]
    replies[-1].choices.append(Choice("menu-back", "m"))
    (request,) = to_requests("en", replies)
    assert [len(m["contents"]["contents"]) for m in request] == [12, 12, 6]
    assert all(m["altText"] == render("en", "line-alt-bookings") for m in request)
    assert [a["data"] for a in quick_items(request[-1])] == ["m"]
    assert problems([request]) == []


def test_slots_are_bubbles_with_navigation_as_quick_replies(clock) -> None:
    slots = [
        Choice(
            "book-slot",
            f"bk:s:{n}:psychology:video",
            {"start": clock(), "minutes": 60, "counselor": "王心怡"},
        )
        for n in range(13)
    ]
    reply = Reply(
        "book-choose-slot", day=clock().date(), choices=[*slots, Choice("book-back", "bk")]
    )
    text, first, second = render_messages("zh-TW", [reply])
    assert first["altText"] == text["text"] == render("zh-TW", "book-choose-slot", reply.params)
    assert len(first["contents"]["contents"]) == 12 and second["contents"]["type"] == "bubble"
    assert [a["data"] for a in quick_items(second)] == ["bk"]
    assert [t["text"] for t in second["contents"]["body"]["contents"]][1:] == ["60 分鐘", "王心怡"]
    assert problems([[text, first, second]]) == []


def test_many_replies_are_joined_then_split_into_requests_of_five() -> None:
    short = [Reply("about-org-line", phone=str(n)) for n in range(9)]
    (request,) = to_requests("en", short)
    assert len(request) == 5
    joined = "\n\n".join(m["text"] for m in request)
    assert joined == "\n\n".join(render("en", "about-org-line", r.params) for r in short)
    parts = {"granted": "x" * 1000, "used": "y" * 1000, "reserved": "z" * 1000}
    long = [Reply("hours-summary", **parts, left=1, resets="soon") for _ in range(7)]
    requests = to_requests("en", long)
    assert [len(r) for r in requests] == [5, 2]
    assert problems(requests) == []


def test_long_text_is_split_in_utf16_units_at_line_breaks() -> None:
    text = ("😀" * 1000 + "\n") * 4
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert [utf16_len(p) for p in pieces] == [4002, 4002]
    assert all(p.endswith("\n") for p in pieces)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12000))
@settings(max_examples=60, deadline=None)
def test_split_text_keeps_every_character_within_the_limit(text: str) -> None:
    pieces = split_text(text, MAX_TEXT)
    assert "".join(pieces) == text
    assert all(0 < utf16_len(p) <= MAX_TEXT for p in pieces)


labels = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)
choices = st.lists(
    st.builds(
        lambda label, n, dial: Choice(
            "book-day", f"call:{n}" if dial else f"x:{n}", {"day": label}
        ),
        labels,
        st.integers(0, 99999),
        st.booleans(),
    ),
    max_size=20,
)
replies = st.lists(
    st.builds(
        lambda text, options, key: Reply(key, phone=text, start=text, choices=options),
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=2400),
        choices,
        st.sampled_from(["about-org-line", "my-booking"]),
    ),
    min_size=1,
    max_size=9,
)


@given(replies)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_replies_render_to_requests_line_accepts(generated: list[Reply]) -> None:
    requests = to_requests("en", generated)
    assert problems(requests) == []
