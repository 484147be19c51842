"""Engine and session factory; one AsyncSession per unit of work."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_serialised_writes(engine: AsyncEngine) -> None:
    """Make every SQLite transaction BEGIN IMMEDIATE so reads before writes cannot race."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL survives a crash of the process (not of the OS) without fsync per
        # commit, which is the embedded default's trade-off; PostgreSQL is for production.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_sqlite_locks: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine with the settings each backend needs."""
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_serialised_writes(engine)
        _sqlite_locks[engine] = asyncio.Lock()
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a session factory that keeps objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session and transaction; commit on success, roll back on any error.

    On SQLite, transactions of this process queue on one asyncio lock (first come, first
    served) instead of spinning in SQLite's busy handler, which sleeps and ruins latency.
    """
    bind = sessions.kw.get("bind")
    lock = _sqlite_locks.get(bind) if bind is not None else None
    if lock is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with lock, sessions() as session, session.begin():
        yield session


def insert_ignore(session: AsyncSession, model: type, values: dict[str, Any]) -> Any:
    """An INSERT that does nothing when a unique key already exists (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model).values(**values).on_conflict_do_nothing()
