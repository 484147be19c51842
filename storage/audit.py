"""The audit log of HR and operator actions (never personal data in the detail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


async def record(
    session: AsyncSession,
    *,
    actor_kind: str,
    action: str,
    now: datetime,
    organisation_id: int | None = None,
    actor_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry."""
    session.add(
        AuditLog(
            at=now,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            organisation_id=organisation_id,
            detail=detail or {},
        )
    )
