"""Language, privacy and "forget me".

Payloads: lang | lang:LOCALE | priv | priv:forget | priv:forget:yes
"""

from __future__ import annotations

from handlers import counselor, hr, notify, waitlist
from handlers.menu import main_choices
from handlers.onboarding import privacy_notice
from handlers.types import Choice, Reply, Turn
from storage import bookings, members, outbox, staff

LANGUAGES = (("zh-TW", "language-zh-TW"), ("en", "language-en"))
FORGOTTEN = "forget-done"  # the answer to a confirmed "forget me" (kept until sent only)


async def choose_language(turn: Turn) -> list[Reply]:
    """Offer the languages, or switch to the one chosen."""
    if not turn.args:
        return [
            Reply(
                "language-choose",
                choices=[Choice(label, f"lang:{code}") for code, label in LANGUAGES],
            )
        ]
    code = turn.args[0]
    if code not in dict(LANGUAGES):
        return [
            Reply(
                "language-choose", choices=[Choice(label, f"lang:{c}") for c, label in LANGUAGES]
            )
        ]
    turn.locale = code
    person = turn.counselor or turn.hr_user
    if turn.member is None and person is not None:  # staff: their own language and menu
        await staff.set_locale(turn.session, person, code)
        own_menu = counselor.show_menu if turn.counselor else hr.show_menu
        return [Reply("language-set"), *await own_menu(turn)]
    if turn.member is None:
        return [privacy_notice(code)]
    await members.set_locale(turn.session, turn.member, code)
    return [Reply("language-set"), Reply("menu-main", choices=main_choices())]


async def show_privacy(turn: Turn) -> list[Reply]:
    """Say what is kept and who sees what, and offer to forget the member."""
    return [
        Reply(
            "privacy-details",
            choices=[Choice("privacy-forget", "priv:forget"), Choice("menu-back", "m")],
        )
    ]


async def forget_me(turn: Turn) -> list[Reply]:
    """Ask for confirmation, then delete the member's link, ids, notes and comments."""
    if turn.member is None:
        return [privacy_notice(turn.locale)]
    if turn.args[:2] != ["forget", "yes"]:
        return [
            Reply(
                "forget-confirm",
                choices=[Choice("forget-yes", "priv:forget:yes"), Choice("forget-no", "m")],
            )
        ]
    for booking in await bookings.upcoming(turn.session, member=turn.member, now=turn.now):
        await bookings.cancel(
            turn.session, member=turn.member, booking_id=booking.id, now=turn.now
        )
        await notify.cancelled(turn.session, turn.pseudonym_key, booking, turn.now)
        await waitlist.offer_freed_slot(turn.session, booking.slot_id, turn.now)
    mine = await bookings.of_member(turn.session, member=turn.member)
    await outbox.scrub_keys(
        turn.session, [f"notify-new:{b.id}" for b in mine], drop_key="counselor-note"
    )
    await outbox.drop_for_recipient(
        turn.session, channel=turn.inbound.channel, recipient=turn.inbound.user_id
    )
    await members.forget(turn.session, turn.member)
    turn.member = None
    turn.state.clear()
    return [Reply(FORGOTTEN)]


async def route_privacy(turn: Turn) -> list[Reply]:
    """Dispatch the privacy menu's buttons."""
    if turn.args and turn.args[0] == "forget":
        return await forget_me(turn)
    return await show_privacy(turn)
