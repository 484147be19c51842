"""Feedback after a session: satisfaction 1-5, resolved, would use again, optional comment.

Payloads: fb | fb:s:ID:N | fb:r:ID:yes|partly|no | fb:a:ID:yes|no | fb:x
"""

from __future__ import annotations

from handlers.menu import main_choices
from handlers.types import Choice, Key, Reply, Turn
from storage import feedback
from storage.errors import DomainError
from storage.models import Feedback

FLOW = "fb"
COMMENT = "comment"


def prompt(row: Feedback) -> Reply:
    """The first question of a feedback prompt."""
    return Reply(
        "feedback-ask-satisfaction",
        domain=Key(f"domain-{row.domain.value}"),
        choices=[Choice(f"feedback-score-{n}", f"fb:s:{row.id}:{n}") for n in range(5, 0, -1)],
    )


async def show_pending(turn: Turn) -> list[Reply]:
    """Show the oldest unanswered prompt, or say there is none."""
    assert turn.member is not None
    waiting = await feedback.pending(turn.session, member=turn.member, now=turn.now)
    if not waiting:
        return [Reply("feedback-none", choices=main_choices())]
    return [prompt(waiting[0])]


async def _next_question(turn: Turn, question: str, row_id: int) -> list[Reply]:
    if question == "satisfaction":
        return [
            Reply(
                "feedback-ask-resolved",
                choices=[
                    Choice(f"feedback-resolved-{v}", f"fb:r:{row_id}:{v}")
                    for v in feedback.RESOLVED
                ],
            )
        ]
    if question == "resolved":
        return [
            Reply(
                "feedback-ask-again",
                choices=[
                    Choice("feedback-again-yes", f"fb:a:{row_id}:yes"),
                    Choice("feedback-again-no", f"fb:a:{row_id}:no"),
                ],
            )
        ]
    turn.state.go(FLOW, COMMENT, id=row_id)
    return [Reply("feedback-ask-comment", choices=[Choice("feedback-skip-comment", "fb:x")])]


async def route(turn: Turn) -> list[Reply]:
    """Record one answer and ask the next question."""
    assert turn.member is not None
    args = turn.args
    if args[:1] == ["x"]:
        turn.state.clear()
        return [Reply("feedback-thanks", choices=main_choices())]
    questions = {"s": "satisfaction", "r": "resolved", "a": "again"}
    if len(args) < 3 or args[0] not in questions or not args[1].isdigit():
        return await show_pending(turn)
    question, row_id = questions[args[0]], int(args[1])
    try:
        await feedback.answer(
            turn.session,
            member=turn.member,
            feedback_id=row_id,
            question=question,
            value=args[2],
            now=turn.now,
        )
    except DomainError as err:
        return [Reply(err.message_key, **err.params), *await show_pending(turn)]
    return await _next_question(turn, question, row_id)


async def on_text(turn: Turn) -> list[Reply]:
    """Take the optional comment."""
    assert turn.member is not None
    row_id = int(turn.state.data.get("id", 0))
    turn.state.clear()
    try:
        await feedback.answer(
            turn.session,
            member=turn.member,
            feedback_id=row_id,
            question="comment",
            value=turn.text,
            now=turn.now,
        )
    except DomainError as err:
        return [Reply(err.message_key, **err.params), Reply("menu-main", choices=main_choices())]
    return [Reply("feedback-thanks", choices=main_choices())]
