"""`serve --role`: web and worker processes on PostgreSQL, one scheduler leader, failover."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.test_serve import free_port

ROOT = Path(__file__).resolve().parent.parent


def env_for(url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(EAP_DATABASE_URL=url, EAP_PSEUDONYM_KEY=TEST_KEY, EAP_PORT=str(port))
    return env


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
        return response.read().decode()


def leader_of(ports: list[int]) -> list[int]:
    """The ports whose process says it is the scheduler leader."""
    return [p for p in ports if "eap_scheduler_leader 1.0" in scrape(p)]


def wait_until(predicate: Callable[[], bool], seconds: float) -> None:
    """Poll until `predicate` holds (a process not answering yet counts as not yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("not reached in time")


def test_sqlite_refuses_separate_roles(tmp_path: Path) -> None:
    env = env_for(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", free_port())
    result = subprocess.run(
        [sys.executable, "bot.py", "serve", "--role", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SQLite runs as a single process" in result.stderr


@pytest.mark.skipif(not os.environ.get("EAP_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_one_leader_among_workers_and_failover(postgres_url: str) -> None:
    ports = {"web": free_port(), "w1": free_port(), "w2": free_port()}
    processes = {}
    try:
        for name, port in ports.items():
            role = "web" if name == "web" else "worker"
            processes[name] = subprocess.Popen(
                [sys.executable, "bot.py", "serve", "--role", role],
                cwd=ROOT,
                env=env_for(postgres_url, port),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        workers = [ports["w1"], ports["w2"]]
        wait_until(lambda: len(leader_of(workers)) == 1, 30)
        time.sleep(1)
        [leader] = leader_of(workers)
        assert leader_of([ports["web"]]) == []
        dead = next(n for n, p in ports.items() if p == leader)
        processes[dead].send_signal(signal.SIGKILL)
        processes[dead].wait(timeout=10)
        survivor = next(p for p in workers if p != leader)
        # How long the takeover takes is a figure of `python -m bench.failover`.
        wait_until(lambda: leader_of([survivor]) == [survivor], 20)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
    for name, process in processes.items():
        assert "Traceback" not in (process.stderr.read() if process.stderr else ""), name
