"""The chat's recent texts that the crisis screen reads with each message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.crisis_context import RecentTexts
from tests.helpers import Chat
from tests.test_dialog_onboarding import link, seed_demo

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_the_last_messages_of_the_window_oldest_first() -> None:
    recent = RecentTexts(max_messages=3, window=timedelta(minutes=5))
    for i, text in enumerate(["a", "b", "c", "d"]):
        recent.add("chat", text, T0 + timedelta(minutes=i))
    assert recent.recent("chat", T0 + timedelta(minutes=4)) == ["b", "c", "d"]
    assert recent.recent("chat", T0 + timedelta(minutes=6, seconds=30)) == ["c", "d"]
    assert recent.recent("chat", T0 + timedelta(minutes=8)) == []
    assert len(recent) == 0


def test_chats_are_kept_apart_and_forgotten_one_by_one() -> None:
    recent = RecentTexts()
    recent.add("line:u1", "my pills", T0)
    recent.add("telegram:7", "hello", T0)
    assert recent.recent("line:u1", T0) == ["my pills"]
    recent.forget("line:u1")
    recent.forget("never-seen")
    assert recent.recent("line:u1", T0) == []
    assert recent.recent("telegram:7", T0) == ["hello"]


def test_the_least_recent_chats_go_first_over_the_cap() -> None:
    recent = RecentTexts(max_chats=2)
    recent.add("a", "1", T0)
    recent.add("b", "2", T0 + timedelta(seconds=1))
    recent.add("a", "3", T0 + timedelta(seconds=2))
    recent.add("c", "4", T0 + timedelta(seconds=3))
    now = T0 + timedelta(seconds=4)
    assert len(recent) == 2
    assert recent.recent("b", now) == []
    assert recent.recent("a", now) == ["1", "3"]


def test_idle_chats_are_dropped_when_others_write() -> None:
    recent = RecentTexts(window=timedelta(minutes=5))
    recent.add("old", "x", T0)
    recent.add("new", "y", T0 + timedelta(minutes=6))
    assert len(recent) == 1


@pytest.mark.parametrize(
    "arguments",
    [{"max_messages": 0}, {"max_chats": 0}, {"window": timedelta(0)}],
)
def test_settings_must_be_positive(arguments: dict) -> None:
    with pytest.raises(ValueError, match="positive"):
        RecentTexts(**arguments)


# Each alone is at most a check-in; read together in one chat they are a plan.
FRAGMENTS = ["藥都收在抽屜裡"]  # the pills are all in the drawer
LAST = "今晚就用"  # using them tonight
CRISIS_KEYS = ["crisis-lines-self", "crisis-ask"]


async def test_fragments_in_one_chat_add_up_to_a_crisis(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    for text in FRAGMENTS:
        await chat.say(text)
        assert chat.keys[:1] != CRISIS_KEYS[:1]
        clock.advance(minutes=1)
    await chat.say(LAST)
    assert chat.keys == CRISIS_KEYS
    assert len(chat.dispatcher.recent) == 0  # forgotten after the crisis, or it would repeat


async def test_another_chat_or_an_old_message_does_not_count(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    alice, bob = Chat(dispatcher, "alice"), Chat(dispatcher, "bob")
    await link(alice)
    await link(bob, "E0003")
    for text in FRAGMENTS:
        await alice.say(text)
    await bob.say(LAST)
    assert bob.keys[:1] != CRISIS_KEYS[:1]
    clock.advance(minutes=6)
    await alice.say(LAST)
    assert alice.keys[:1] != CRISIS_KEYS[:1]


async def test_only_worrying_texts_are_kept(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)  # "hi", the organisation code, the employee number, the enrolment code
    for text in ("hi", "a note", "what time is my session?", "/menu"):
        await chat.say(text)
    assert chat.dispatcher.recent.recent("test:alice", clock()) == []
    await chat.say(FRAGMENTS[0])
    assert chat.dispatcher.recent.recent("test:alice", clock()) == FRAGMENTS


async def test_forget_me_forgets_the_recent_texts(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.say(FRAGMENTS[0])
    assert chat.dispatcher.recent.recent("test:alice", clock()) == FRAGMENTS
    await chat.tap("priv:forget:yes")
    assert chat.keys == ["forget-done"]
    assert len(chat.dispatcher.recent) == 0
