"""python-telegram-bot's transport on one pooled aiohttp session (much faster than httpx)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    """A per-call timeout, or the default when the caller left it unset."""
    return default if value is BaseRequest.DEFAULT_NONE else value  # type: ignore[return-value]


def _add(*parts: float | None) -> float | None:
    """The sum of timeouts; None (no limit) when any part is unlimited."""
    if any(part is None for part in parts):
        return None
    return float(sum(part for part in parts if part is not None))


class AiohttpRequest(BaseRequest):
    """Sends Bot API calls over a pooled aiohttp ClientSession, JSON bodies unless uploading."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        trust_env: bool = True,
    ) -> None:
        """Keep the pool size and default timeouts (seconds) as HTTPXRequest names them."""
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._trust_env = trust_env  # proxies from HTTPS_PROXY, like httpx
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; get_updates adds its long-poll timeout to it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the pooled session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                trust_env=self._trust_env,
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        *,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
        uploading: bool,
    ) -> aiohttp.ClientTimeout:
        read_s = _pick(read, self._read_timeout)
        write_s = _pick(write, self._media_write_timeout if uploading else self._write_timeout)
        connect_s = _pick(connect, self._connect_timeout)
        pool_s = _pick(pool, self._pool_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection plus connecting; it has no
        # write timeout, so the total bounds a stalled upload.
        return aiohttp.ClientTimeout(
            total=_add(pool_s, connect_s, write_s, read_s),
            connect=_add(pool_s, connect_s),
            sock_connect=connect_s,
            sock_read=read_s,
        )

    @staticmethod
    def _body(request_data: RequestData | None) -> tuple[Any, dict[str, str]]:
        """A JSON body, or multipart form data when files are uploaded."""
        if request_data is None:
            return None, {}
        if not request_data.contains_files:
            body = json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":"))
            return body.encode(), {"Content-Type": "application/json"}
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mime_type) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mime_type)
        return form, {}

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one HTTP request; map timeouts to TimedOut and transport errors to NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = self._timeout(
            read=read_timeout,
            write=write_timeout,
            connect=connect_timeout,
            pool=pool_timeout,
            uploading=bool(request_data and request_data.contains_files),
        )
        body, headers = self._body(request_data)
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts subclass it
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
