"""The contention and broadcast benches at tiny sizes: no double booking, no lost reminder."""

from __future__ import annotations

import os

import pytest

from bench import broadcast, contention
from tests.conftest import PG_ENV


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_concurrent_bookings_take_each_slot_once(backend: str) -> None:
    base = os.environ.get(PG_ENV, "")
    if backend == "postgres" and not base:
        pytest.skip(f"{PG_ENV} not set")
    results = await contention.measure([backend], scale=0.05, postgres_url=base)
    outcomes = results[backend]
    breaches = dict.fromkeys([*contention.INVARIANTS, "unexpected successes"], 0)
    assert [o.successes for o in outcomes] == [o.scenario.expected for o in outcomes]
    assert [o.errors for o in outcomes] == [0, 0, 0]
    assert [o.invariants for o in outcomes] == [breaches] * 3
    assert [sum(o.outcomes.values()) for o in outcomes] == [o.scenario.attempts for o in outcomes]


async def test_rate_limited_broadcast_loses_nothing() -> None:
    [result] = await broadcast.measure(modes=["nolimiter"], messages=60, limit=20)
    sent_attempts = sum(
        int(key.split(":")[1]) * n for key, n in result.attempts.items() if key.startswith("sent:")
    )
    assert (result.queued, result.lost, result.duplicates, result.dead) == (60, 0, 0, 0)
    assert result.attempts.get("pending:0", 0) == 0
    assert sent_attempts - 60 == result.refused  # every 429 was recorded, then retried


async def test_telegram_bench_counts_each_bots_cpu_and_the_harness_ceiling() -> None:
    from bench import telegram
    from tests.fake_telegram import BUILTIN, TOKEN, Contract, FakeTelegram

    fake = FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))
    await fake.start()
    try:
        results = [
            await telegram.run_bot(name, fake, range(51, 91), 10, None, None)
            for name in ("echo-httpx", "raw")
        ]
    finally:
        await fake.close()
    assert [(r.name, r.updates, r.lost) for r in results] == [
        ("echo-httpx", 320, 0),
        ("raw", 320, 0),
    ]
    assert all(r.cpu_seconds > 0 for r in results)  # /proc read before and after the run
    figures = {f.name: f.value for f in telegram.figures(results)}
    assert figures["ratio (e)/(b)"] == pytest.approx(results[1].rate / results[0].rate)
    assert figures["(e) raw reply: CPU per update"] == pytest.approx(
        results[1].cpu_seconds * 1000 / 320
    )
