"""About the EAP and the employee's hours.

Payloads: about | hrs
"""

from __future__ import annotations

from handlers.menu import main_choices
from handlers.types import Choice, Key, Reply, Turn
from storage import hours, members, orgs


def hours_text(minutes: int) -> float:
    """Minutes as hours for display (e.g. 90 -> 1.5)."""
    return round(minutes / 60, 2)


async def show_about(turn: Turn) -> list[Reply]:
    """Explain what each enabled domain helps with, modes, cost and confidentiality."""
    assert turn.member is not None and turn.member.organisation_id is not None
    org = await orgs.by_id(turn.session, turn.member.organisation_id)
    await members.record_activity(turn.session, turn.member, "viewed_services", turn.now)
    replies = [Reply("about-intro", organisation=org.name)]
    replies += [
        Reply("about-domain", domain=Key(f"domain-{d.value}"), helps=Key(f"about-helps-{d.value}"))
        for d in org.domains
    ]
    replies.append(Reply("about-modes-cost"))
    if org.crisis_line:
        replies.append(Reply("about-org-line", phone=org.crisis_line))
    replies.append(
        Reply("about-confidential", choices=[Choice("menu-book", "bk"), Choice("menu-back", "m")])
    )
    return replies


async def show_hours(turn: Turn) -> list[Reply]:
    """Tell the employee their allotment, used, reserved and left hours, by domain."""
    assert turn.member is not None and turn.member.organisation_id is not None
    org = await orgs.by_id(turn.session, turn.member.organisation_id)
    today = orgs.local_date(org, turn.now)
    balance = await hours.balance(
        turn.session, org=org, member=turn.member, on=today, now=turn.now
    )
    await members.record_activity(turn.session, turn.member, "checked_hours", turn.now)
    replies = [
        Reply(
            "hours-summary",
            granted=hours_text(balance.granted),
            used=hours_text(balance.used),
            reserved=hours_text(balance.reserved),
            left=hours_text(balance.left),
            resets=balance.year_end,
        )
    ]
    for domain, cell in sorted(balance.by_domain.items()):
        replies.append(
            Reply(
                "hours-domain",
                domain=Key(f"domain-{domain}"),
                used=hours_text(cell["used"]),
                reserved=hours_text(cell["reserved"]),
            )
        )
    replies[-1].choices = main_choices()
    return replies
