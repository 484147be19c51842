"""Flood control: one polite reply, then quiet; other chats unaffected; crisis still answered."""

from __future__ import annotations

from bot.flood import FloodGuard, Verdict
from tests.helpers import Chat


def test_guard_warns_once_then_drops_until_the_window_clears() -> None:
    now = [0.0]
    guard = FloodGuard(limit=3, window=10, clock=lambda: now[0])
    assert [guard.check("t", "a") for _ in range(5)] == [
        Verdict.OK,
        Verdict.OK,
        Verdict.OK,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert guard.check("t", "b") == Verdict.OK
    now[0] = 10.5
    assert guard.check("t", "a") == Verdict.OK


def test_guard_forgets_idle_chats_by_itself() -> None:
    now = [0.0]
    guard = FloodGuard(limit=3, window=10, clock=lambda: now[0])
    for user in ("a", "b", "c"):
        guard.check("t", user)
    now[0] = 10.5
    assert guard.check("t", "d") == Verdict.OK
    assert list(guard._seen) == [("t", "d")]  # not every chat ever seen


async def test_flooding_chat_gets_one_reply_and_others_are_served(dispatcher) -> None:
    dispatcher.flood = FloodGuard(limit=20, window=10)
    flooder, other = Chat(dispatcher, "flooder"), Chat(dispatcher, "other")
    keys = []
    for _ in range(25):
        await flooder.say("hello")
        keys.append(flooder.keys)
    assert keys[:20] == [["privacy-notice"]] * 20
    assert keys[20:] == [["flood-slow-down"], [], [], [], []]
    await other.say("hello")
    assert other.keys == ["privacy-notice"]
    await flooder.say("I want to kill myself")
    assert flooder.keys == ["crisis-lines-self", "crisis-ask"]
