"""Streams that flood or trickle: the event loop keeps running, a trickle is no data."""

import asyncio
from collections.abc import AsyncIterator
import gzip
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.ecostruxure.api import ITExpertClient, StreamClosedError
from custom_components.ecostruxure.api.transport import HttpTransport

from .bombs import measure
from .server import Handler, HostileServer

# Enough empty lines (heartbeats) that reading them without a pause blocks for over a second.
LINES = 4_000_000


def streaming(*parts: bytes | float, gzipped: bool = False, hold: bool = False) -> Handler:
    """Write each bytes part, sleep each float; then end, or hold the connection open."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        for part in parts:
            if isinstance(part, float):
                await asyncio.sleep(part)
            else:
                await response.write(part)
        if hold:
            await asyncio.Event().wait()  # until the client goes
        return response

    return handle


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_flood_of_lines_does_not_freeze_the_loop(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    """4 million heartbeats in 4 KB of gzip: read in slices, the loop runs in between."""
    hostile.on(r"/measurements/live$", streaming(gzip.compress(b"\n" * LINES), gzipped=True))
    client = ITExpertClient(session, "AK1/key-1234", base_url=hostile.base_url)

    async def read() -> None:
        async for _ in client.live_measurements("org"):
            pass

    cost, error = await measure(read)
    assert isinstance(error, StreamClosedError)
    assert "ended" in str(error)  # read to the end
    assert cost.longest_stall_ms < 500  # blocked for 1.5 s before (all of it)
    assert cost.rss_growth_mib < 50  # not millions of lines held at once


async def test_a_stream_is_read_at_a_bounded_rate(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    """Decoded bytes beyond the rate wait their turn (on the transport's clock and sleep)."""
    mib = 1024 * 1024
    hostile.on(r"/flood$", streaming(gzip.compress((b"y" * 1023 + b"\n") * 8192), gzipped=True))
    now = 0.0
    waited: list[float] = []

    def clock() -> float:
        return now

    async def sleep(delay: float) -> None:
        nonlocal now
        waited.append(delay)
        now += delay

    transport = HttpTransport(
        session,
        hostile.base_url,
        {"Authorization": "bearer AK1/key-1234"},
        stream_max_bytes_per_second=mib,
        clock=clock,
        sleep=sleep,
    )
    received = 0

    async def read() -> None:
        nonlocal received
        async for line in transport.stream_lines("/flood", idle_timeout=5):
            received += len(line) + 1

    with pytest.raises(StreamClosedError, match="ended"):
        await read()
    assert received == 8 * mib
    # A second's worth at once, then the rest at a MiB per (simulated) second.
    assert sum(waited) == pytest.approx(7, abs=0.1)


async def test_a_trickle_without_newlines_times_out(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    """A byte every 0.1 s keeps a socket busy, but brings no line: idle after 0.5 s."""
    hostile.on(
        r"/measurements/live$",
        streaming(b"\n", *([0.1, b"{"] * 100), gzipped=False, hold=True),
    )
    client = ITExpertClient(session, "AK1/key-1234", base_url=hostile.base_url)
    started = time.monotonic()
    async with asyncio.timeout(5):  # without the fix, the trickle lasts the whole 10 s
        with pytest.raises(StreamClosedError, match=r"no data for 0.5 s"):
            async for _ in client.live_measurements("org", idle_timeout=0.5):
                pass
    assert time.monotonic() - started < 2


async def test_heartbeats_still_keep_a_stream_open(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    hostile.on(r"/measurements/live$", streaming(*([b"\n", 0.2] * 6)))
    client = ITExpertClient(session, "AK1/key-1234", base_url=hostile.base_url)
    started = time.monotonic()
    with pytest.raises(StreamClosedError, match="ended"):
        async for _ in client.live_measurements("org", idle_timeout=0.5):
            pass
    assert time.monotonic() - started > 1  # 1.2 s of heartbeats, never 0.5 s without
