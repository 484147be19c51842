"""Engine and session factory; one AsyncSession per unit of work."""

from __future__ import annotations

import asyncio
import collections
import contextvars
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


class _RunNow:
    """aiosqlite's job queue, except that each job runs at once in the caller's thread."""

    def put_nowait(self, job: tuple[asyncio.Future[Any] | None, Any]) -> None:
        """Run the job and settle its future before returning."""
        future, function = job
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as aiosqlite does
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs SQLite in the event loop's thread.

    An SQLite statement on a local WAL file takes microseconds; handing each one to a
    worker thread and back (as aiosqlite does) costs more than the statement, and under load
    each hand-off waits for the GIL. Writers of this process already queue on one lock, so
    nothing is gained from the thread. The catch: while another process holds the write lock,
    the loop waits in SQLite's busy handler (see busy_timeout below).
    """

    def __init__(self, connector: Any, iter_chunk_size: int = 64) -> None:
        """Set up as aiosqlite does, with jobs run at once instead of queued to a thread."""
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        """Connect without starting aiosqlite's worker thread."""
        return self._connect().__await__()


def _inline_connection(*args: Any, **kwargs: Any) -> InlineConnection:
    """What aiosqlite.connect returns, minus the thread."""
    return InlineConnection(partial(sqlite3.connect, *args, **kwargs))


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
        # Short: SQLite runs in the loop's thread, so a busy wait would stall everything; a
        # unit of work that finds the file locked by another process waits and retries.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "do_connect")
    def _do_connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["async_creator_fn"] = _inline_connection

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Units of work take the write lock up front (they queue for it on an asyncio lock
        # first); other sessions only read, and WAL readers never wait for the writer.
        writing = _writer.get() is not None and _writer.get() is asyncio.current_task()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# The task running a unit of work (a task it starts inherits the variable, not the lock).
_writer: contextvars.ContextVar[asyncio.Task[Any] | None] = contextvars.ContextVar(
    "eap_sqlite_writer", default=None
)


class WriteLock:
    """The write lock of one SQLite engine: first come, first served, with a lane for urgent
    work (storing webhooks before their 200) that goes ahead of the queue."""

    def __init__(self) -> None:
        """Start unlocked with nobody waiting."""
        self._held = False
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._normal: collections.deque[asyncio.Future[None]] = collections.deque()

    @asynccontextmanager
    async def hold(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Wait for the lock (urgent waiters first), hold it for the block."""
        if self._held or self._urgent or self._normal:
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter  # handed over by release(): held from here
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed over just as we were cancelled: pass it on
                elif waiter in (queue := self._urgent if urgent else self._normal):
                    queue.remove(waiter)
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the lock to the next live waiter, urgent ones first, or unlock."""
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False


_sqlite_locks: weakref.WeakKeyDictionary[AsyncEngine, WriteLock] = weakref.WeakKeyDictionary()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine with the settings each backend needs (never logging parameters)."""
    kwargs.setdefault("hide_parameters", True)  # SQL errors would carry chat ids and notes
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": BUSY_WAIT_MS / 1000}, **kwargs)
        _sqlite_serialised_writes(engine)
        _sqlite_locks[engine] = WriteLock()
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a session factory that keeps objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, urgent: bool = False
) -> AsyncIterator[AsyncSession]:
    """Open a session and transaction; commit on success, roll back on any error.

    On SQLite, transactions of this process queue on one lock (first come, first served,
    `urgent` ones first) instead of spinning in SQLite's busy handler, which sleeps and ruins
    latency. On PostgreSQL they run side by side and `urgent` changes nothing.
    """
    bind = sessions.kw.get("bind")
    lock = _sqlite_locks.get(bind) if bind is not None else None
    if lock is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with lock.hold(urgent=urgent):
        token = _writer.set(asyncio.current_task())
        try:
            async with await _begin_immediate(sessions) as session:
                try:
                    yield session
                except BaseException:
                    await session.rollback()
                    raise
                await session.commit()
        finally:
            _writer.reset(token)


BUSY_WAIT_MS = 20  # how long SQLite itself waits for another process's write lock
BUSY_GIVE_UP = 30.0  # seconds a unit of work waits in all before it fails


async def _begin_immediate(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session holding SQLite's write lock, waited for off the loop while another process
    holds it."""
    waited, delay = 0.0, 0.01
    while True:
        session = sessions()
        try:
            await session.connection()  # BEGIN IMMEDIATE (the "begin" listener)
            return session
        except OperationalError as error:
            await session.close()
            if "locked" not in str(error) or waited >= BUSY_GIVE_UP:
                raise
        except BaseException:
            await session.close()
            raise
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 0.2)


def insert_ignore(session: AsyncSession, model: type, values: dict[str, Any]) -> Any:
    """An INSERT that does nothing when a unique key already exists (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model).values(values).on_conflict_do_nothing()
