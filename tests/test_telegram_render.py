"""Telegram rendering and send limits: grouping, keyboards, 4096-unit parts, the rate limiter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels import telegram_render as tg
from bot.channels.telegram import SendLimiter
from bot.i18n import render
from handlers.menu import main_choices
from handlers.types import Attachment, Choice, Key, Reply


def test_replies_up_to_one_with_choices_form_one_message() -> None:
    replies = [
        Reply("hours-summary", granted=8, used=1, reserved=0, left=7, resets="2027-01-01"),
        Reply("hours-domain", domain=Key("domain-legal"), used=1, reserved=0),
        Reply("menu-main", choices=main_choices()),
        Reply("help-text"),
    ]
    first, second = tg.messages("en", replies)
    assert first.text == (
        render("en", "hours-summary", replies[0].params)
        + "\n"
        + render("en", "hours-domain", replies[1].params)
        + "\n\n"
        + render("en", "menu-main")
    )
    assert [data for row in first.rows for _, data in row] == [c.payload for c in main_choices()]
    assert (second.text, second.rows) == (render("en", "help-text"), ())


def test_short_labels_share_rows_and_long_ones_do_not() -> None:
    short = [(str(n), f"fb:s:1:{n}") for n in range(1, 6)]
    assert [len(row) for row in tg.layout(short)] == [3, 2]
    long = [("Book the earliest counseling session: Thu 26 Nov", "a"), ("Call 1925", "b")]
    assert [len(row) for row in tg.layout(long)] == [1, 1]
    wide = [("預約諮詢", "bk"), ("我的諮詢時數", "hrs"), ("認識 EAP", "about")]
    assert [len(row) for row in tg.layout(wide)] == [2, 1]


def test_callback_data_over_64_bytes_is_refused() -> None:
    choice = Choice("menu-help", "help")
    object.__setattr__(choice, "payload", "é" * 33)  # 66 bytes; Choice itself refuses this
    with pytest.raises(ValueError, match="66 bytes"):
        tg.buttons("en", [choice])
    assert tg.buttons("en", [Choice("menu-help", "x" * 64)])[0][1] == "x" * 64


def test_long_text_is_split_at_paragraphs_with_the_keyboard_on_the_last_part() -> None:
    paragraph = "word " * 150  # 750 characters
    text = "\n\n".join([paragraph.strip()] * 12)
    parts = tg.parts(tg.Message(text, rows=((("Menu", "m"),),)))
    assert len(parts) == 3
    assert all(tg.utf16_len(p.text) <= 4096 for p in parts)
    assert [bool(p.rows) for p in parts] == [False, False, True]
    assert "\n\n".join(p.text for p in parts) == text


@given(st.text(alphabet=st.sampled_from("ab 中\n😀"), min_size=1, max_size=12_000))
def test_split_keeps_every_character_within_the_limit(text: str) -> None:
    parts = tg.split_text(text)
    assert all(tg.utf16_len(p) <= tg.MAX_TEXT for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())  # only breaks are dropped
    if text.strip():
        assert all(p.strip() for p in parts)


def test_a_file_carries_a_short_text_as_caption_and_a_long_one_before_it() -> None:
    chart = Attachment("chart.png", "image/png", b"\x89PNG")
    (only,) = tg.parts(tg.Message("Your chart", (), chart))
    assert (only.text, only.attachment, only.is_photo) == ("Your chart", chart, True)
    text_part, file_part = tg.parts(tg.Message("x" * 2000, (), chart))
    assert (text_part.attachment, file_part.text, file_part.attachment) == (None, "", chart)
    sheet = Attachment("usage.csv", "text/csv", b"a,b\n")
    assert not tg.parts(tg.Message("CSV", (), sheet))[0].is_photo


class FakeTime:
    """A clock that sleeping moves forward."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))


def limiter(clock: FakeTime, **rates: float | None) -> SendLimiter:
    return SendLimiter(clock=clock, sleep=clock.sleep, **rates)  # type: ignore[arg-type]


def test_one_chat_bursts_three_then_gets_one_a_second() -> None:
    clock = FakeTime()
    limits = limiter(clock, overall_per_second=None)
    assert [limits.reserve_chat(1) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert limits.reserve_chat(2) == 0.0  # another chat is not held back
    assert limits.reserve_overall() == 0.0
    clock.now += 10
    assert limits.reserve_chat(1) == 0.0


def test_overall_rate_spaces_sends_across_chats() -> None:
    clock = FakeTime()
    limits = limiter(clock, per_chat_per_second=None)
    assert [limits.reserve_chat(chat) for chat in range(31)] == [0.0] * 31
    delays = [limits.reserve_overall() for _ in range(31)]
    assert delays[0] == 0.0 and delays[30] == pytest.approx(1.0)
    assert delays == sorted(delays)


async def test_wait_sleeps_only_when_needed_and_a_429_pauses_the_chat() -> None:
    clock = FakeTime()
    limits = limiter(clock)
    await limits.wait(7)
    assert clock.slept == []
    await limits.wait(7)
    assert clock.slept == [pytest.approx(1 / 30, abs=1e-3)]  # the bot's pace; chats burst
    clock.slept.clear()
    clock.now += 60
    limits.pause(7, 5)
    await limits.wait(7)
    assert clock.slept == [pytest.approx(5.0)]
