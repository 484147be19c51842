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
