"""The aiohttp web app: health, and the platform webhooks when configured."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text

from bot.runtime import Runtime
from storage import media as media_store
from storage.models import utcnow

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


async def media(request: web.Request) -> web.Response:
    """Serve a stored file by its token; 404 when unknown or expired."""
    runtime = request.app[RUNTIME]
    token = request.match_info["token"]
    if len(token) > 64:
        raise web.HTTPNotFound()
    async with runtime.sessions() as session:
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
    app.router.add_get("/media/{token}", media)
    return app
