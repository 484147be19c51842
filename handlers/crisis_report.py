"""The provider's monthly crisis report: episode counts per organisation and the protocol.

Render each reply with bot.i18n.render and join them with blank lines for plain text.
"""

from __future__ import annotations

from handlers.crisis_handoff import MINUTES
from handlers.crisis_lines import table
from handlers.types import Lines, Reply
from storage.crisis import MonthlyReport


def report_replies(report: MonthlyReport, locale: str) -> list[Reply]:
    """Counts only (no person in them), then how the bot handles a crisis and its lines."""
    name = "zh-TW" if locale == "zh-TW" else "en"
    lines = Lines(
        (
            "crisis-report-line",
            {"name": line.name[name], "number": line.number, "checked": line.checked},
        )
        for line in table().lines.values()
    )
    return [
        Reply("crisis-report-title", month=f"{report.month:%Y-%m}"),
        *[
            Reply(
                "crisis-report-org",
                organisation=row.name,
                code=row.code,
                episodes=row.episodes,
                alerts=row.alerts,
                acknowledged=row.acknowledged_in_time,
                minutes=MINUTES,
            )
            for row in report.organisations
        ],
        Reply("crisis-report-total", episodes=report.episodes),
        Reply("crisis-report-protocol", minutes=MINUTES, lines=lines),
    ]
