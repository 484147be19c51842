"""Roster import: employee numbers become keyed hashes at once; the raw numbers are dropped."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organisation, RosterEntry, RosterStatus
from storage.pseudonyms import employee_hash, normalise_employee_number

HEADER = ("employee_number", "department", "status")
BATCH = 1000


@dataclass
class RosterReport:
    """What an import did; errors name line numbers, never employee numbers."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    left: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One valid roster line, already hashed."""

    line: int
    digest: str
    department: str
    status: RosterStatus


def parse(text: str, *, key: bytes, org_code: str, report: RosterReport) -> Iterator[Row]:
    """Yield hashed rows from CSV text; bad lines are reported by number."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(h.strip() for h in reader.fieldnames or ()) != HEADER:
        report.errors.append(f"line 1: the header must be {','.join(HEADER)}")
        return
    for line, raw in enumerate(reader, start=2):
        number = normalise_employee_number(raw.get("employee_number") or "")
        status = (raw.get("status") or "").strip().lower()
        if not number or len(number) > 40 or status not in ("active", "left"):
            report.errors.append(f"line {line}: needs an employee number and status active/left")
            continue
        yield Row(
            line,
            employee_hash(key, org_code, number),
            (raw.get("department") or "").strip()[:100],
            RosterStatus(status),
        )


async def import_rows(
    session: AsyncSession,
    org: Organisation,
    rows: list[Row],
    *,
    report: RosterReport,
    now: datetime,
) -> None:
    """Add new entries and update changed ones (idempotent: the same file changes nothing)."""
    existing = {
        e.employee_hash: e
        for e in await session.scalars(
            select(RosterEntry).where(
                RosterEntry.organisation_id == org.id,
                RosterEntry.employee_hash.in_([r.digest for r in rows]),
            )
        )
    }
    for row in rows:
        entry = existing.get(row.digest)
        if entry is None:
            session.add(
                RosterEntry(
                    organisation_id=org.id,
                    employee_hash=row.digest,
                    department=row.department,
                    status=row.status,
                    updated_at=now,
                )
            )
            report.added += 1
            report.left += row.status == RosterStatus.LEFT
        elif (entry.department, entry.status) == (row.department, row.status):
            report.unchanged += 1
        else:
            report.left += row.status == RosterStatus.LEFT and entry.status != row.status
            entry.department, entry.status, entry.updated_at = row.department, row.status, now
            report.updated += 1
    await session.flush()


async def import_csv(
    session: AsyncSession,
    org: Organisation,
    text: str,
    *,
    key: bytes,
    now: datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RosterReport:
    """Import a whole roster file in batches, reporting progress as (done, total) lines."""
    report = RosterReport()
    unique: dict[str, Row] = {}
    for row in parse(text, key=key, org_code=org.code, report=report):
        if row.digest in unique:
            report.errors.append(f"line {row.line}: repeats line {unique[row.digest].line}")
            continue
        unique[row.digest] = row
    rows = list(unique.values())
    total = len(rows)
    for start in range(0, total, BATCH):
        await import_rows(session, org, rows[start : start + BATCH], report=report, now=now)
        progress(min(start + BATCH, total), total)
    return report
