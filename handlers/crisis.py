"""After the screen: the crisis reply, the gentle check-in, the answer buttons, tap-to-call.

The dispatcher calls `respond` for a crisis verdict and `check_in` for a concern; the router
sends every turn of the crisis conversation to `crisis_answers.intercept` and `cr:` buttons
here. Lines come from the vetted table only (crisis_lines.toml).

Payloads: call:NUMBER | cr:d[:KIND] | cr:t[:KIND] | cr:ok[:KIND] | cr:a[:KIND] | cr:back
"""

from __future__ import annotations

from typing import Protocol

from handlers import crisis_answers, crisis_flow, crisis_handoff, crisis_lines, crisis_words
from handlers.crisis_answers import intercept
from handlers.crisis_flow import FLOW
from handlers.types import Reply, Turn
from storage import crisis
from storage.pseudonyms import keyed_hash

__all__ = ["FLOW", "Verdict", "check_in", "intercept", "respond", "route", "show_number"]


class Verdict(Protocol):
    """What the screen decided: tier crisis, concern or none; kind of crisis."""

    @property
    def tier(self) -> str:
        """crisis, concern or none."""
        ...

    @property
    def kind(self) -> str:
        """self, others-danger, third-party or none."""
        ...


async def respond(turn: Turn, verdict: Verdict | None = None) -> list[Reply]:
    """Record the event (no words), show the kind's lines, ask whether they are safe."""
    was_in_crisis = crisis_flow.active(turn)
    await crisis.record(
        turn.session,
        channel=turn.inbound.channel,
        locale=turn.locale,
        member=turn.member,
        now=turn.now,
    )
    kind = crisis_lines.kind_of(verdict.kind if verdict else "self")
    if was_in_crisis and crisis_words.answer(turn.text) == crisis_words.DANGER:
        return await crisis_answers.in_danger(turn, kind)
    return await crisis_answers.ask(turn, kind)


async def check_in(turn: Turn, verdict: Verdict, replies: list[Reply]) -> list[Reply]:
    """Add a short check-in before the step's own replies, at most once per chat in 30 min."""
    if crisis_flow.active(turn):
        return replies
    chat = keyed_hash(
        turn.pseudonym_key, "crisis-check-in", turn.inbound.channel, turn.inbound.user_id
    )
    if not await crisis.check_in_due(turn.session, chat_hash=chat, now=turn.now):
        return replies
    kind = crisis_lines.kind_of(verdict.kind)
    note = await crisis_flow.lines(turn, "crisis-check-in", kind, short=True)
    note.choices = crisis_flow.buttons(kind)
    return [note, *replies]


async def route(turn: Turn) -> list[Reply]:
    """The answer buttons: in danger, want to talk, OK, tell the on-call, back."""
    action = turn.args[0] if turn.args else ""
    kind = crisis_flow.kind_of(turn, turn.args[1] if len(turn.args) > 1 else None)
    if action == "back":
        return await crisis_answers.back(turn)
    if action == "a":
        return await crisis_handoff.consent(turn, kind)
    handler = {"d": crisis_answers.in_danger, "t": crisis_answers.wants_to_talk}.get(action)
    if handler is not None:
        return await handler(turn, kind)
    if action == "ok":
        return await crisis_answers.is_safe(turn, kind)
    return await crisis_answers.ask(turn, kind)


async def show_number(turn: Turn) -> list[Reply]:
    """Show one line's number to tap or dial (only the table's, or the organisation's own)."""
    org = await crisis_flow.organisation(turn)
    known = crisis_lines.numbers() | {crisis_lines.dial(org.crisis_line if org else None)}
    number = turn.args[0] if turn.args and turn.args[0] in known - {""} else None
    answers = (
        crisis_flow.answers(turn, crisis_flow.kind_of(turn)) if crisis_flow.active(turn) else []
    )
    return [Reply("crisis-call", number=number or crisis_lines.primary().number, choices=answers)]
