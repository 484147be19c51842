"""`serve`: the web app, the scheduler and each configured channel until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.runtime import open_runtime
from bot.scheduler import build_scheduler
from bot.settings import Settings
from bot.web import build_app
from handlers.jobs import JOBS

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    async with open_runtime(settings) as runtime:
        app = build_app(runtime)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        scheduler = build_scheduler(runtime.sessions, JOBS)
        scheduler.start()
        for name, enabled in (
            ("Telegram", settings.telegram_enabled),
            ("LINE", settings.line_enabled),
        ):
            log.info("%s channel: %s", name, "credentials set" if enabled else "not configured")
        log.info("serving on http://%s:%d", settings.host, settings.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        scheduler.shutdown(wait=False)
        await runner.cleanup()
