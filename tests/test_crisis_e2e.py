"""A crisis end to end, real SDKs against both fake platforms: an employee on LINE dials from
the card and asks for the on-call counselor, who is alerted on Telegram and acknowledges; an
employee on Telegram whose alert the counselor on LINE leaves unanswered is told so."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import utcnow
from bot.i18n import render
from handlers.crisis_handoff import follow_up_unanswered
from storage.db import unit_of_work
from storage.models import CrisisAlert
from tests import test_delivery_e2e
from tests.crisis_helpers import CRISIS_EN, CRISIS_ZH, counselor_named, set_org
from tests.fake_line import user_id as line_user
from tests.test_counselors import invite_counselor
from tests.test_delivery_e2e import (
    COUNSELOR,
    BothChannels,
    line_notice,
    line_staff,
    telegram_employee,
    telegram_notice,
    telegram_staff,
)
from tests.test_dialog_onboarding import code_of
from tests.test_line import actions, exchange, tap, texts
from tests.test_telegram import until

product = test_delivery_e2e.product  # both fake platforms and the bot serving both channels


async def line_employee(product: BothChannels, name: str) -> str:
    """An employee of DEMO who consented and linked on LINE (in Traditional Chinese)."""
    bot, user = product.line, line_user(name)
    bot.fake.profiles[user] = "zh-TW"
    shown = await exchange(bot, user, bot.webhooks.follow(user))
    shown = await tap(bot, user, shown, "consent-yes")
    for typed in ("DEMO", "E0002", code_of("E0002")):
        shown = await exchange(bot, user, bot.webhooks.text(user, typed))
    assert texts(shown)[-1] == render("zh-TW", "menu-main")
    return user


async def test_line_employee_in_danger_alerts_the_on_call_counselor_on_telegram(
    product: BothChannels,
) -> None:
    code = await invite_counselor(product.sessions, utcnow, COUNSELOR)
    counselor = await telegram_staff(product, 7301, code)
    on_call = await counselor_named(product.sessions, COUNSELOR)
    await set_org(product.sessions, on_call_counselor_id=on_call.id)
    employee = await line_employee(product, "fay")
    bot, telegram = product.line, product.fake

    shown = await exchange(bot, employee, bot.webhooks.text(employee, CRISIS_ZH))
    dials = [a["uri"] for a in actions(shown) if a["type"] == "uri"]
    assert dials == ["tel:1925", "tel:1995", "tel:1980"]
    assert "1925" in " ".join(texts(shown)) or "1925" in str(shown)
    shown = await tap(bot, employee, shown, "crisis-answer-danger")
    assert [a["uri"] for a in actions(shown) if a["type"] == "uri"][:2] == ["tel:119", "tel:110"]

    before = len(telegram.shown_in(counselor.id))
    shown = await tap(bot, employee, shown, "crisis-alert-yes")
    assert texts(shown)[-1] == render("zh-TW", "crisis-ask-number")
    notice = await telegram_notice(product, counselor.id, before)
    assert notice.payloads[0].startswith("co:ack:") and CRISIS_ZH not in notice.text
    assert notice.text.startswith(render("en", "crisis-alert", {"client": "", "at": ""})[:10])

    pushes = len(product.line_fake.accepted("push", to=employee))
    press = telegram.press(counselor.id, notice.payloads[0])
    await product.deliver(press)
    counselor.read(await product.reply_to(press["update_id"]))
    assert counselor.keys == ["crisis-alert-ack-done"]
    told = await line_notice(product, employee, pushes)
    assert texts(told) == [render("zh-TW", "crisis-alert-acknowledged")]


async def test_telegram_employee_is_told_when_the_counselor_on_line_does_not_answer(
    product: BothChannels,
) -> None:
    code = await invite_counselor(product.sessions, utcnow, COUNSELOR)
    counselor, _ = await line_staff(product, "dr-wang", code)
    on_call = await counselor_named(product.sessions, COUNSELOR)
    await set_org(product.sessions, on_call_counselor_id=on_call.id)
    employee = await telegram_employee(product, 7401)
    line = product.line_fake

    await employee.say(CRISIS_EN)
    assert employee.keys == ["crisis-lines-self", "crisis-ask"]
    await employee.tap("crisis-answer-danger")
    pushes = len(line.accepted("push", to=counselor))
    await employee.tap("crisis-alert-yes")
    assert employee.keys == ["crisis-alert-sent", "crisis-ask-number"]
    alert = await line_notice(product, counselor, pushes)
    assert [a["data"][:7] for a in actions(alert)] == ["co:ack:"]
    assert CRISIS_EN not in str(alert)

    before = len(product.fake.shown_in(employee.id))
    assert await follow_up_unanswered(product.sessions, utcnow()) == 0
    async with unit_of_work(product.sessions) as session:  # ten minutes pass unanswered
        alert_row = await session.scalar(select(CrisisAlert))
        alert_row.raised_at -= timedelta(minutes=11)
    assert await follow_up_unanswered(product.sessions, utcnow()) == 1
    shown = product.fake.shown_in
    await until(lambda: len(shown(employee.id)) >= before + 2, what="the follow-up")
    unanswered, question = shown(employee.id)[before:]
    opening = render("en", "crisis-alert-unanswered", {"minutes": 10, "lines": ""})[:40]
    assert unanswered.text.startswith(opening) and "1925" in unanswered.text
    asked = [p.split(":")[1] for p in question.payloads]
    assert asked == ["d", "t", "ok"]
    assert await follow_up_unanswered(product.sessions, utcnow()) == 0  # told once
