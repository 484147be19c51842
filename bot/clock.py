"""The only place that reads the wall clock; everything below `bot/` is handed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ClockError(ValueError):
    """A time or a jump that cannot be read, or a database where the clock may not be set."""


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class ShiftedClock:
    """A clock that starts at a chosen instant and then runs with real time (demo and jobs)."""

    def __init__(self, start: datetime) -> None:
        """Start at `start` (timezone-aware) now."""
        if start.tzinfo is None:
            raise ValueError("the start of a shifted clock needs a time zone")
        self._offset = start - utcnow()

    def __call__(self) -> datetime:
        """Return the shifted current time."""
        return utcnow() + self._offset

    def jump(self, delta: timedelta) -> None:
        """Move the clock forward by `delta` (never back)."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
