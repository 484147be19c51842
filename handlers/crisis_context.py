"""A chat's last few texts, kept briefly in memory so the crisis screen can read them together.

Process memory only: at most `max_messages` texts from the last `window` per chat, for at most
`max_chats` chats (the least recently active are dropped first). Nothing is written anywhere,
so the texts are lost on restart and not shared between processes. Callers forget a chat on
"forget me" and after a crisis verdict.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta


class RecentTexts:
    """The recent texts of each chat, bounded in count, age and number of chats."""

    def __init__(
        self,
        max_messages: int = 4,
        window: timedelta = timedelta(minutes=5),
        *,
        max_chats: int = 10_000,
    ) -> None:
        if max_messages < 1 or max_chats < 1 or window <= timedelta(0):
            raise ValueError("max_messages, max_chats and window must be positive")
        self.max_messages = max_messages
        self.window = window
        self.max_chats = max_chats
        self._chats: OrderedDict[str, deque[tuple[datetime, str]]] = OrderedDict()

    def add(self, key: str, text: str, now: datetime) -> None:
        """Remember a chat's text as sent at `now`."""
        texts = self._chats.pop(key, None)
        if texts is None:
            texts = deque(maxlen=self.max_messages)
        texts.append((now, text))
        self._chats[key] = texts
        self._evict(now)

    def recent(self, key: str, now: datetime) -> list[str]:
        """The chat's texts from the last `window`, oldest first."""
        texts = self._chats.get(key)
        if texts is None:
            return []
        while texts and texts[0][0] <= now - self.window:
            texts.popleft()
        if not texts:
            del self._chats[key]
            return []
        return [text for _, text in texts]

    def forget(self, key: str) -> None:
        """Drop everything kept for a chat."""
        self._chats.pop(key, None)

    def __len__(self) -> int:
        """How many chats have texts kept."""
        return len(self._chats)

    def _evict(self, now: datetime) -> None:
        """Drop chats idle for longer than the window, then the least recent over the cap."""
        while self._chats:
            key, texts = next(iter(self._chats.items()))
            if texts[-1][0] > now - self.window and len(self._chats) <= self.max_chats:
                break
            del self._chats[key]
