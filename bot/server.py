"""`serve`: the web app, the scheduler, the outbox worker and each configured channel."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.channels.base import Channel
from bot.delivery import OutboxWorker
from bot.inbox import Inbox
from bot.runtime import Runtime, open_runtime
from bot.scheduler import build_scheduler
from bot.settings import Settings
from bot.web import build_app
from handlers.jobs import build_jobs
from storage.retention import Retention

log = logging.getLogger(__name__)


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


class Server:
    """Everything `serve` runs, startable and stoppable (tests run it in-process)."""

    def __init__(self, runtime: Runtime, channels: list[Channel]) -> None:
        """Wire the outbox worker, the inbox and the web app around the channels."""
        self.runtime = runtime
        self.channels = channels
        senders = {c.channel: c for c in channels}
        self.worker = OutboxWorker(runtime.sessions, senders)  # type: ignore[arg-type]
        self.inbox = Inbox(runtime.dispatcher, senders, self.worker)  # type: ignore[arg-type]
        self.app = build_app(runtime)
        for channel in channels:
            channel.add_routes(self.app, self.inbox)
        self.runner = web.AppRunner(self.app)
        settings = runtime.settings
        keep = Retention(
            processed_events=settings.retention_events_days,
            sent_messages=settings.retention_messages_days,
            conversation_states=settings.retention_states_days,
        )
        self.scheduler = build_scheduler(
            runtime.sessions, build_jobs(runtime.dispatcher.key, keep)
        )

    async def start(self, host: str, port: int) -> None:
        """Listen, recover unprocessed events, start delivery, jobs and channels."""
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        recovered = await self.inbox.recover()
        if recovered:
            log.info("recovered %d events stored before a restart", recovered)
        self.worker.start()
        self.scheduler.start()
        for channel in self.channels:
            await channel.start()
            log.info("%s channel started", channel.channel)

    async def stop(self) -> None:
        """Stop receiving, finish what was accepted, and close."""
        for channel in self.channels:
            await channel.stop()
        self.scheduler.shutdown(wait=False)
        await self.inbox.drain()
        await self.worker.stop()
        await self.runner.cleanup()


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    async with open_runtime(settings) as runtime:
        server = Server(runtime, configured_channels(settings))
        await server.start(settings.host, settings.port)
        if not server.channels:
            log.info("no channel credentials set: only /healthz and the scheduler run")
        log.info("serving on http://%s:%d", settings.host, settings.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()
