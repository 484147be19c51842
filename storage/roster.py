"""Roster import: employee numbers and enrolment codes become keyed hashes at once; the raw
numbers are kept in memory only to write a generated code next to its number for HR."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organisation, RosterEntry, RosterStatus
from storage.pseudonyms import (
    employee_hash,
    enrolment_hash,
    is_code,
    new_enrolment_code,
    normalise_employee_number,
)

HEADER = ("employee_number", "department", "status")
CODE_COLUMN = "enrolment_code"  # optional fourth column: a code HR already handed out
BATCH = 1000


@dataclass
class RosterReport:
    """What an import did; errors name line numbers, never employee numbers."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    left: int = 0
    errors: list[str] = field(default_factory=list)
    codes: list[tuple[str, str]] = field(default_factory=list)  # (number, new code) for HR


@dataclass(frozen=True)
class Row:
    """One valid roster line, already hashed (the number only for a generated code's file)."""

    line: int
    digest: str
    department: str
    status: RosterStatus
    number: str = field(repr=False, default="")
    enrolment: str | None = None  # keyed hash of the code given in the file


def parse(text: str, *, key: bytes, org_code: str, report: RosterReport) -> Iterator[Row]:
    """Yield hashed rows from CSV text; bad lines are reported by number."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(h.strip() for h in reader.fieldnames or ()) not in (HEADER, (*HEADER, CODE_COLUMN)):
        report.errors.append(f"line 1: the header must be {','.join(HEADER)}[,{CODE_COLUMN}]")
        return
    reader.fieldnames = [h.strip() for h in reader.fieldnames or ()]
    for line, raw in enumerate(reader, start=2):
        number = normalise_employee_number(raw.get("employee_number") or "")
        status = (raw.get("status") or "").strip().lower()
        code = (raw.get(CODE_COLUMN) or "").strip()
        if not number or len(number) > 40 or status not in ("active", "left"):
            report.errors.append(f"line {line}: needs an employee number and status active/left")
            continue
        if code and not is_code(code):
            report.errors.append(f"line {line}: an enrolment code needs 10 or more letters/digits")
            continue
        yield Row(
            line,
            employee_hash(key, org_code, number),
            (raw.get("department") or "").strip()[:100],
            RosterStatus(status),
            number,
            enrolment_hash(key, code) if code else None,
        )


async def import_rows(
    session: AsyncSession,
    org: Organisation,
    rows: list[Row],
    *,
    report: RosterReport,
    now: datetime,
    key: bytes = b"",
) -> None:
    """Add new and update changed entries (idempotent); with a key, give missing codes."""
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
            entry = RosterEntry(
                organisation_id=org.id,
                employee_hash=row.digest,
                department=row.department,
                status=row.status,
                updated_at=now,
            )
            session.add(entry)
            report.added += 1
            report.left += row.status == RosterStatus.LEFT
        elif _same(entry, row):
            report.unchanged += 1
        else:
            report.left += row.status == RosterStatus.LEFT and entry.status != row.status
            entry.department, entry.status, entry.updated_at = row.department, row.status, now
            report.updated += 1
        _set_code(entry, row, key, report)
    await session.flush()


def _same(entry: RosterEntry, row: Row) -> bool:
    """Whether the file changes nothing of the entry (a missing code keeps the stored one)."""
    code_kept = row.enrolment is None or row.enrolment == entry.enrolment_hash
    return (entry.department, entry.status) == (row.department, row.status) and code_kept


def _set_code(entry: RosterEntry, row: Row, key: bytes, report: RosterReport) -> None:
    """Store the file's new code (unused again), or generate one when asked and missing."""
    if row.enrolment is not None and row.enrolment != entry.enrolment_hash:
        entry.enrolment_hash, entry.enrolment_used_at = row.enrolment, None
    elif key and entry.enrolment_hash is None and row.status == RosterStatus.ACTIVE:
        code = new_enrolment_code()
        entry.enrolment_hash = enrolment_hash(key, code)
        report.codes.append((row.number, code))


async def import_csv(
    session: AsyncSession,
    org: Organisation,
    text: str,
    *,
    key: bytes,
    now: datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
    generate_codes: bool = False,
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
        batch = rows[start : start + BATCH]
        await import_rows(
            session, org, batch, report=report, now=now, key=key if generate_codes else b""
        )
        progress(min(start + BATCH, total), total)
    return report
