"""Routing a turn to the handler for a button payload, a command, or the current flow's step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import (
    account,
    booking,
    counselor,
    crisis,
    feedback,
    hr,
    info,
    menu,
    mybookings,
    onboarding,
    series,
    staff,
    waitlist,
)
from handlers.types import Choice, Reply, Turn, from_payload
from storage.errors import DomainError

Handler = Callable[[Turn], Awaitable[list[Reply]]]

ROUTES: dict[str, Handler] = {
    "m": menu.show_menu,
    "help": menu.show_help,
    "about": info.show_about,
    "hrs": info.show_hours,
    "lang": account.choose_language,
    "priv": account.route_privacy,
    "consent": onboarding.answer_consent,
    "start": menu.show_menu,
    "bk": booking.route,
    "my": mybookings.route,
    "fb": feedback.route,
    "call": crisis.show_number,
    "cr": crisis.route,
    "wl": waitlist.route,
    "co": counselor.route,
    "ser": series.route,
    "hr": hr.show_kpis,
    "hrx": hr.export,
}
COMMANDS = {
    "/start": "start",
    "/menu": "m",
    "menu": "m",
    "選單": "m",
    "主選單": "m",
    "/help": "help",
    "help": "help",
    "說明": "help",
    "幫助": "help",
    "/about": "about",
    "/hours": "hrs",
    "/language": "lang",
    "/privacy": "priv",
    "/book": "bk",
    "/bookings": "my",
    "/feedback": "fb",
    "/kpi": "hr",
    "/export": "hrx",
    "預約": "bk",
    "時數": "hrs",
}
TEXT_STEPS: dict[tuple[str, str], Handler] = {
    (onboarding.FLOW, onboarding.ORG_CODE): onboarding.on_text,
    (onboarding.FLOW, onboarding.EMPLOYEE_NUMBER): onboarding.on_text,
    (booking.FLOW, booking.NOTE): booking.on_text,
    (feedback.FLOW, feedback.COMMENT): feedback.on_text,
}
# What someone may do before consenting, and after consenting but before linking (crisis help
# is everyone's).
BEFORE_CONSENT = {"help", "lang", "consent", "call", "cr"}
BEFORE_LINK = BEFORE_CONSENT | {"priv"}
# Routes of staff (counselor, HR) chats that are not employees.
STAFF_ROUTES = {"help", "lang", "call", "cr", "co", "m", "start", "hr", "hrx"}


def _parse(turn: Turn) -> str | None:
    """Return the route name of a payload or command and put its arguments on the turn."""
    if turn.inbound.payload:
        name, *turn.args = turn.inbound.payload.split(":")
        return name
    words = turn.text.split()
    if words and words[0].lower().split("@")[0] in COMMANDS:
        turn.args = words[1:]
        return COMMANDS[words[0].lower().split("@")[0]]
    return None


def not_understood(turn: Turn, fallback: list[Choice] | None = None) -> list[Reply]:
    """Say we did not understand and show the current step's choices again."""
    saved = turn.state.data.get("_choices") or []
    choices = from_payload({"replies": [{"key": "", "choices": saved}]})[0].choices
    return [Reply("not-understood", choices=choices or fallback or menu.main_choices())]


async def _staff_route(turn: Turn, name: str) -> list[Reply]:
    """Counselors and HR users who are not employees: their own menus only."""
    if name not in STAFF_ROUTES:
        own_menu = counselor.show_menu if turn.counselor else hr.show_menu
        return [Reply("error-not-allowed"), *await own_menu(turn)]
    if name in ("m", "start") and turn.counselor is not None:
        return await counselor.show_menu(turn)
    if name in ("m", "start") and turn.hr_user is not None:
        return await hr.show_menu(turn)
    return await ROUTES[name](turn)


async def _start(turn: Turn) -> list[Reply]:
    if turn.args and staff.looks_like_invite(turn.args[0]):
        return await staff.redeem(turn, turn.args[0])
    if turn.counselor is not None and turn.member is None:
        return await counselor.show_menu(turn)
    if turn.hr_user is not None and turn.member is None:
        return await hr.show_menu(turn)
    if turn.member is None:
        return await onboarding.greet(turn)
    if turn.member.roster_entry_id is None and turn.args:
        turn.args = ["yes", turn.locale, turn.args[0]]
        return await onboarding.answer_consent(turn)
    return await (
        menu.show_menu(turn) if turn.member.roster_entry_id else onboarding.ask_to_link(turn)
    )


async def route(turn: Turn) -> list[Reply]:
    """Pick and run the handler for this turn; a refusal is explained, with the menu."""
    try:
        async with turn.session.begin_nested():  # a refusal leaves nothing half-written
            return await _route(turn)
    except DomainError as err:  # e.g. someone else's booking id, or left the organisation
        turn.state.clear()
        if turn.member is None and turn.counselor is not None:
            return [Reply(err.message_key, **err.params), *await counselor.show_menu(turn)]
        return [
            Reply(err.message_key, **err.params),
            Reply("menu-main", choices=menu.main_choices()),
        ]


async def _route(turn: Turn) -> list[Reply]:
    """Pick the handler for this turn, enforcing consent and linking first."""
    name = _parse(turn)
    crisis_replies = await crisis.intercept(turn, name)  # the crisis conversation comes first
    if crisis_replies is not None:
        return crisis_replies
    if name == "start":
        return await _start(turn)
    if name is None:
        text_step = TEXT_STEPS.get((turn.state.flow, turn.state.step))
        if text_step is not None and turn.text:
            return await text_step(turn)
        if staff.looks_like_invite(turn.text):
            return await staff.redeem(turn, turn.text)
        if turn.member is None and turn.counselor is not None:
            return not_understood(turn, counselor.menu_choices())
        if turn.member is None:
            return await onboarding.greet(turn)
        if turn.member.roster_entry_id is None:
            return await onboarding.ask_to_link(turn)
        return not_understood(turn)
    if name not in ROUTES:
        return not_understood(turn)
    if turn.member is None and (turn.counselor or turn.hr_user):
        return await _staff_route(turn, name)
    if turn.member is None and name not in BEFORE_CONSENT:
        return await onboarding.greet(turn)
    if turn.member is not None and turn.member.roster_entry_id is None and name not in BEFORE_LINK:
        return await onboarding.ask_to_link(turn)
    return await ROUTES[name](turn)
