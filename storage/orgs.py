"""Organisations: lookup, local time and plan years."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import UnknownOrganisation
from storage.models import Organisation


async def by_code(session: AsyncSession, code: str) -> Organisation:
    """Return the organisation with this code (case-insensitive) or raise UnknownOrganisation."""
    code = code.strip().upper()
    org = await session.scalar(select(Organisation).where(func.upper(Organisation.code) == code))
    if org is None:
        raise UnknownOrganisation(code=code[:32])
    return org


async def by_id(session: AsyncSession, organisation_id: int) -> Organisation:
    """Return the organisation with this id."""
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise UnknownOrganisation(code=str(organisation_id))
    return org


def tz(org: Organisation) -> ZoneInfo:
    """The organisation's time zone."""
    return ZoneInfo(org.timezone)


def local_date(org: Organisation, moment: datetime) -> date:
    """The calendar date of a moment in the organisation's time zone."""
    return moment.astimezone(tz(org)).date()


def _anniversary(org: Organisation, year: int) -> date:
    day = org.plan_year_start_day
    while True:
        try:
            return date(year, org.plan_year_start_month, day)
        except ValueError:  # 29 February in a common year, and the like
            day -= 1


def plan_year_start(org: Organisation, on: date) -> date:
    """The first day of the plan year that contains the given date."""
    start = _anniversary(org, on.year)
    return start if start <= on else _anniversary(org, on.year - 1)


def plan_year_end(org: Organisation, on: date) -> date:
    """The first day of the next plan year (when hours reset)."""
    return _anniversary(org, plan_year_start(org, on).year + 1)
