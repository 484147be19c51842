"""The aiohttp web app: health, and the platform webhooks when configured."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text

from bot.runtime import Runtime

log = logging.getLogger(__name__)
RUNTIME = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Answer 200 when the database answers, 503 otherwise."""
    runtime = request.app[RUNTIME]
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any database failure means not healthy
        log.warning("health check: database unreachable")
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


def build_app(runtime: Runtime) -> web.Application:
    """Create the web app with its routes."""
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    return app
