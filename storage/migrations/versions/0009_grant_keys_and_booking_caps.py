"""grant keys and booking caps: yearly grants keyed by a never-reused member key; a cap on
minutes booked ahead per organisation

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00.000000

Grants were keyed `grant:{member id}:{plan year}`. SQLite reuses the id of a deleted ("forget
me") member, so the next member with that id found the key taken and was granted nothing. Each
member now gets a random grant key; existing grants are re-keyed to it, and a current member
whose grant for a plan year was swallowed by a forgotten member's key is granted it here (an
audit entry per organisation records how many). The forgotten members' rows keep their old,
anonymous keys, which can never match a new one (32 hex digits, never a row id).
"""

import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = storage.models.UTCDateTime(timezone=True)
MEMBER = sa.table(
    "member",
    sa.column("id", ID),
    sa.column("grant_key", sa.String()),
    sa.column("organisation_id", ID),
    sa.column("first_seen_at", WHEN),
)
ORG = sa.table(
    "organisation",
    sa.column("id", ID),
    sa.column("timezone", sa.String()),
    sa.column("plan_year_start_month", sa.SmallInteger()),
    sa.column("plan_year_start_day", sa.SmallInteger()),
    sa.column("minutes_per_year", sa.Integer()),
)
ENTRY = sa.table(
    "hours_entry",
    sa.column("id", ID),
    sa.column("organisation_id", ID),
    sa.column("member_id", ID),
    sa.column("plan_year", sa.Date()),
    sa.column("bucket", sa.String()),
    sa.column("minutes", sa.Integer()),
    sa.column("reason", sa.String()),
    sa.column("idempotency_key", sa.String()),
    sa.column("created_at", WHEN),
)
AUDIT = sa.table(
    "audit_log",
    sa.column("at", WHEN),
    sa.column("organisation_id", ID),
    sa.column("actor_kind", sa.String()),
    sa.column("action", sa.String()),
    sa.column("detail", sa.JSON()),
)


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "organisation",
        sa.Column("max_minutes_ahead", sa.Integer(), server_default="240", nullable=False),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite adds a NOT NULL column only with a default, and cannot drop it without copying the
    # table every other table refers to; the unique index refuses a second empty key anyway.
    op.add_column(
        "member",
        sa.Column(
            "grant_key",
            sa.String(length=32),
            nullable=not sqlite,
            server_default="" if sqlite else None,
        ),
    )
    keys = _give_members_keys()
    if not sqlite:
        op.alter_column("member", "grant_key", nullable=False)
    op.create_index("ix_member_grant_key", "member", ["grant_key"], unique=True)
    _rekey_grants(keys)
    # The database's clock: only the edges of the program read one, and this is the database.
    _regrant_swallowed(keys, sa.func.current_timestamp())


def _give_members_keys() -> dict[int, str]:
    """A random grant key for every member; member id -> key."""
    bind = op.get_bind()
    keys = {int(i): secrets.token_hex(16) for i in bind.scalars(sa.select(MEMBER.c.id))}
    if keys:
        bind.execute(
            MEMBER.update().where(MEMBER.c.id == sa.bindparam("b_id")),
            [{"b_id": i, "grant_key": key} for i, key in keys.items()],
        )
    return keys


def _old_grants() -> list[tuple[int, int | None, str, str]]:
    """(entry id, member id, id in the key, plan year in the key) of every id-keyed grant."""
    rows = op.get_bind().execute(
        sa.select(ENTRY.c.id, ENTRY.c.member_id, ENTRY.c.idempotency_key).where(
            ENTRY.c.bucket == "granted", ENTRY.c.idempotency_key.like("grant:%")
        )
    )
    found = []
    for entry_id, member_id, key in rows:
        _, owner, year = key.split(":", 2)
        if owner.isdigit():
            found.append((int(entry_id), member_id, owner, year))
    return found


