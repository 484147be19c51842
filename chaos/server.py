"""The bot as operators run it: `bot.py migrate`, `seed-demo`, `roster import`, `serve`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import aiohttp

from chaos.platforms import TELEGRAM_SECRET
from tests.fake_line import ACCESS_TOKEN, CHANNEL_SECRET
from tests.fake_telegram import TOKEN

ROOT = Path(__file__).resolve().parent.parent
KEY = "chaos-pseudonym-key-0123456789"
ORG = "DEMO"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(database_url: str, port: int, telegram_api: str, line_api: str) -> dict[str, str]:
    """The environment `serve` reads: this database and port, both fake platforms."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(
        EAP_DATABASE_URL=database_url,
        EAP_PSEUDONYM_KEY=KEY,
        EAP_HOST="127.0.0.1",
        EAP_PORT=str(port),
        EAP_TELEGRAM_TOKEN=TOKEN,
        EAP_TELEGRAM_API_BASE=telegram_api,
        EAP_TELEGRAM_WEBHOOK_URL="https://chaos.invalid/webhooks/telegram",
        EAP_TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        EAP_LINE_CHANNEL_SECRET=CHANNEL_SECRET,
        EAP_LINE_ACCESS_TOKEN=ACCESS_TOKEN,
        EAP_LINE_API_BASE=line_api,
        EAP_LOG_LEVEL=os.environ.get("CHAOS_LOG_LEVEL", "WARNING"),
        EAP_LOG_FORMAT=os.environ.get("CHAOS_LOG_FORMAT", "text"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


_MIGRATING = threading.Lock()  # Alembic keeps its context in module globals: one at a time


def _migrate(database_url: str) -> None:
    """What `bot.py migrate` does, one database at a time (scenarios may run side by side)."""
    from alembic import command

    from storage.schema import alembic_config

    with _MIGRATING:
        command.upgrade(alembic_config(database_url), "head")


async def prepare(database_url: str, employees: int) -> None:
    """Migrate, seed the demo organisation and import a roster of E0001..E{employees} (with the
    demo's enrolment codes, so journeys can link past E0200).

    In this process, with the functions `migrate`, `seed-demo` and `roster import` call
    (three interpreter start-ups saved per database).
    """
    from bot.clock import utcnow
    from storage import orgs, roster
    from storage.db import create_engine, session_factory, unit_of_work
    from storage.demo import demo_enrolment_code, seed

    await asyncio.to_thread(_migrate, database_url)
    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        async with unit_of_work(sessions) as session:
            await seed(session, key=KEY.encode(), now=utcnow())
        lines = ["employee_number,department,status,enrolment_code"]
        lines += [
            f"E{n:04d},Chaos,active,{demo_enrolment_code(KEY.encode(), f'E{n:04d}')}"
            for n in range(1, employees + 1)
        ]
        async with unit_of_work(sessions) as session:
            org = await orgs.by_code(session, ORG)
            report = await roster.import_csv(
                session, org, "\n".join(lines), key=KEY.encode(), now=utcnow()
            )
        if report.errors:
            raise RuntimeError(f"roster import failed: {report.errors[:3]}")
    finally:
        await engine.dispose()


class BotProcess:
    """`bot.py serve` in a subprocess: start, wait until healthy, kill, stop."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        """Serve with `env`; logs go to folder/serve.log (appended across restarts)."""
        self.env = env
        self.folder = folder
        self.port = int(env["EAP_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.killed_at: list[float] = []  # time.monotonic() of each SIGKILL

    async def start(self) -> None:
        """Start serving (does not wait until it answers)."""
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "bot.py"),
                "serve",
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.starts += 1

    async def wait_healthy(self, within: float = 60.0) -> None:
        """Wait until GET /healthz answers 200."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"serve exited; see {self.log_path}")
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"serve did not become healthy; see {self.log_path}")

    async def ready(self) -> bool:
        """Whether GET /readyz answers 200 (the database answers)."""
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{self.url}/readyz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.killed_at.append(time.monotonic())
            await self.process.wait()
            self.kills += 1

    async def stop(self) -> int:
        """SIGTERM and wait for a clean exit; its status."""
        if self.process is None:
            return 0
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=60)
        except TimeoutError:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
            return -9

    def tracebacks(self) -> int:
        """How many tracebacks the server logged."""
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count("Traceback")
