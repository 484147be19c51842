"""What the benches share: figures written as JSON, percentiles, scratch databases, peak RSS."""

from __future__ import annotations

import json
import os
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PG_URL = os.environ.get(
    "EAP_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Figure:
    """One number one run measured; `must_be_zero` marks an invariant (a count of breaches).

    `samples` holds repeated measurements taken inside the run (e.g. the KPI bench times the
    snapshot several times on one data set); the summary then uses them instead of runs.
    """

    name: str
    value: float
    unit: str
    must_be_zero: bool = False
    samples: tuple[float, ...] = ()


def write_figures(path: str | None, figures: list[Figure], **details: Any) -> None:
    """Write a run's figures (and any details) as JSON for `python -m bench` to collect."""
    if not path:
        return
    body = {"figures": [asdict(f) for f in figures], "details": details}
    Path(path).write_text(json.dumps(body, indent=1, default=str), encoding="utf-8")


def percentile_ms(values: list[float], q: int) -> float:
    """The q-th percentile of durations in seconds, in milliseconds."""
    if not values:
        return 0.0
    if len(values) < 2:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def peak_rss_kb(pid: int | None = None) -> int | None:
    """A process's peak resident set (VmHWM) in kB, from /proc (Linux); None elsewhere."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid or 'self'}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    rest = fields.rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int | None = None) -> int | None:
    """A process's current resident set (VmRSS) in kB, from /proc (Linux); None elsewhere."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


async def _admin(base: str, sql: str) -> None:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_postgres(base: str = PG_URL) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database next to `base`, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"eap_bench_{uuid.uuid4().hex[:10]}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def postgres_available(base: str = PG_URL) -> bool:
    """Whether the PostgreSQL server named by `base` answers."""
    try:
        await _admin(base, "SELECT 1")
    except Exception:  # any failure to connect means: skip the PostgreSQL rows
        return False
    return True