def _rekey_grants(keys: dict[int, str]) -> None:
    """Grants a current member holds move to its new key."""
    moves = [
        {"b_id": entry_id, "idempotency_key": f"grant:{keys[member_id]}:{year}"}
        for entry_id, member_id, owner, year in _old_grants()
        if member_id is not None and str(member_id) == owner and member_id in keys
    ]
    if moves:
        op.get_bind().execute(ENTRY.update().where(ENTRY.c.id == sa.bindparam("b_id")), moves)


def _anniversary(month: int, day: int, year: int) -> date:
    """The plan year's first day in a calendar year (29 February falls back to the 28th)."""
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def _regrant_swallowed(keys: dict[int, str], now: sa.ColumnElement[datetime]) -> None:
    """Grant the plan years a forgotten member's key took from a current member with its id."""
    bind = op.get_bind()
    members = {
        int(row.id): row
        for row in bind.execute(
            sa.select(
                MEMBER.c.id,
                MEMBER.c.organisation_id,
                MEMBER.c.first_seen_at,
                ORG.c.timezone,
                ORG.c.plan_year_start_month,
                ORG.c.plan_year_start_day,
                ORG.c.minutes_per_year,
            )
            .join(ORG, ORG.c.id == MEMBER.c.organisation_id)
            .where(MEMBER.c.id.in_(list(keys) or [0]))
        )
    }
    held = {
        (member_id, year.isoformat())
        for member_id, year in bind.execute(
            sa.select(ENTRY.c.member_id, ENTRY.c.plan_year).where(
                ENTRY.c.bucket == "granted", ENTRY.c.member_id.is_not(None)
            )
        )
    }
    grants, per_org = [], Counter[int]()
    for _, member_id, owner, year in _old_grants():
        row = members.get(int(owner))
        if row is None or member_id == row.id or (row.id, year) in held:
            continue
        start = date.fromisoformat(year)
        month, day = row.plan_year_start_month, row.plan_year_start_day
        joined = row.first_seen_at.astimezone(ZoneInfo(row.timezone)).date()
        if start != _anniversary(month, day, start.year):
            continue  # another organisation's plan year: never this member's key
        if _anniversary(month, day, start.year + 1) <= joined:
            continue  # the year had ended before this member existed
        held.add((row.id, year))
        per_org[row.organisation_id] += 1
        grants.append(
            {
                "organisation_id": row.organisation_id,
                "member_id": row.id,
                "plan_year": start,
                "bucket": "granted",
                "minutes": row.minutes_per_year,
                "reason": "plan_year",
                "idempotency_key": f"grant:{keys[row.id]}:{year}",
            }
        )
    if grants:
        bind.execute(ENTRY.insert().values(created_at=now), grants)
    for organisation_id, count in sorted(per_org.items()):
        bind.execute(
            AUDIT.insert().values(
                at=now,
                organisation_id=organisation_id,
                actor_kind="system",
                action="hours-regranted",
                detail={"grants": count, "cause": "reused member id"},
            )
        )


def downgrade() -> None:
    """Revert this revision (grants go back to id keys where that key is still free)."""
    bind = op.get_bind()
    taken = set(bind.scalars(sa.select(ENTRY.c.idempotency_key)))
    rows = bind.execute(
        sa.select(ENTRY.c.id, ENTRY.c.member_id, ENTRY.c.idempotency_key, MEMBER.c.grant_key)
        .join(MEMBER, MEMBER.c.id == ENTRY.c.member_id)
        .where(ENTRY.c.bucket == "granted")
    )
    moves = []
    for entry_id, member_id, key, grant_key in rows:
        _, owner, year = key.split(":", 2)
        old = f"grant:{member_id}:{year}"
        if owner == grant_key and old not in taken:
            taken.add(old)
            moves.append({"b_id": entry_id, "idempotency_key": old})
    if moves:
        bind.execute(ENTRY.update().where(ENTRY.c.id == sa.bindparam("b_id")), moves)
    op.drop_index("ix_member_grant_key", table_name="member")
    # Native DROP COLUMN (SQLite 3.35+): a batch copy would drop tables others refer to.
    op.execute("ALTER TABLE member DROP COLUMN grant_key")
    op.execute("ALTER TABLE organisation DROP COLUMN max_minutes_ahead")
