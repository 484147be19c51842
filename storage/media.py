"""Files served by URL for platforms that fetch media (LINE images): unguessable and expiring."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MediaAsset

LIFETIME = timedelta(days=7)


async def store(
    session: AsyncSession,
    *,
    content: bytes,
    mime_type: str,
    now: datetime,
    lifetime: timedelta = LIFETIME,
) -> str:
    """Keep a file and return its random token (the only way to fetch it)."""
    token = secrets.token_urlsafe(32)
    session.add(
        MediaAsset(
            token=token,
            mime_type=mime_type,
            content=content,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return token


async def fetch(session: AsyncSession, token: str, now: datetime) -> MediaAsset | None:
    """The file for a token, unless unknown or expired."""
    asset = await session.scalar(select(MediaAsset).where(MediaAsset.token == token))
    if asset is None or asset.expires_at <= now:
        return None
    return asset


async def purge(session: AsyncSession, now: datetime) -> int:
    """Delete expired files."""
    result = await session.execute(delete(MediaAsset).where(MediaAsset.expires_at <= now))
    return int(result.rowcount or 0)
