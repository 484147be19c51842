"""Migrations create exactly the models, and an outdated database is refused."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.models import Base
from storage.schema import SchemaNotCurrent, alembic_config, head_revision, require_current
from tests.conftest import PG_ENV


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


async def _database_at(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    """A fresh, empty database on a backend: (url, name to drop on PostgreSQL)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", None
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    name = f"eap_upgrade_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


async def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
OLD_ROWS = [
    "INSERT INTO organisation (id, code, name, timezone, plan_year_start_month, "
    "plan_year_start_day, minutes_per_year, enabled_domains, cancellation_cutoff_hours, "
    "min_notice_hours, booking_horizon_days, no_show_uses_hours, min_group_size, "
    "min_group_size_usage, digest_weekday, digest_hour, created_at) VALUES (1, 'ACME', 'Acme', "
    "'Asia/Taipei', 1, 1, 480, 'psychology', 24, 24, 30, true, 5, 10, 0, 9, :now)",
    "INSERT INTO roster_entry (id, organisation_id, employee_hash, department, status, "
    "updated_at) VALUES (1, 1, 'h1', 'Ops', 'active', :now), (2, 1, 'h2', 'Ops', 'left', :now)",
    "INSERT INTO member (id, channel, external_id, locale, consent_at, pseudonym, "
    "organisation_id, roster_entry_id, linked_at, first_seen_at) VALUES "
    "(1, 'telegram', '42', 'en', :now, 'p1', 1, 1, :now, :now), "
    "(2, 'line', 'U9', 'en', :now, 'p2', NULL, NULL, NULL, :now)",
    "INSERT INTO link_attempt (member_id, attempted_at) VALUES (2, :now), (2, :now)",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_upgrade_to_enrolment_codes_keeps_roster_and_members(backend, tmp_path) -> None:
    url, name = await _database_at(backend, tmp_path)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0005")
        engine = create_engine(url)
        async with engine.begin() as connection:
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": NOW})
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        async with engine.connect() as connection:
            roster = (
                await connection.execute(
                    text(
                        "SELECT id, status, enrolment_hash, enrolment_used_at, recovery_hash "
                        "FROM roster_entry ORDER BY id"
                    )
                )
            ).all()
            linked = (
                await connection.execute(
                    text("SELECT id, roster_entry_id FROM member ORDER BY id")
                )
            ).all()
            attempts = (await connection.execute(text("SELECT * FROM link_attempt"))).all()
            await connection.execute(
                text(
                    "INSERT INTO link_attempt (account_hash, employee_key, organisation_id, "
                    "attempted_at) VALUES ('a', 'e', 1, :now)"
                ),
                {"now": NOW},
            )
        await engine.dispose()
        assert [tuple(r) for r in roster] == [
            (1, "active", None, None, None),
            (2, "left", None, None, None),
        ]
        assert [tuple(r) for r in linked] == [(1, 1), (2, None)]
        assert attempts == []  # cannot be rehashed without the key; only an hour mattered
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
    finally:
        await _drop(name)
