"""How log lines name an event: a keyed hash that rotates daily, never the platform's id."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from bot.clock import utcnow

_keys: dict[date, bytes] = {}


def event_ref(event_id: str | None) -> str | None:
    """A short reference for one event that joins log lines of today's events, and nothing
    else: the key is random, kept in memory and replaced each UTC day."""
    if event_id is None:
        return None
    today = utcnow().date()
    key = _keys.get(today)
    if key is None:
        _keys.clear()
        key = _keys[today] = secrets.token_bytes(32)
    return hmac.new(key, event_id.encode(), hashlib.sha256).hexdigest()[:16]
