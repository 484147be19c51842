"""A calendar file for a booking, with a neutral title that reveals neither EAP nor domain."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.types import Attachment


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def booking_ics(
    *, uid: str, start: datetime, end: datetime, title: str, now: datetime
) -> Attachment:
    """An RFC 5545 event; the title is neutral and nothing else is said."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//eap-bot//EN",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
        f"SUMMARY:{title}",
        "CLASS:PRIVATE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return Attachment("appointment.ics", "text/calendar", ("\r\n".join(lines) + "\r\n").encode())
