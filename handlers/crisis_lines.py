"""The vetted crisis lines and free programmes (crisis_lines.toml), and the replies showing them.

Every number the bot shows comes from the table; an organisation may add its own 24-hour line
(`organisation.crisis_line`), listed after the public 24-hour lines.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.types import Choice, Lines, Reply

TABLE = Path(__file__).with_name("crisis_lines.toml")
KINDS = ("self", "others-danger", "third-party")
TAIWAN = ZoneInfo("Asia/Taipei")  # the table's lines and end dates are Taiwan's


@dataclass(frozen=True)
class Line:
    """One phone line of the table."""

    id: str
    number: str
    name: dict[str, str]
    short: dict[str, str]
    hours: dict[str, str]
    always_open: bool
    languages: tuple[str, ...]
    audience: tuple[str, ...]
    sources: tuple[str, ...]
    checked: date
    until: date | None = None


@dataclass(frozen=True)
class Programme:
    """Free help that is not a phone line, shown with its website until it ends."""

    id: str
    name: dict[str, str]
    min_age: int
    max_age: int
    sessions_per_year: int
    since: date
    until: date | None
    url: str
    sources: tuple[str, ...]
    checked: date


@dataclass(frozen=True)
class Table:
    """The whole vetted table: lines by id, programmes, and which lines each kind sees."""

    lines: dict[str, Line]
    programmes: tuple[Programme, ...]
    show: dict[str, tuple[str, ...]]
    danger: dict[str, tuple[str, ...]]


def _line(raw: dict[str, Any]) -> Line:
    fields = {k: raw[k] for k in Line.__dataclass_fields__ if k in raw}
    for name in ("languages", "audience", "sources"):
        fields[name] = tuple(fields[name])
    return Line(**fields)


def _programme(raw: dict[str, Any]) -> Programme:
    fields = {k: raw.get(k) for k in Programme.__dataclass_fields__}
    return Programme(**{**fields, "sources": tuple(raw["sources"])})


@cache
def table(path: Path = TABLE) -> Table:
    """Read the table once."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    show = raw["show"]
    return Table(
        lines={line["id"]: _line(line) for line in raw["line"]},
        programmes=tuple(_programme(p) for p in raw.get("programme", [])),
        show={kind: tuple(show[kind]) for kind in KINDS},
        danger={kind: tuple(show["danger"][kind]) for kind in KINDS},
    )


def taiwan_date(now: datetime) -> date:
    """The date in Taiwan, against which the table's end dates are read."""
    return now.astimezone(TAIWAN).date()


def kind_of(kind: str) -> str:
    """A known kind of crisis; anything else is treated as the writer's own."""
    return kind if kind in KINDS else "self"


def lines_for(kind: str, *, on: date, danger: bool = False) -> list[Line]:
    """The lines a kind of crisis sees, in order (the `danger` list after 'I'm in danger')."""
    ids = (table().danger if danger else table().show)[kind_of(kind)]
    found = [table().lines[i] for i in ids]
    return [line for line in found if line.until is None or on <= line.until]


def always_open(kind: str, *, on: date) -> list[Line]:
    """The kind's 24-hour lines (for short reminders)."""
    return [line for line in lines_for(kind, on=on) if line.always_open][:1]


def primary() -> Line:
    """The first 24-hour line for someone at risk themselves (the LINE rich menu dials it)."""
    return next(line for line in lines_for("self", on=date.min) if line.always_open)


def programme(on: date) -> Programme | None:
    """The free public counseling programme running on that day, if any."""
    running = [
        p for p in table().programmes if p.since <= on and (p.until is None or on <= p.until)
    ]
    return running[0] if running else None


def numbers() -> set[str]:
    """Every number of the table."""
    return {line.number for line in table().lines.values()}


def dial(raw: str | None) -> str:
    """A configured number as dialled: digits, and a leading + (spaces and dashes dropped)."""
    text = (raw or "").strip()
    digits = re.sub(r"\D", "", text)
    return f"+{digits}" if text.startswith("+") and digits else digits


def _name(names: dict[str, str], locale: str) -> str:
    return names.get(locale) or names["zh-TW"]


def _after_always_open(lines: list[Line]) -> int:
    """Where the organisation's own 24-hour line goes: after the last public 24-hour line."""
    return max((i + 1 for i, line in enumerate(lines) if line.always_open), default=0)


def _entries(lines: list[Line], locale: str, org_line: str | None) -> Lines:
    """The lines as text, one per line, with a note in English when none speaks English."""
    items: list[tuple[str, dict[str, Any]]] = [
        (
            "crisis-line",
            {
                "name": _name(line.name, locale),
                "number": line.number,
                "hours": _name(line.hours, locale),
                "english": int("en" in line.languages),
            },
        )
        for line in lines
    ]
    at = _after_always_open(lines)
    if org_line:
        items.insert(at, ("crisis-line-org", {"number": org_line}))
    if locale == "en" and not any("en" in line.languages for line in lines):
        items.append(("crisis-no-english-org" if org_line else "crisis-no-english", {}))
    return Lines(items)


def _calls(lines: list[Line], locale: str, org_line: str | None) -> list[Choice]:
    """A tap-to-call button per line (LINE dials digits; other channels show the number)."""
    calls = [
        Choice(
            "crisis-call-line",
            f"call:{line.number}",
            {"name": _name(line.short, locale), "number": line.number},
        )
        for line in lines
    ]
    at = _after_always_open(lines)
    if org_line:
        calls.insert(at, Choice("crisis-call-org", f"call:{dial(org_line)}", {"number": org_line}))
    return calls


def lines_reply(
    key: str,
    lines: list[Line],
    locale: str,
    *,
    org_line: str | None = None,
    calls: bool = True,
    **params: Any,
) -> Reply:
    """A message listing the lines (number, name, hours), with a tap-to-call button for each."""
    own = (org_line or "").strip()[:40] if dial(org_line) else None
    choices = _calls(lines, locale, own) if calls else []
    return Reply(key, lines=_entries(lines, locale, own), choices=choices, **params)


def programme_reply(locale: str, on: date) -> list[Reply]:
    """The free public counseling programme, while it runs (nothing once it has ended)."""
    found = programme(on)
    if found is None:
        return []
    return [
        Reply(
            "crisis-programme",
            name=_name(found.name, locale),
            min_age=found.min_age,
            max_age=found.max_age,
            sessions=found.sessions_per_year,
            url=found.url,
        )
    ]
