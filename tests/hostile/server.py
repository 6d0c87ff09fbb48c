"""A service that answers what a test tells it to, and by default what the simulator says.

The simulator answers the way the client expects; these tests need a server that does not.
`HostileServer` matches each request against the rules a test added, first match wins; a
request no rule matches is forwarded to `upstream` (a running simulator) when there is one,
else answered 404. Every request is recorded with its headers, so that a test can show what a
redirect target, say, was sent.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import re
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers a forwarding proxy must not copy (hop by hop, or recomputed by aiohttp).
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
)


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


class HostileServer:
    """An HTTP server on a free loopback port, answering by rules (see the module)."""

    def __init__(self, upstream: str | None = None, prefix: str = "") -> None:
        """Forward unmatched requests to `upstream` (a root URL such as http://host:port).

        `prefix` is the path the API lives under; `base_url` includes it.
        """
        self.upstream = upstream
        self.prefix = prefix
        self.seen: list[Seen] = []
        self._rules: list[tuple[re.Pattern[str], Handler]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    def on(self, path: str, handler: Handler) -> None:
        """Answer requests whose path (query excluded) matches the regular expression `path`."""
        self._rules.append((re.compile(path), handler))

    def clear(self) -> None:
        """Forget the rules: every request goes upstream again."""
        self._rules.clear()

    @property
    def root_url(self) -> str:
        """http://127.0.0.1:port."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The root URL and the API's prefix."""
        return self.root_url + self.prefix

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers))
        )
        for pattern, handler in self._rules:
            if pattern.search(request.path):
                return await handler(request)
        if self.upstream is None or self._session is None:
            return web.Response(status=404, text="no rule")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        async with self._session.get(
            self.upstream + request.path_qs, headers=headers, allow_redirects=False
        ) as answer:
            body = await answer.read()
            copied = {k: v for k, v in answer.headers.items() if k.lower() not in _NOT_FORWARDED}
            return web.Response(status=answer.status, body=body, headers=copied)

    async def start(self) -> None:
        """Start listening on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        if self.upstream is not None:
            # Bodies arrive decoded and are forwarded uncompressed (content-encoding dropped).
            self._session = aiohttp.ClientSession(auto_decompress=True)

    async def stop(self) -> None:
        """Stop listening."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start, as a context manager."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop, as a context manager."""
        await self.stop()
