"""Wiring shared by the commands: settings, logging, engine, schema check, dispatcher."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import utcnow
from bot.dispatch import Dispatcher
from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.schema import require_current


@dataclass
class Runtime:
    """The live pieces of a running bot."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher


# Libraries that log request bodies, SQL parameters or chat ids at DEBUG/INFO: kept at WARNING
# whatever EAP_LOG_LEVEL says, because those would carry message text and identifiers.
QUIET_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "httpx",
    "httpcore",
    "telegram",
    "linebot",
    "urllib3",
    "apscheduler.executors.default",
    "hpack",
)


def quiet_libraries() -> None:
    """Keep libraries that would log personal data at WARNING."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redacted_exception(exc_info: Any) -> str:
    """A traceback with each exception's type and frames but not its text, which can carry
    values (a note in a ValueError, a chat id in a database error)."""
    error, parts, seen = exc_info[1], [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        name = f"{type(error).__module__}.{type(error).__qualname__}"
        frames = traceback.extract_tb(error.__traceback__)
        where = "".join(f"  {f.filename}:{f.lineno} in {f.name}\n" for f in frames)
        parts.append(f"{name} (text withheld)\n{where}")
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "Traceback, innermost last:\n" + "caused by ".join(reversed(parts)).rstrip()


class SafeFormatter(logging.Formatter):
    """Plain-text lines whose exceptions never include their text."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record, ignoring exception text another formatter may have cached on it."""
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: Any) -> str:
        """Render an exception without its message."""
        return redacted_exception(ei)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the structured extras (event ids, handlers, timings)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redacted_exception(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(level: str, log_format: str = "text") -> None:
    """Log event ids, handlers and outcomes; never message text or chat ids."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else SafeFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    quiet_libraries()


@asynccontextmanager
async def open_runtime(
    settings: Settings, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Runtime]:
    """Connect, refuse an outdated schema, and build the dispatcher; dispose at the end."""
    engine = create_engine(settings.database_url)
    try:
        await require_current(engine)
        sessions = session_factory(engine)
        yield Runtime(settings, engine, sessions, Dispatcher(sessions, settings, clock=clock))
    finally:
        await engine.dispose()
