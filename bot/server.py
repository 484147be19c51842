"""`serve`: the web app, the scheduler, the outbox worker and each configured channel."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot import i18n, metrics
from bot.channels.base import Channel
from bot.delivery import OutboxWorker
from bot.inbox import Inbox
from bot.leader import LeaderElection
from bot.runtime import Runtime, open_runtime
from bot.scheduler import build_scheduler
from bot.settings import Settings, SettingsError
from bot.web import RedactingAccessLogger, build_app
from handlers.crisis_screen import warm_up as warm_up_screen
from handlers.jobs import build_jobs
from storage.db import is_sqlite
from storage.retention import Retention

log = logging.getLogger(__name__)


def _warm_up() -> None:
    """Load the crisis screen and the message catalogs before the first update, so its turn
    does not hold the event loop (and every webhook behind it) for a second or two."""
    warm_up_screen()
    for locale in i18n.SUPPORTED:
        i18n.bundle(locale)


def configured_channels(settings: Settings) -> list[Channel]:
    """The channels whose credentials are set."""
    channels: list[Channel] = []
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings))
    if settings.line_enabled:
        from bot.channels.line import LineChannel

        channels.append(LineChannel(settings))
    return channels


ROLES = ("all", "web", "worker")
RECOVER_EVERY = 30.0


class Server:
    """Everything `serve` runs, by role, startable and stoppable (tests run it in-process).

    web: webhooks, processing and immediate answers. worker: the outbox worker, recovery of
    events a crashed process left, and, on the elected leader only, the scheduler and the
    channels' own receiving (webhook registration, long polling). all: both.
    """

    def __init__(self, runtime: Runtime, channels: list[Channel], role: str = "all") -> None:
        """Wire the outbox worker, the inbox and the web app around the channels."""
        self.runtime = runtime
        self.channels = channels
        self.role = role
        senders = {c.channel: c for c in channels}
        self.worker = OutboxWorker(runtime.sessions, senders)  # type: ignore[arg-type]
        self.inbox = Inbox(runtime.dispatcher, senders, self.worker)  # type: ignore[arg-type]
        self.app = build_app(runtime)
        if role in ("all", "web"):
            for channel in channels:
                channel.add_routes(self.app, self.inbox)
        self.runner = web.AppRunner(self.app, access_log_class=RedactingAccessLogger)
        settings = runtime.settings
        keep = Retention(
            processed_events=settings.retention_events_days,
            sent_messages=settings.retention_messages_days,
            conversation_states=settings.retention_states_days,
        )
        self.scheduler = build_scheduler(
            runtime.sessions, build_jobs(runtime.dispatcher.key, keep)
        )
        self.leader = LeaderElection(
            runtime.engine, on_elected=self._lead, on_deposed=self._step_down
        )
        self._recovery: asyncio.Task[None] | None = None
        self._leading = False
        self.fatal: Exception | None = None
        self.failed = asyncio.Event()

    async def _lead(self) -> None:
        """Became the leader: run the scheduled jobs and the channels' receiving."""
        if self.scheduler.state == 0:  # never started
            self.scheduler.start()
        else:
            self.scheduler.resume()
        for channel in self.channels:
            try:
                await channel.start()
            except SettingsError as err:  # e.g. a token the platform rejects: stop serving
                self.fatal = err
                self.failed.set()
                raise
            log.info("%s channel started", channel.channel)
        metrics.SCHEDULER_LEADER.set(1)
        self._leading = True

    async def _step_down(self) -> None:
        """Lost the leadership (database gone): pause the jobs until elected again."""
        self._leading = False
        metrics.SCHEDULER_LEADER.set(0)
        self.scheduler.pause()

    async def _recover_forever(self) -> None:
        """Process events left stored by a process that died, now and every 30 s."""
        await self.inbox.catch_up()  # before anything that arrives now (held meanwhile)
        while True:
            try:
                recovered = await self.inbox.recover()
                if recovered:
                    log.info("recovered %d events stored before a crash", recovered)
            except Exception:  # the database may be down; try again later
                log.warning("event recovery failed; retrying")
            await asyncio.sleep(RECOVER_EVERY)

    async def start(self, host: str, port: int) -> None:
        """Listen; a worker also recovers events, delivers the outbox and seeks leadership."""
        await asyncio.to_thread(_warm_up)
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        if self.role == "web":
            return
        self.inbox.hold_until_caught_up(retry=False)  # events a crash left come before new ones
        self._recovery = asyncio.create_task(self._recover_forever(), name="event-recovery")
        self.worker.start()
        self.leader.start()
        for _ in range(500):  # usually elected at once; give the first check time to finish
            if self._leading or self.fatal is not None:
                break
            await asyncio.sleep(0.01)
        if self.fatal is not None:
            await self.stop()
            raise self.fatal

    async def stop(self) -> None:
        """Stop receiving, finish what was accepted, and close."""
        if self._recovery is not None:
            self._recovery.cancel()
        self.inbox.stop_catching_up()
        await self.leader.stop()
        if self._leading or self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.inbox.drain()
        await self.worker.stop()
        for channel in self.channels:
            await channel.stop()
        await self.runner.cleanup()


async def serve(settings: Settings, role: str = "all") -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    if role != "all" and is_sqlite(settings.database_url):
        raise SettingsError(
            "SQLite runs as a single process: use `serve --role all`, or PostgreSQL "
            "(EAP_DATABASE_URL=postgresql+asyncpg://...) for separate web and worker processes"
        )
    async with open_runtime(settings) as runtime:
        server = Server(runtime, configured_channels(settings), role)
        stop = asyncio.Event()  # handlers first: a SIGTERM while starting still stops cleanly
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start(settings.host, settings.port)
        if not server.channels:
            log.info("no channel credentials set: only the web endpoints and the scheduler run")
        log.info("serving (%s) on http://%s:%d", role, settings.host, settings.port)
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(server.failed.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        await server.stop()
        if server.fatal is not None:
            raise server.fatal
