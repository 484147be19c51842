"""A clock you can set on the demo: chat --at, /at +2d, jobs run --at, and what they refuse."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels.console import ConsoleChat
from bot.clock import ClockError, ShiftedClock
from bot.demo_clock import parse_at, parse_jump, require_demo, run_jobs
from bot.dispatch import Dispatcher
from storage.db import unit_of_work
from storage.demo import seed
from storage.models import Organisation
from tests.conftest import TEST_KEY
from tests.test_console import run_cli
from tests.test_counselors import invite_counselor

TAIPEI = ZoneInfo("Asia/Taipei")
START = datetime(2026, 12, 10, 10, 0, tzinfo=TAIPEI)


def test_at_reads_local_and_iso_times_and_refuses_the_rest() -> None:
    assert parse_at("2026-12-10 10:00", TAIPEI) == START
    assert parse_at("2026-12-10T10:00", TAIPEI) == START
    assert parse_at("2026-12-10T02:00+00:00", TAIPEI) == START
    assert parse_at("2026-12-10", TAIPEI) == START.replace(hour=0)
    for bad in ("tomorrow", "10/12/2026", "2026-13-01 10:00", ""):
        with pytest.raises(ClockError, match="--at takes a local time"):
            parse_at(bad, TAIPEI)


def test_jumps_go_forward_only() -> None:
    assert parse_jump("+2d") == timedelta(days=2)
    assert parse_jump("1d2h") == timedelta(days=1, hours=2)
    assert parse_jump("+30m") == timedelta(minutes=30)
    assert parse_jump("+1w") == timedelta(weeks=1)
    for bad in ("-1d", "+2x", "soon", "+"):
        with pytest.raises(ClockError, match="jump forward"):
            parse_jump(bad)
    clock = ShiftedClock(START)
    before = clock()
    clock.jump(timedelta(days=2))
    assert timedelta(days=2) <= clock() - before < timedelta(days=2, minutes=1)
    with pytest.raises(ValueError, match="forward"):
        clock.jump(timedelta(hours=-1))


async def test_a_bookings_later_life_walked_with_the_clock(sessions, settings) -> None:
    clock = ShiftedClock(START)
    dispatcher = Dispatcher(sessions, settings, clock=clock)
    async with unit_of_work(sessions) as session:
        await seed(session, key=TEST_KEY.encode(), now=clock())
    await require_demo(sessions)

    async def jobs(now: datetime) -> None:
        await run_jobs(sessions, TEST_KEY.encode(), now)

    counselors = {}
    for user, name in (("dr-wang", "王心怡"), ("dr-lin", "林志明")):
        counselors[user] = ConsoleChat(dispatcher, user, out=io.StringIO(), jobs=jobs)
        await counselors[user].send(await invite_counselor(sessions, clock, name))
        assert counselors[user].last_shown[0].key == "counselor-linked"
    employee = ConsoleChat(dispatcher, "demo", out=io.StringIO(), jobs=jobs)
    await employee.send("/start")
    for number in ("3", "1", "1", "1", "1", "1"):  # book, psychology, video, day, slot, confirm
        await employee.send(number)
    assert employee.last_shown[0].key == "book-confirmed"
    start = employee.last_shown[0].params["start"]

    await employee.send("/at +23h")
    assert [r.key for r in employee.last_shown] == ["reminder-24h"]
    clock.jump(start - clock() + timedelta(minutes=90))  # the session is over
    asked = {}
    for user, chat in counselors.items():
        await chat.tick()
        asked[user] = [r for r in chat.last_shown if r.key == "counselor-ask-outcome"]
    [(user, [question])] = [(u, q) for u, q in asked.items() if q]
    await counselors[user].send(str(counselors[user].choices.index(question.choices[0]) + 1))
    assert counselors[user].last_shown[0].key == "counselor-outcome-saved"

    await employee.send("/at +10m")
    keys = [r.key for r in employee.last_shown]
    assert keys == ["feedback-prompt", "feedback-ask-satisfaction"]
    await employee.send("1")  # the first of the prompt's buttons, numbered by the console
    assert employee.last_shown[0].key.startswith("feedback-")


async def test_at_is_refused_without_a_demo_database(sessions, clock) -> None:
    with pytest.raises(ClockError, match="seed-demo"):
        await require_demo(sessions)
    async with unit_of_work(sessions) as session:
        await seed(session, key=TEST_KEY.encode(), now=clock())
    await require_demo(sessions)
    async with unit_of_work(sessions) as session:
        session.add(Organisation(code="REAL", name="Real Co", created_at=clock()))
    with pytest.raises(ClockError, match="no other organisation"):
        await require_demo(sessions)


def test_the_cli_refuses_at_on_a_real_database_and_serve_has_no_at(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    assert run_cli(["migrate"], db).returncode == 0
    for args in (["chat", "--at", "2026-12-10 10:00"], ["jobs", "run", "reminders", "--at", "x"]):
        result = run_cli(args, db)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "seed-demo" in run_cli(["chat", "--at", "2026-12-10 10:00"], db).stderr
    assert run_cli(["serve", "--at", "2026-12-10 10:00"], db).returncode == 2
    done = run_cli(["jobs", "run", "reminders"], db)
    assert done.returncode == 0 and "reminders at " in done.stdout, done.stderr
