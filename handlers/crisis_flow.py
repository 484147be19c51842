"""The crisis conversation's state: entered from any step, left only when the person chooses.

Steps (named constants): ASK -> DANGER -> NUMBER, or TALK, or SAFE. The interrupted flow, step
and data wait under `resume` until the person taps "back to what I was doing" (or presses a
button of that flow); nothing typed meanwhile reaches them. Diagram: crisis_flow.mmd.
"""

from __future__ import annotations

from typing import Any

from handlers import crisis_lines
from handlers.types import Choice, Reply, Turn
from storage.models import Organisation

FLOW = "crisis"
ASK, DANGER, NUMBER, TALK, SAFE = "ask", "danger", "number", "talk", "safe"
CODES = {"self": "s", "others-danger": "o", "third-party": "t"}  # kinds in 64-byte payloads
KINDS = {code: kind for kind, code in CODES.items()}


def active(turn: Turn) -> bool:
    """Whether the chat is in the crisis conversation."""
    return turn.state.flow == FLOW


def kind_of(turn: Turn, code: str | None = None) -> str:
    """The kind of crisis: from a button's code, else the conversation's, else the writer's."""
    if code in KINDS:
        return KINDS[code]
    return str(turn.state.data.get("kind", "self")) if active(turn) else "self"


def enter(turn: Turn, kind: str, step: str = ASK) -> None:
    """Go to a crisis step, keeping what was interrupted (once, however often it is entered)."""
    state = turn.state
    if state.flow == FLOW:
        state.step, state.data["kind"] = step, crisis_lines.kind_of(kind)
        return
    resume = {"flow": state.flow, "step": state.step, "data": state.data} if state.flow else None
    state.go(FLOW, step, kind=crisis_lines.kind_of(kind), resume=resume)


def resume_of(turn: Turn) -> dict[str, Any] | None:
    """What the crisis interrupted, if anything."""
    return turn.state.data.get("resume") if active(turn) else None


def leave(turn: Turn, *, restore: bool) -> None:
    """Leave the crisis conversation: back to what it interrupted, or to no flow at all."""
    resume = resume_of(turn)
    turn.state.clear()
    if restore and resume:
        turn.state.flow, turn.state.step = resume["flow"], resume["step"]
        turn.state.data = dict(resume["data"])


def buttons(kind: str, *, talk: bool = True, danger: bool = True) -> list[Choice]:
    """The answer buttons: I'm in danger now / I want to talk to someone / I'm OK."""
    code = CODES[crisis_lines.kind_of(kind)]
    found = [Choice("crisis-answer-danger", f"cr:d:{code}")] if danger else []
    found += [Choice("crisis-answer-talk", f"cr:t:{code}")] if talk else []
    return [*found, Choice("crisis-answer-safe", f"cr:ok:{code}")]


def answers(turn: Turn, kind: str, *, talk: bool = True, danger: bool = True) -> list[Choice]:
    """The answer buttons, and "back to what I was doing" when something was interrupted."""
    back = [Choice("crisis-back", "cr:back")] if resume_of(turn) else []
    return [*buttons(kind, talk=talk, danger=danger), *back]


async def organisation(turn: Turn) -> Organisation | None:
    """The organisation of whoever is writing (employee, counselor or HR), if known."""
    person = turn.member or turn.counselor or turn.hr_user
    org_id = getattr(person, "organisation_id", None)
    return await turn.session.get(Organisation, org_id) if org_id else None


async def lines(
    turn: Turn, key: str, kind: str, *, danger: bool = False, short: bool = False, **params: Any
) -> Reply:
    """A message with the kind's lines and call buttons; `short`: one 24-hour line, no buttons."""
    org = await organisation(turn)
    on = crisis_lines.taiwan_date(turn.now)
    shown = crisis_lines.lines_for(kind, on=on, danger=danger)
    if short:
        shown = crisis_lines.always_open(kind, on=on)
    return crisis_lines.lines_reply(
        key,
        shown,
        turn.locale,
        org_line=org.crisis_line if org else None,
        calls=not short,
        **params,
    )
