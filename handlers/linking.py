"""Linking a consented chat to the roster: organisation code, employee number, enrolment code.

Nothing is checked until all three are in, and every failure gets the same answer (REFUSED),
so the dialog never tells who is a client, who is on a roster, who left or who uses the EAP.
A recovery code typed instead of the enrolment code moves the link here from another chat.

The router knows two text steps: ORG_CODE, and EMPLOYEE_NUMBER, which also takes the
enrolment code once the employee number (kept only as its keyed hash) is in the state.
"""

from __future__ import annotations

import logging

from handlers import notify
from handlers.menu import main_choices
from handlers.types import Reply, Turn, to_payload
from storage import linking, outbox
from storage.errors import TooManyAttempts
from storage.pseudonyms import employee_hash

FLOW = "link"
ORG_CODE = "org_code"
EMPLOYEE_NUMBER = "employee_number"
MAX_INPUT = 40
REFUSED = "link-refused"  # the one answer to every failed attempt
log = logging.getLogger(__name__)


def _account(turn: Turn) -> str:
    return linking.account_hash(turn.pseudonym_key, turn.inbound.channel, turn.inbound.user_id)


async def take_org_code(turn: Turn, code: str) -> list[Reply]:
    """Keep the organisation code unchecked (alone, it would tell who is a client)."""
    turn.state.clear()
    try:
        await linking.check_account(turn.session, _account(turn), turn.now)
    except TooManyAttempts as err:
        return [Reply(err.message_key, **err.params)]
    turn.state.go(FLOW, EMPLOYEE_NUMBER, org=code.strip().upper()[:MAX_INPUT])
    return [Reply("link-ask-employee-number")]


def take_employee_number(turn: Turn) -> list[Reply]:
    """Keep the employee number as its keyed hash and ask for the enrolment code."""
    org = str(turn.state.data.get("org", ""))
    digest = employee_hash(turn.pseudonym_key, org, turn.text[:MAX_INPUT])
    turn.state.go(FLOW, EMPLOYEE_NUMBER, employee=digest)
    return [Reply("link-ask-enrolment-code")]


async def take_code(turn: Turn) -> list[Reply]:
    """Check the three together: link (showing a recovery code once), or refuse alike."""
    assert turn.member is not None
    data = turn.state.data
    claim = linking.Claim(str(data.get("org", "")), str(data.get("employee", "")), turn.text)
    turn.state.clear()
    try:
        outcome = await linking.link(
            turn.session, member=turn.member, claim=claim, key=turn.pseudonym_key, now=turn.now
        )
    except TooManyAttempts as err:
        return [Reply(err.message_key, **err.params)]
    if outcome.linked is None:
        await _refused(turn, outcome)
        turn.state.go(FLOW, ORG_CODE)
        return [Reply(REFUSED), Reply("link-ask-org")]
    turn.member, turn.locale = outcome.linked, outcome.linked.locale
    await _tell_former_chat(turn, outcome.moved_from)
    return [
        Reply("link-done", recovery=outcome.recovery_code),
        Reply("menu-main", choices=main_choices()),
    ]


async def on_text(turn: Turn) -> list[Reply]:
    """Take whichever of the three the member is asked for."""
    if turn.state.step == ORG_CODE:
        return await take_org_code(turn, turn.text)
    if "employee" not in turn.state.data:
        return take_employee_number(turn)
    return await take_code(turn)


async def _refused(turn: Turn, outcome: linking.Outcome) -> None:
    """Warn the chat whose spent code was tried; raise the provider's burst alert."""
    if outcome.warn is not None:
        hour = turn.now.strftime("%Y%m%d%H")
        key = f"link-tried:{outcome.warn.id}:{hour}"  # one warning an hour is enough
        await notify.to_chat(
            turn.session, outcome.warn, [Reply("link-someone-tried")], key, turn.now
        )
    if outcome.burst:
        log.warning("burst of failed link attempts against one organisation (see audit log)")


async def _tell_former_chat(turn: Turn, former: linking.FormerChat | None) -> None:
    """Tell the chat the link moved away from (its id is dropped once the message is sent)."""
    if former is None or former.stopped:
        return
    await outbox.enqueue(
        turn.session,
        channel=former.channel,
        recipient=former.external_id,
        locale=former.locale,
        payload=to_payload([Reply("link-moved-away")]),
        key=outbox.forget_key(),
        now=turn.now,
    )
