"""The deployment of deploy/ on 127.0.0.1: nginx from deploy/nginx.conf in front of web
processes, workers on one PostgreSQL database, and a webhook load that re-sends what nginx did
not acknowledge, as Telegram does. Used by tests/test_scaleout_nginx.py and bench/scaleout.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.demo import demo_enrolment_code
from tests.fake_telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "deploy" / "nginx.conf"
WEBHOOK_PATH = "/webhooks/telegram"
PUBLIC_WEBHOOK = "https://bot.example.com/webhooks/telegram"
SECRET = "scaleout-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RESEND_AFTER = 0.2  # seconds before a refused update is sent again
UPSTREAM_SERVER = re.compile(r"^([ \t]*)server 127\.0\.0\.1:\d+([^;\n]*);\n", re.M)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, below the ephemeral range.

    A process binds it a second later: a port the kernel hands out for outgoing connections
    (32768 and up) could be taken by then.
    """
    while True:
        port = random.randrange(20_000, 32_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


# nginx ----------------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    """Where nginx is installed (Debian puts it in /usr/sbin, not always on PATH), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def _replace_once(pattern: str, replacement: str, config: str) -> str:
    """Substitute a pattern that must occur exactly once in the recipe."""
    result, count = re.subn(pattern, replacement, config)
    assert count == 1, f"deploy/nginx.conf changed: {pattern!r} matched {count} times"
    return result


def nginx_config(
    folder: Path,
    *,
    web_ports: Sequence[int],
    http_port: int,
    https_port: int,
    certificate: Path,
    key: Path,
) -> str:
    """deploy/nginx.conf in a main configuration: loopback ports, a throwaway certificate, and
    every file nginx writes in `folder`."""
    recipe = RECIPE.read_text(encoding="utf-8")
    servers = list(UPSTREAM_SERVER.finditer(recipe))
    assert servers, "deploy/nginx.conf has no `server 127.0.0.1:PORT ...;` upstream lines"
    indent, options = servers[0].groups()
    upstream = "".join(f"{indent}server 127.0.0.1:{port}{options};\n" for port in web_ports)
    recipe = (
        recipe[: servers[0].start()]
        + upstream
        + UPSTREAM_SERVER.sub("", recipe[servers[0].start() :])
    )
    recipe = _replace_once(r"(?m)^( +)listen 80;", rf"\1listen 127.0.0.1:{http_port};", recipe)
    recipe = _replace_once(r"(?m)^( +)listen 443 ", rf"\1listen 127.0.0.1:{https_port} ", recipe)
    recipe = _replace_once(r"ssl_certificate +\S+;", f"ssl_certificate {certificate};", recipe)
    recipe = _replace_once(r"ssl_certificate_key +\S+;", f"ssl_certificate_key {key};", recipe)
    recipe = _replace_once(r"access_log \S+", f"access_log {folder / 'access.log'}", recipe)
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        "worker_processes 1;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n{temp}\n{recipe}}}\n"
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for bot.example.com."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=bot.example.com"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return certificate, key


class Nginx:
    """nginx in the foreground, configured from the recipe, balancing over `web_ports`."""

    def __init__(self, folder: Path, web_ports: Sequence[int]) -> None:
        """Prepare a folder for nginx's configuration, certificate, logs and temp files."""
        self.folder = folder
        self.web_ports = list(web_ports)
        self.https_port = free_port()
        self.http_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.errors = folder / "error.log"

    def launch(self) -> None:
        """Write the configuration and certificate, check them with `nginx -t`, start nginx."""
        self.folder.mkdir(parents=True, exist_ok=True)
        certificate, key = self_signed(self.folder)
        config = self.folder / "nginx.conf"
        config.write_text(
            nginx_config(
                self.folder,
                web_ports=self.web_ports,
                http_port=self.http_port,
                https_port=self.https_port,
                certificate=certificate,
                key=key,
            )
        )
        nginx = nginx_binary() or "nginx"
        command = [nginx, "-c", str(config), "-p", str(self.folder), "-e", str(self.errors)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        self.process = spawn([*command, "-g", "daemon off;"], self.folder / "nginx.out")

    async def start(self) -> str:
        """Start nginx; return the public HTTPS base URL once it accepts connections."""
        await asyncio.to_thread(self.launch)
        assert self.process is not None
        await wait_for_port(self.https_port, self.process, self.errors)
        return self.url

    def stop(self) -> None:
        """Stop nginx (fast shutdown)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


async def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until something accepts connections on the port, or the process died."""
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {tail(log)}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on {port}: {tail(log)}")


def spawn(
    command: Sequence[str], log: Path, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a process with its output in a log file (a pipe could fill up and stall it)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file (for failure messages)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# Bot processes --------------------------------------------------------------------------------


@dataclass
class BotProcess:
    """One `serve --role ...` process and its log."""

    name: str
    role: str
    port: int
    api: str  # its own port of the fake Bot API, so the fake knows who sent what
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def via(self) -> int:
        """The fake's port this process sends through."""
        return int(self.api.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as a crash or the OOM killer."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (None when it had to be killed)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return None


def bot_env(database_url: str, *, port: int, api: str, key: str) -> dict[str, str]:
    """The environment of deploy/env.example, pointed at the fake Bot API and the test DB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(
        EAP_DATABASE_URL=database_url,
        EAP_PSEUDONYM_KEY=key,
        EAP_HOST="127.0.0.1",
        EAP_PORT=str(port),
        EAP_TELEGRAM_TOKEN=TOKEN,
        EAP_TELEGRAM_API_BASE=api,
        EAP_TELEGRAM_WEBHOOK_URL=PUBLIC_WEBHOOK,
        EAP_TELEGRAM_WEBHOOK_SECRET=SECRET,
        PYTHONPATH=str(ROOT),
    )
    return env


async def start_bot(
    name: str,
    role: str,
    *,
    fake: FakeTelegram,
    database_url: str,
    key: str,
    folder: Path,
    command: Sequence[str] | None = None,
) -> BotProcess:
    """Start `bot.py serve --role ROLE` (or `command`) on a free port, with its own fake port."""
    api = await fake.listen()
    port = free_port()
    log = folder / f"{name}.log"
    process = await asyncio.to_thread(
        spawn,
        command or [sys.executable, "bot.py", "serve", "--role", role],
        log,
        env=bot_env(database_url, port=port, api=api, key=key),
    )
    return BotProcess(name, role, port, api, process, log)


async def wait_healthy(bots: Sequence[BotProcess], seconds: float = 60.0) -> None:
    """Wait until every process answers /healthz."""
    async with aiohttp.ClientSession() as session:
        for bot in bots:
            await wait_for_port(bot.port, bot.process, bot.log)
            deadline = time.monotonic() + seconds
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{bot.port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, f"{bot.name} unhealthy: {tail(bot.log)}"
                await asyncio.sleep(0.1)


async def leaders(bots: Sequence[BotProcess]) -> list[BotProcess]:
    """The processes whose /metrics say they are the scheduler leader."""
    found = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for bot in bots:
            try:
                async with session.get(f"http://127.0.0.1:{bot.port}/metrics") as r:
                    if "eap_scheduler_leader 1.0" in await r.text():
                        found.append(bot)
            except (aiohttp.ClientError, TimeoutError):
                pass
    return found


# PostgreSQL -----------------------------------------------------------------------------------


async def _admin(base_url: str, sql: str) -> None:
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(sql))
    await engine.dispose()


async def create_database(base_url: str, prefix: str) -> str:
    """A new, empty database next to `base_url`'s; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(base_url: str, url: str) -> None:
    """Drop a database made by create_database, whoever is still connected."""
    name = make_url(url).database
    await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The load -------------------------------------------------------------------------------------

Step = tuple[str, str]  # ("text", what is typed) or ("press", the button's callback data)


def journey(number: int, key: str) -> list[Step]:
    """One employee: /start, consent, link (org code, employee number, the demo enrolment code
    under `key`), menu, hours, booking."""
    return [
        ("text", "/start"),
        ("press", "consent:yes:zh-TW"),
        ("text", "DEMO"),
        ("text", f"E{number:04d}"),
        ("text", demo_enrolment_code(key.encode(), f"E{number:04d}")),
        ("text", "/menu"),
        ("press", "hrs"),
        ("press", "bk"),
        ("press", "bk:d:psychology"),
    ]


@dataclass
class Outcome:
    """What a load saw: acknowledged updates, re-sends, latencies, and steps left unanswered."""

    acked: dict[int, int] = field(default_factory=dict)  # update_id -> chat id
    posts: int = 0
    refused: int = 0  # non-200 answers and connection errors, each followed by a re-send
    acks: list[float] = field(default_factory=list)  # first POST until the 200
    latencies: list[float] = field(default_factory=list)  # first POST until the reply shows
    lost: list[tuple[int, int]] = field(default_factory=list)  # (chat, step) never answered
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Updates per second, end to end."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Load:
    """Chats running their journeys through nginx, each waiting for the bot's answer."""

    def __init__(
        self,
        fake: FakeTelegram,
        url: str,
        *,
        concurrency: int = 100,
        reply_timeout: float = 60.0,
        give_up_after: float = 60.0,
    ) -> None:
        """Send to `url` (nginx); at most `concurrency` chats at a time."""
        self.fake = fake
        self.url = url + WEBHOOK_PATH
        self.concurrency = concurrency
        self.reply_timeout = reply_timeout
        self.give_up_after = give_up_after
        self.outcome = Outcome()
        self._shown: dict[int, asyncio.Event] = {}

    def _on_shown(self, shown: Any) -> None:
        event = self._shown.get(shown.chat_id)
        if event is not None:
            event.set()

    async def run(self, chats: dict[int, list[Step]]) -> Outcome:
        """Run every chat's steps in order; return what was seen."""
        self.fake.on_shown = self._on_shown
        gate = asyncio.Semaphore(self.concurrency)
        connector = aiohttp.TCPConnector(limit=self.concurrency, ssl=False)
        timeout = aiohttp.ClientTimeout(total=15)
        began = time.perf_counter()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def one(chat: int, steps: list[Step]) -> None:
                async with gate:
                    await self._chat(session, chat, steps)

            await asyncio.gather(*(one(chat, steps) for chat, steps in chats.items()))
        self.outcome.seconds = time.perf_counter() - began
        self.fake.on_shown = None
        return self.outcome

    async def _chat(self, session: aiohttp.ClientSession, chat: int, steps: list[Step]) -> None:
        self.fake.user(chat)
        self._shown[chat] = asyncio.Event()
        for index, (kind, value) in enumerate(steps):
            if kind == "press" and not await self._until(chat, lambda v=value: self._has(chat, v)):
                self.outcome.lost.append((chat, index))
                return
            make = self.fake.text if kind == "text" else self.fake.press
            update = make(chat, value)
            before = len(self.fake.shown_in(chat))
            started = time.perf_counter()
            if not await self._post_until_acked(session, update):
                self.outcome.lost.append((chat, index))
                return
            self.outcome.acked[update["update_id"]] = chat
            self.outcome.acks.append(time.perf_counter() - started)
            if not await self._until(chat, lambda n=before: len(self.fake.shown_in(chat)) > n):
                self.outcome.lost.append((chat, index))
                return
            self.outcome.latencies.append(time.perf_counter() - started)

    def _has(self, chat: int, data: str) -> bool:
        """Whether a message in the chat shows a button with this callback data."""
        for message in self.fake.chats[chat].messages.values():
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == data for row in rows for button in row):
                return True
        return False

    async def _until(self, chat: int, condition: Any) -> bool:
        """Wait for the fake's messages to the chat until the condition holds; False: timed out."""
        deadline = time.monotonic() + self.reply_timeout
        event = self._shown[chat]
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), timeout=min(left, 1.0))
            except TimeoutError:
                pass
        return True

    async def _post_until_acked(self, session: aiohttp.ClientSession, update: dict) -> bool:
        """POST the update until it is answered 200, as Telegram re-sends; False if never."""
        body = json.dumps(update)
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            self.outcome.posts += 1
            try:
                async with session.post(self.url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.outcome.refused += 1
            await asyncio.sleep(RESEND_AFTER)
        return False
