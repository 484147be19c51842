"""Migrations create exactly the models, and an outdated database is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage.db import create_engine
from storage.models import Base
from storage.schema import SchemaNotCurrent, head_revision, require_current


async def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata
            )
        )
    await engine.dispose()
    assert diff == []


async def test_current_database_is_accepted(db_url: str) -> None:
    engine = create_engine(db_url)
    await require_current(engine)
    await engine.dispose()


async def test_outdated_database_is_refused(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    with pytest.raises(SchemaNotCurrent, match=f"needs {head_revision()}"):
        await require_current(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
        )
    await engine.dispose()
