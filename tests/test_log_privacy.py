"""Logs never carry values: a failing turn with a marker in its text leaves no marker behind."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from bot.runtime import JsonFormatter, SafeFormatter
from bot.web import RedactingAccessLogger
from handlers import router
from handlers.types import Turn

MARKER = "MARKER-7f3a-張小明-0912345678"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at any level, through both of the product's formatters."""
    out = io.StringIO()
    handlers = [logging.StreamHandler(out), logging.StreamHandler(out)]
    handlers[0].setFormatter(SafeFormatter("%(levelname)s %(name)s %(message)s"))
    handlers[1].setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield out
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_a_value_error_mid_turn_logs_no_value(chat, captured, monkeypatch) -> None:
    async def failing(turn: Turn) -> list:
        raise ValueError(f"could not save note {turn.inbound.text!r}")

    monkeypatch.setattr(router, "route", failing)
    await chat.say(f"my note is {MARKER}")
    assert chat.keys == ["error-generic"]
    logged = captured.getvalue()
    assert "builtins.ValueError (text withheld)" in logged
    assert MARKER not in logged


async def test_a_database_error_mid_turn_logs_no_parameter(chat, captured, monkeypatch) -> None:
    async def failing(turn: Turn) -> list:
        insert = text("INSERT INTO organisation (code, name, created_at) VALUES (:c, :n, :t)")
        values = {"c": MARKER[:32], "n": MARKER, "t": datetime(2026, 1, 1, tzinfo=UTC)}
        await turn.session.execute(insert, values)
        await turn.session.execute(insert, values)  # the same unique code again
        return []

    monkeypatch.setattr(router, "route", failing)
    await chat.say(f"note: {MARKER}")
    assert chat.keys == ["error-generic"]
    logged = captured.getvalue()
    assert "IntegrityError (text withheld)" in logged
    assert MARKER not in logged and MARKER[:12] not in logged


def test_the_access_log_withholds_media_tokens(caplog) -> None:
    logger = logging.getLogger("test.access")
    access = RedactingAccessLogger(logger, "")
    request = SimpleNamespace(method="GET", path="/media/SECRET-TOKEN-123")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, SimpleNamespace(status=200), 0.0021)  # type: ignore[arg-type]
    assert caplog.messages == ["GET /media/<token> 200 2.1ms"]


def test_events_are_named_by_a_daily_keyed_hash(monkeypatch) -> None:
    from bot import logrefs

    monkeypatch.setattr(logrefs, "utcnow", lambda: datetime(2026, 12, 1, 23, 59, tzinfo=UTC))
    first, again = logrefs.event_ref("998877"), logrefs.event_ref("998877")
    assert first == again and "998877" not in first and len(first) == 16
    monkeypatch.setattr(logrefs, "utcnow", lambda: datetime(2026, 12, 2, 0, 1, tzinfo=UTC))
    assert logrefs.event_ref("998877") != first  # a new day, a new key
    assert logrefs.event_ref(None) is None


async def test_a_webhook_turn_logs_no_platform_id(dispatcher, sessions, clock, captured) -> None:
    from handlers.types import Inbound
    from storage import events
    from storage.db import unit_of_work

    async with unit_of_work(sessions) as session:
        await events.record(
            session, channel="telegram", event_id="55443322", payload={}, now=clock()
        )
    inbound = Inbound("telegram", "chat-42424242", text="hello", event_id="55443322")
    await dispatcher.handle_event("telegram", "55443322", inbound, {})
    logged = captured.getvalue()
    assert '"handler": "router"' in logged
    assert "55443322" not in logged and "42424242" not in logged
