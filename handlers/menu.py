"""The main menu and help, always reachable.

Payloads: m | help
"""

from __future__ import annotations

from handlers.types import Choice, Reply, Turn

MAIN_CHOICES = (
    ("menu-about", "about"),
    ("menu-hours", "hrs"),
    ("menu-book", "bk"),
    ("menu-my-bookings", "my"),
    ("menu-feedback", "fb"),
    ("menu-language", "lang"),
    ("menu-privacy", "priv"),
    ("menu-help", "help"),
)


def main_choices() -> list[Choice]:
    """The main menu's buttons."""
    return [Choice(label, payload) for label, payload in MAIN_CHOICES]


async def show_menu(turn: Turn) -> list[Reply]:
    """Show the main menu and leave any flow."""
    turn.state.clear()
    return [Reply("menu-main", choices=main_choices())]


async def show_help(turn: Turn) -> list[Reply]:
    """Explain how to use the bot, with the menu."""
    return [Reply("help-text", choices=main_choices())]
