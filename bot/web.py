"""The aiohttp web app: health, and the platform webhooks when configured."""

from __future__ import annotations

import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy import text

from bot import metrics
from bot.clock import utcnow
from bot.runtime import Runtime
from storage import media as media_store
from storage import outbox as outbox_store
from storage.db import unit_of_work

MEDIA_PATH = re.compile(r"/media/[^/?#]+")

log = logging.getLogger(__name__)
RUNTIME = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process is up and serving."""
    return web.json_response({"status": "ok"})


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus metrics, with the outbox depth and age read at scrape time."""
    runtime = request.app[RUNTIME]
    try:
        async with unit_of_work(runtime.sessions) as session:
            depth, oldest = await outbox_store.depth(session)
        metrics.OUTBOX_DEPTH.set(depth)
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        metrics.OUTBOX_OLDEST_SECONDS.set(max(0.0, age))
    except Exception:  # the scrape still answers with what the process knows
        log.warning("metrics: outbox depth unavailable")
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 200 when the database answers, 503 otherwise."""
    runtime = request.app[RUNTIME]
    try:
        async with unit_of_work(runtime.sessions) as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any database failure means not healthy
        log.warning("health check: database unreachable")
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def media(request: web.Request) -> web.Response:
    """Serve a stored file by its token; 404 when unknown or expired."""
    runtime = request.app[RUNTIME]
    token = request.match_info["token"]
    if len(token) > 64:
        raise web.HTTPNotFound()
    async with unit_of_work(runtime.sessions) as session:
        asset = await media_store.fetch(session, token, utcnow())
    if asset is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=asset.content,
        content_type=asset.mime_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


def build_app(runtime: Runtime) -> web.Application:
    """Create the web app with its routes."""
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/media/{token}", media)
    return app


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log lines with media tokens replaced: a token is a key to a file."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log method, path (tokens withheld), status and duration."""
        path = MEDIA_PATH.sub("/media/<token>", request.path)
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)
