"""Linking a counselor's or HR user's chat with a one-time invite code."""

from __future__ import annotations

import re

from handlers import counselor as counselor_menu
from handlers import hr as hr_menu
from handlers.types import Reply, Turn
from storage import staff
from storage.errors import InvalidInvite
from storage.models import Counselor

INVITE_PATTERN = re.compile(r"^[A-HJ-NP-Z2-9]{10}$")


def looks_like_invite(text: str) -> bool:
    """Whether text has the shape of a one-time invite code."""
    return bool(INVITE_PATTERN.match(text.strip().upper()))


async def redeem(turn: Turn, code: str) -> list[Reply]:
    """Link this chat to the invite's counselor or HR user."""
    try:
        linked = await staff.redeem(
            turn.session,
            code=code,
            channel=turn.inbound.channel,
            external_id=turn.inbound.user_id,
            locale=turn.locale,
            now=turn.now,
        )
    except InvalidInvite as err:
        return [Reply(err.message_key)]
    turn.state.clear()
    if isinstance(linked, Counselor):
        turn.counselor = linked
        return [Reply("counselor-linked"), *await counselor_menu.show_menu(turn)]
    turn.hr_user = linked
    return [Reply("hr-linked", name=linked.display_name), *await hr_menu.show_menu(turn)]
