"""A scripted IT Expert service on loopback, and clients of it.

Each test says what the service answers, path by path, so every corner of the contract
(alternative field names, pages, error statuses, streams cut at any byte) can be staged.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
import json
from typing import Any
import zlib

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.ecostruxure.api import ITExpertClient

from ..conftest import RecordingSleep

# A key as issued: it may contain "/" and other characters a URL would mangle.
API_KEY = "AK1/s3cr3t+Key/xyz=="
ORG = "95d696c3-842d-495c-b78e-178c87a7ce3f"
BASE_PATH = "/rest/v1"


@dataclass(frozen=True)
class Reply:
    """A REST answer: JSON unless `body` is bytes."""

    body: object = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stream:
    """A streamed answer: bytes are sent (gzip-flushed one by one), numbers are pauses."""

    parts: Sequence[bytes | float] = ()
    gzip: bool = True
    hold: bool = False  # stay open and silent after the parts, until the client leaves
    abort: bool = False  # drop the connection without ending the chunked body


@dataclass(frozen=True)
class Seen:
    """One request as the service saw it."""

    raw_path: str  # relative to the base path, still percent-encoded
    query: Mapping[str, str]
    headers: Mapping[str, str]


class FakeITExpert:
    """Answers each path with its scripted replies in order, the last one for ever."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply | Stream]] = {}
        self.requests: list[Seen] = []
        self.base_url = ""
        self.release = asyncio.Event()
        self.streams_ended = 0
        self.stream_ended = asyncio.Event()

    def add(self, raw_path: str, *replies: Reply | Stream) -> None:
        """Script the answers of a path (relative to the base path, percent-encoded)."""
        self.routes[raw_path] = list(replies)

    def seen(self, raw_path: str) -> list[Seen]:
        """The requests made to one path."""
        return [request for request in self.requests if request.raw_path == raw_path]

    def app(self) -> web.Application:
        """The aiohttp application serving the script."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path.removeprefix(BASE_PATH)
        self.requests.append(Seen(raw_path, dict(request.query), dict(request.headers)))
        replies = self.routes.get(raw_path)
        if not replies:
            return web.json_response({"title": "Not Found"}, status=404)
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Stream):
            return await self._stream(request, reply)
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        return web.Response(
            body=body,
            status=reply.status,
            headers={"Content-Type": "application/json", **reply.headers},
        )

    async def _stream(self, request: web.Request, stream: Stream) -> web.StreamResponse:
        headers = {"Content-Type": "application/x-ndjson"}
        if stream.gzip:
            headers["Content-Encoding"] = "gzip"
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        compressor = zlib.compressobj(wbits=31) if stream.gzip else None
        try:
            for part in stream.parts:
                if not isinstance(part, bytes):
                    await asyncio.sleep(part)
                    continue
                if compressor is not None:
                    # A sync flush sends the part now, as a streaming service does.
                    await response.write(
                        compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH)
                    )
                else:
                    await response.write(part)
            if stream.abort:
                assert request.transport is not None
                request.transport.abort()
                return response
            if stream.hold:
                await self.release.wait()
            if compressor is not None:
                await response.write(compressor.flush())
            await response.write_eof()
            return response
        finally:
            self.streams_ended += 1
            self.stream_ended.set()


@pytest.fixture
async def service(socket_enabled: None) -> AsyncIterator[FakeITExpert]:
    """The scripted service on a free loopback port."""
    fake = FakeITExpert()
    # Handlers are cancelled when their client leaves, as a streaming service notices.
    server = TestServer(fake.app(), handler_cancellation=True)
    await server.start_server()
    fake.base_url = str(server.make_url(BASE_PATH))
    yield fake
    fake.release.set()
    await server.close()


@pytest.fixture
def make_client(
    session: aiohttp.ClientSession, service: FakeITExpert, sleep: RecordingSleep
) -> Callable[..., ITExpertClient]:
    """Build clients of the scripted service; keyword arguments override the defaults."""

    def make(**overrides: Any) -> ITExpertClient:
        options: dict[str, Any] = {"base_url": service.base_url, "sleep": sleep, **overrides}
        return ITExpertClient(session, API_KEY, **options)

    return make


@pytest.fixture
def client(make_client: Callable[..., ITExpertClient]) -> ITExpertClient:
    return make_client()


def org_path(tail: str = "", organization_id: str = ORG) -> str:
    """The percent-encoded path of an organization's operation."""
    return f"/organizations/{organization_id}{tail}"


def ndjson(*documents: object) -> bytes:
    """Lines of JSON documents, each with its newline."""
    return b"".join(json.dumps(document).encode() + b"\n" for document in documents)
