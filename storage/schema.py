"""Migrations: apply them, and refuse to run on a database that is not at the latest one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaNotCurrent(Exception):
    """The database is unmigrated or at an older (or unknown) revision."""


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """Return the newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def migrate(url: str) -> None:
    """Bring the database to the newest migration."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the database's migration revision, or None when it has none."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def require_current(engine: AsyncEngine) -> None:
    """Raise SchemaNotCurrent unless the database is at the newest migration."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaNotCurrent("the database has no tables yet: run `python bot.py migrate` first")
    raise SchemaNotCurrent(
        f"the database is at migration {current} but this version needs {head}: "
        "run `python bot.py migrate` first"
    )
