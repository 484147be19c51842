"""The benches at tiny sizes: no double booking, no lost reminder, figures that add up."""

from __future__ import annotations

import os
import time

import pytest

from bench import broadcast, contention
from bench.common import cpu_seconds
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

    users = range(51, 91)  # 40 users x 8 updates each
    fake = FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))
    await fake.start()
    results, answered = [], []
    try:
        for name in ("echo-httpx", "raw"):
            results.append(await telegram.run_bot(name, fake, users, 10, None, None))
            answered.append(sum(1 for s in fake.shown if s.chat_id in users))
            fake.shown.clear()
    finally:
        await fake.close()
    # What the bench counted is what the fake saw answered: one message per update sent.
    assert [(r.name, r.updates, r.lost) for r in results] == [
        ("echo-httpx", 320, 0),
        ("raw", 320, 0),
    ]
    assert answered == [320, 320]
    assert [(len(r.latencies), len(r.acks)) for r in results] == [(320, 320)] * 2
    for r in results:
        # The bot's own CPU over the measured run only: some, and no more than its wall time
        # on every core (a reading of the wrong process, or from its start, would break this).
        assert 0 < r.cpu_seconds <= r.seconds * (os.cpu_count() or 1)
    figures = {f.name: f.value for f in telegram.figures(results)}
    for r in results:
        label = telegram.LABELS[r.name]
        assert figures[f"{label}: updates/s"] == pytest.approx(320 / r.seconds)
        assert figures[f"{label}: CPU per update"] == pytest.approx(r.cpu_seconds * 1000 / 320)
        assert figures[f"{label}: lost"] == 0
        assert 0 < figures[f"{label}: p50"] <= figures[f"{label}: p99"]
    assert figures["ratio (e)/(b)"] == pytest.approx(results[1].rate / results[0].rate)


def test_cpu_seconds_reads_what_the_process_used() -> None:
    before, clock_before = cpu_seconds(), time.process_time()
    while time.process_time() - clock_before < 0.3:  # burn CPU in this process
        pass
    used, clock_used = cpu_seconds(), time.process_time() - clock_before
    assert before is not None and used is not None
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert used - before == pytest.approx(clock_used, abs=3 * tick)


def test_crisis_bench_times_every_message_on_each_side() -> None:
    from bench import crisis
    from tests.test_crisis_screen import HITS, MISSES

    test_part = sum(
        len(path.read_text(encoding="utf-8").splitlines())
        for path in crisis.TEST_PART.glob("*.jsonl")
    )
    cost = crisis.measure(rounds=2)
    assert cost.messages == len(HITS) + len(MISSES) + test_part
    assert {side: len(times) for side, times in cost.per_message.items()} == {
        side: 2 * cost.messages for side in crisis.SIDES
    }
    assert len(cost.adversarial) == 2 * len(crisis.ADVERSARIAL)
    figures = {f.name: f.value for f in crisis.figures(cost)}
    for side in crisis.SIDES:
        assert figures[f"{side}: CPU per message mean"] == pytest.approx(cost.mean_us(side))
        assert figures[f"{side}: CPU per message p99"] == pytest.approx(cost.p99_us(side))
    assert figures["cold start (import and load)"] > 0
    assert figures["CPU per long adversarial message: max"] > 0
