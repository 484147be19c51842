"""Shared fixtures: a migrated database per backend, a frozen clock, a chat driver."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dispatch import Dispatcher
from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.models import Base
from storage.schema import migrate
from tests.helpers import Chat, Clock

PG_ENV = "EAP_TEST_POSTGRES_URL"
TEST_KEY = "test-pseudonym-key-0123456789"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    name = f"eap_test_{uuid.uuid4().hex[:12]}"
    url = make_url(base)

    async def admin(sql: str) -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(sql))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(migrate(test_url))
    yield test_url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)

    async def truncate() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory over the test database."""
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for tests: the test database and a fixed pseudonym key."""
    return Settings(database_url=db_url, pseudonym_key=TEST_KEY)


BASE_NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Taipei
# The same tests at dates that catch time bombs: +18 months, a leap day, and the last half hour
# of a year in Taipei (still 15:30 UTC: the local plan year rolls over, UTC does not).
SHIFTED_NOWS = {
    "plus18m": datetime(2028, 5, 24, 2, 0, tzinfo=UTC),
    "leapday": datetime(2028, 2, 29, 4, 0, tzinfo=UTC),
    "newyeareve": datetime(2027, 12, 31, 15, 30, tzinfo=UTC),
}


@pytest.fixture(params=["base", *SHIFTED_NOWS])
def clock(request: pytest.FixtureRequest) -> Clock:
    """A frozen clock moved by tests: Tuesday 2026-11-24 10:00 in Taipei, then shifted dates."""
    return Clock(SHIFTED_NOWS.get(request.param, BASE_NOW))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Shifted dates run on SQLite only: the date logic is the same on both databases."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        shifted = params is not None and params.params.get("clock", "base") != "base"
        on_postgres = params is not None and params.params.get("db_url") == "postgres"
        (dropped if shifted and on_postgres else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def dispatcher(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> Dispatcher:
    """A dispatcher over the test database with the frozen clock."""
    return Dispatcher(sessions, settings, clock=clock)


@pytest.fixture
def chat(dispatcher: Dispatcher) -> Chat:
    """A chat driver for dialog tests, as a new person on the test channel."""
    return Chat(dispatcher, user="alice")
