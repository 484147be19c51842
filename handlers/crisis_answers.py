"""Answers in the crisis conversation, typed or tapped; anything unclear is asked again.

Typed text never leaves the crisis conversation except a menu command; a button of another
flow leaves it (back to that flow when it is the one interrupted). Nothing typed here becomes
a note, a code or any other field of the interrupted step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers import crisis_flow, crisis_handoff, crisis_talk, crisis_words
from handlers.crisis_flow import ASK, DANGER, NUMBER, SAFE, TALK
from handlers.types import Choice, Reply, Turn, from_payload

# The question of an interrupted typing step, asked again when the person goes back to it.
PROMPTS = {
    ("bk", "note"): "book-ask-note",
    ("link", "org_code"): "link-ask-org",
    ("link", "employee_number"): "link-ask-employee-number",
    ("fb", "comment"): "feedback-ask-comment",
}


def _prompt(resume: dict[str, Any]) -> list[Reply]:
    """The typing step's question (the linking step asks for the enrolment code second)."""
    key = PROMPTS.get((resume["flow"], resume["step"]))
    if key == "link-ask-employee-number" and "employee" in resume["data"]:
        key = "link-ask-enrolment-code"
    return [Reply(key)] if key else []


def _saved_choices(data: dict[str, Any]) -> list[Choice]:
    """The buttons the current (or resumed) step showed last."""
    saved = data.get("_choices") or []
    return from_payload({"replies": [{"key": "", "choices": saved}]})[0].choices


async def ask(turn: Turn, kind: str, *, again: bool = False) -> list[Reply]:
    """The kind's lines with call buttons first, then "are you safe?" with the answers."""
    crisis_flow.enter(turn, kind, ASK)
    key = "crisis-lines-again" if again else f"crisis-lines-{kind}"
    return [
        await crisis_flow.lines(turn, key, kind),
        Reply("crisis-ask", kind=kind, choices=crisis_flow.answers(turn, kind)),
    ]


async def in_danger(turn: Turn, kind: str) -> list[Reply]:
    """The emergency lines for the kind, then (if set up) the offer to tell the on-call."""
    crisis_flow.enter(turn, kind, DANGER)
    lines = await crisis_flow.lines(turn, "crisis-danger", kind, danger=True)
    offer = await crisis_handoff.offer(turn, kind)
    later = [Reply("crisis-danger-next", choices=crisis_flow.answers(turn, kind, danger=False))]
    return [lines, *(offer or later)]


async def wants_to_talk(turn: Turn, kind: str) -> list[Reply]:
    """The earliest session, or why there is none, with the lines."""
    crisis_flow.enter(turn, kind, TALK)
    return await crisis_talk.offer(turn, kind)


async def is_safe(turn: Turn, kind: str) -> list[Reply]:
    """Glad to hear it; a 24-hour line stays visible; back to what was interrupted, or menu."""
    if not crisis_flow.active(turn):  # a check-in's button: the current step goes on
        reply = await crisis_flow.lines(turn, "crisis-safe", kind, short=True)
        reply.choices = _saved_choices(turn.state.data)
        return [reply]
    turn.state.step = SAFE
    back = [Choice("crisis-back", "cr:back")] if crisis_flow.resume_of(turn) else []
    reply = await crisis_flow.lines(turn, "crisis-safe", kind, short=True)
    reply.choices = [*back, Choice("crisis-answer-talk", "cr:t"), Choice("menu-back", "m")]
    return [reply]


async def back(turn: Turn) -> list[Reply]:
    """Return to the interrupted step, with its buttons and, for typing steps, its question."""
    resume = crisis_flow.resume_of(turn)
    if not resume:
        if crisis_flow.active(turn):
            turn.state.clear()
        return [Reply("crisis-back-none", choices=[Choice("menu-back", "m")])]
    crisis_flow.leave(turn, restore=True)
    return [Reply("crisis-back-done", choices=_saved_choices(turn.state.data)), *_prompt(resume)]


ANSWERS: dict[str, Callable[[Turn, str], Awaitable[list[Reply]]]] = {
    crisis_words.DANGER: in_danger,
    crisis_words.TALK: wants_to_talk,
    crisis_words.SAFE: is_safe,
}


async def not_sure(turn: Turn, kind: str) -> list[Reply]:
    """Unclear text: never read as safe; the lines and the question again."""
    if turn.state.step != NUMBER:
        return await ask(turn, kind, again=True)
    return [
        await crisis_flow.lines(turn, "crisis-number-invalid", kind, danger=True),
        Reply("crisis-ask", kind=kind, choices=crisis_flow.answers(turn, kind)),
    ]


async def intercept(turn: Turn, route: str | None) -> list[Reply] | None:
    """Answer a turn of the crisis conversation; None (state released) when it is not ours."""
    if not crisis_flow.active(turn) or route in ("cr", "call"):
        return None
    if turn.inbound.payload:
        resume = crisis_flow.resume_of(turn)
        crisis_flow.leave(turn, restore=bool(resume) and resume["flow"] == route)
        return None
    kind = crisis_flow.kind_of(turn)
    said = crisis_words.answer(turn.text)
    if said is not None:
        return await ANSWERS[said](turn, kind)
    if route is not None:  # a typed command such as "menu": the person chose to move on
        crisis_flow.leave(turn, restore=False)
        return None
    if turn.state.step == NUMBER and (number := crisis_words.phone(turn.text)):
        return await crisis_handoff.callback(turn, number)
    return await not_sure(turn, kind)
