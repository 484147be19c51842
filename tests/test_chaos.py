"""The chaos suite's short runs (python -m chaos --quick): the real `serve` process against
platform faults, SIGKILLs, a PostgreSQL outage and duplicated, reordered updates.

The four scenarios run at the same time (each has its own server, fakes and database), so the
module takes about as long as the slowest one.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from chaos import postgres
from chaos.__main__ import QUICK, RUNNERS
from chaos.scenarios import Row


def say(message: str) -> None:
    """Progress, shown by pytest when a test fails."""
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


# One worker runs the whole module: its fixture starts servers and a private PostgreSQL once.
pytestmark = pytest.mark.xdist_group("chaos")


@pytest.fixture(scope="module")
def rows() -> dict[str, Row]:
    """Every short scenario's row of the table."""
    names = [n for n in RUNNERS if n != "outage" or postgres.unavailable() is None]

    async def run_all() -> list[Row]:
        return await asyncio.gather(*(RUNNERS[name](say, **QUICK[name]) for name in names))

    return dict(zip(names, asyncio.run(run_all()), strict=True))


def outcome(row: Row) -> tuple[int, int, dict[str, int]]:
    """What must be zero: lost, duplicates the product could avoid, broken invariants."""
    return row.lost, row.duplicated - row.unavoidable, row.problems


def test_platform_faults_lose_and_repeat_nothing(rows: dict[str, Row]) -> None:
    row = rows["platform"]
    assert outcome(row) == (0, 0, {}), row.notes
    assert "429" in row.faults and "timeout-accepted" in row.faults
    assert row.server_errors == 0


def test_every_acknowledged_update_takes_effect_once_across_sigkills(
    rows: dict[str, Row],
) -> None:
    row = rows["crash"]
    assert outcome(row) == (0, 0, {}), row.notes
    assert row.faults == "2 SIGKILLs and restarts"


def test_database_outage_answers_non_2xx_then_recovers_in_order(rows: dict[str, Row]) -> None:
    if "outage" not in rows:
        pytest.skip(postgres.unavailable() or "")
    row = rows["outage"]
    assert outcome(row) == (0, 0, {}), row.notes
    assert row.faults == "PostgreSQL restart, crash + 2 s down"
    assert row.server_errors > 0  # refused while it could not store: the platform retries


def test_duplicated_and_reordered_updates_end_as_a_clean_run(rows: dict[str, Row]) -> None:
    row = rows["duplicates"]
    assert outcome(row) == (0, 0, {}), row.notes
