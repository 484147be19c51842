"""First contact: privacy notice and consent, then linking to the employer's roster.

Flow (states as named constants): NOTICE -> consent -> ORG_CODE -> EMPLOYEE_NUMBER (then the
enrolment code) -> linked; the linking steps live in handlers/linking.py.
Payloads: consent:yes:LOCALE | consent:yes:LOCALE:ORG | consent:no | consent:review
"""

from __future__ import annotations

from handlers import crisis_lines, linking
from handlers.linking import EMPLOYEE_NUMBER as EMPLOYEE_NUMBER
from handlers.linking import FLOW, ORG_CODE
from handlers.menu import main_choices
from handlers.types import Choice, Reply, Turn
from storage import members

SUPPORTED_LOCALES = ("zh-TW", "en")


def privacy_notice(locale: str, org_code: str | None = None) -> Reply:
    """The notice shown before anything is stored; consent carries language and deep-link code."""
    accept = f"consent:yes:{locale}" + (f":{org_code}" if org_code else "")
    return Reply(
        "privacy-notice",
        choices=[
            Choice("consent-yes", accept),
            Choice("consent-no", "consent:no"),
            Choice("menu-language", "lang"),
        ],
    )


async def greet(turn: Turn) -> list[Reply]:
    """Show the privacy notice to someone we do not know yet."""
    code = turn.args[0] if turn.args else None
    if code and not code.isalnum():
        code = None
    return [privacy_notice(turn.locale, code[:20] if code else None)]


def _lines_for_everyone(turn: Turn) -> Reply:
    """The crisis lines, which need no consent and no account."""
    shown = crisis_lines.lines_for("self", on=crisis_lines.taiwan_date(turn.now))
    return crisis_lines.lines_reply("crisis-lines-declined", shown, turn.locale)


async def answer_consent(turn: Turn) -> list[Reply]:
    """Store consent and ask for the organisation code (or use the deep-link code)."""
    if turn.args[:1] == ["review"]:
        return [privacy_notice(turn.locale)]
    if not turn.args or turn.args[0] != "yes":
        turn.state.clear()
        return [
            Reply("consent-declined", choices=[Choice("consent-review", "consent:review")]),
            _lines_for_everyone(turn),
        ]
    if len(turn.args) > 1 and turn.args[1] in SUPPORTED_LOCALES:
        turn.locale = turn.args[1]
    turn.member = await members.consent(
        turn.session,
        channel=turn.inbound.channel,
        external_id=turn.inbound.user_id,
        locale=turn.locale,
        now=turn.now,
    )
    if turn.member.roster_entry_id is not None:
        return [Reply("menu-main", choices=main_choices())]
    if len(turn.args) > 2:
        return await _accept_org_code(turn, turn.args[2])
    turn.state.go(FLOW, ORG_CODE)
    return [Reply("link-ask-org")]


async def ask_to_link(turn: Turn) -> list[Reply]:
    """Remind a consented but unlinked member to link before using the EAP."""
    turn.state.go(FLOW, ORG_CODE)
    return [Reply("link-required"), Reply("link-ask-org")]


async def _accept_org_code(turn: Turn, code: str) -> list[Reply]:
    """Take the organisation code (typed, or from the deep link) without checking it yet."""
    return await linking.take_org_code(turn, code)


async def on_text(turn: Turn) -> list[Reply]:
    """Take the organisation code, employee number or enrolment code the member typed."""
    if turn.member is None:
        return [privacy_notice(turn.locale)]
    return await linking.on_text(turn)
