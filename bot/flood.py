"""Flood control: a per-chat sliding window; one polite warning, then quiet until it clears."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    """What to do with a message."""

    OK = "ok"
    WARN = "warn"
    DROP = "drop"


class FloodGuard:
    """Allows `limit` messages per `window` seconds per chat; others are not slowed."""

    def __init__(
        self, limit: int = 20, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Set the limit and the window."""
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._warned: set[tuple[str, str]] = set()
        self._swept = clock()

    def check(self, channel: str, user_id: str) -> Verdict:
        """Count one message and say whether it may pass."""
        key, now = (channel, user_id), self.clock()
        if now - self._swept >= self.window:  # else every chat ever seen stays in memory
            self.forget_idle()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._warned.discard(key)
            return Verdict.OK
        if key in self._warned:
            return Verdict.DROP
        self._warned.add(key)
        return Verdict.WARN

    def forget_idle(self) -> None:
        """Drop chats whose window is empty (keeps memory flat)."""
        now = self._swept = self.clock()
        for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window]:
            self._seen.pop(key, None)
            self._warned.discard(key)
