"""The IT Expert measurement streams: live, live-simulator and replay.

Each is a chunked, gzip-compressed body of JSON lines. The compressor is flushed after every
write (Z_SYNC_FLUSH), so a client inflates each line as it arrives; aiohttp's own compression
would hold lines back until its buffer fills. The live stream wakes when the simulator is
notified (clock moved, line emitted, control request) and checks a running clock every
`poll_seconds`; an empty line is a heartbeat.
"""

import asyncio
from collections.abc import AsyncIterator
import contextlib
import random
from typing import TYPE_CHECKING, Final
import zlib

from aiohttp import web

from .it_common import OpenStream
from .it_logs import OFFSET_SIMULATED, encode_offset

if TYPE_CHECKING:
    from .it_expert import ITExpertSimulator, OrganizationState

LIVE_RATE_LIMITED: Final = b'{"systemMessageType":"RATE_LIMIT_REACHED"}\n'
REPLAY_RATE_LIMITED: Final = b'{"replaySystemMessageType":"RATE_LIMIT_REACHED"}\n'
REPLAY_COMPLETED: Final = b'{"replaySystemMessageType":"COMPLETED"}\n'
_BATCH_LINES: Final = 200  # lines per write: small enough to arrive steadily


class _StreamDroppedError(Exception):
    """The control asked for this stream to be cut."""


class _GzipLines:
    """Writes lines to a response as one gzip member, flushed after each write."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    async def write(self, data: bytes) -> None:
        await self.response.write(self._zip.compress(data) + self._zip.flush(zlib.Z_SYNC_FLUSH))

    async def finish(self) -> None:
        await self.response.write(self._zip.flush())
        await self.response.write_eof()


@contextlib.asynccontextmanager
async def _opened(
    sim: ITExpertSimulator, request: web.Request, state: OrganizationState, operation: str
) -> AsyncIterator[tuple[_GzipLines, OpenStream]]:
    """Send the headers and register the stream while it is open."""
    response = web.StreamResponse(
        headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    stream = OpenStream(state.org.id, operation)
    sim.streams.add(stream)
    stats = sim.stats
    stats.open_streams += 1
    stats.peak_open_streams = max(stats.peak_open_streams, stats.open_streams)
    try:
        yield _GzipLines(response), stream
    finally:
        sim.streams.discard(stream)
        stats.open_streams -= 1


async def _wait(stream: OpenStream, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0.001)):
            await stream.wake.wait()


async def _drop(
    sim: ITExpertSimulator,
    request: web.Request,
    writer: _GzipLines,
    stream: OpenStream,
    line: bytes,
) -> None:
    """Cut the connection, after half of `line` when asked to drop mid-line."""
    sim.stats.streams_dropped += 1
    if stream.mid_line:
        await writer.write(line[: len(line) // 2])
    if request.transport is not None:
        # close(), not abort(): what was written (the half line) still reaches the client.
        request.transport.close()
    raise _StreamDroppedError


async def _write_lines(sim: ITExpertSimulator, writer: _GzipLines, lines: list[bytes]) -> None:
    for start in range(0, len(lines), _BATCH_LINES):
        batch = lines[start : start + _BATCH_LINES]
        await writer.write(b"".join(batch))
        sim.stats.lines_sent += len(batch)


async def serve_live(
    sim: ITExpertSimulator, request: web.Request, state: OrganizationState
) -> web.StreamResponse:
    """The lines appended after the client connected, heartbeats in between, no end."""
    loop = asyncio.get_running_loop()
    heartbeat = sim.config.heartbeat_seconds
    cursor = state.measurements.last  # only what comes after the connection
    async with _opened(sim, request, state, "live") as (writer, stream):
        try:
            last_write = loop.time()
            while True:
                stream.wake.clear()
                sim.materialize(state)
                lines = state.measurements.between(cursor, state.measurements.last)
                cursor = state.measurements.last
                if stream.drop:
                    pending = lines or [_next_line(sim, state)]
                    await _write_lines(sim, writer, pending[:-1])
                    await _drop(sim, request, writer, stream, pending[-1])
                if stream.rate_limit:
                    await writer.write(LIVE_RATE_LIMITED)
                    await writer.finish()
                    return writer.response
                if lines:
                    await _write_lines(sim, writer, lines)
                    last_write = loop.time()
                elif loop.time() - last_write >= heartbeat:
                    await writer.write(b"\n")
                    sim.stats.heartbeats_sent += 1
                    last_write = loop.time()
                idle = heartbeat - (loop.time() - last_write)
                await _wait(stream, min(idle, sim.config.poll_seconds))
        except _StreamDroppedError, ConnectionError:
            return writer.response


def _next_line(sim: ITExpertSimulator, state: OrganizationState) -> bytes:
    """A line as the next report would write it (to be cut in half)."""
    sensor = next(iter(state.org.sensors()), None)
    now = sim.now()
    if sensor is None:
        return sim.line(state, "unknown-sensor", now, 0.0)
    return sim.line(state, sensor.id, now, sensor.value(now))


async def serve_simulated(
    sim: ITExpertSimulator,
    request: web.Request,
    state: OrganizationState,
    per_second: int,
    sensor_count: int,
) -> web.StreamResponse:
    """Random-ish values of `sensor_count` fake sensors at `per_second` lines, in real time."""
    loop = asyncio.get_running_loop()
    heartbeat = sim.config.heartbeat_seconds
    fake = _FakeSensors(sim, state, sensor_count)
    async with _opened(sim, request, state, "live-simulator") as (writer, stream):
        try:
            start = last_write = loop.time()
            sent = 0
            while True:
                stream.wake.clear()
                now = loop.time()
                due = int((now - start) * per_second)
                # A stalled reader skips what it could not take, beyond one second's worth.
                sent = max(sent, due - per_second)
                lines = []
                if due > sent:
                    stamp = sim.now()
                    lines = [fake.line(n, stamp) for n in range(sent, due)]
                    sent = due
                if stream.drop:
                    pending = lines or [fake.line(sent, sim.now())]
                    await _write_lines(sim, writer, pending[:-1])
                    await _drop(sim, request, writer, stream, pending[-1])
                if stream.rate_limit:
                    await writer.write(LIVE_RATE_LIMITED)
                    await writer.finish()
                    return writer.response
                if lines:
                    await _write_lines(sim, writer, lines)
                    last_write = loop.time()
                elif now - last_write >= heartbeat:
                    await writer.write(b"\n")
                    sim.stats.heartbeats_sent += 1
                    last_write = loop.time()
                next_line = start + (sent + 1) / per_second
                # Batches of about 20 ms at high rates; one line at a time at low ones.
                wait = max(next_line - loop.time(), 0.02)
                await _wait(stream, min(wait, heartbeat - (loop.time() - last_write)))
        except _StreamDroppedError, ConnectionError:
            return writer.response


class _FakeSensors:
    """The lines of the live-simulator stream: random-ish values of fake sensors."""

    def __init__(self, sim: ITExpertSimulator, state: OrganizationState, count: int) -> None:
        self._sim = sim
        self._state = state
        self._ids = sim.simulated_sensor_ids(state, count)
        self._values = random.Random(sim.config.seed)

    def line(self, number: int, stamp: float) -> bytes:
        sim, ids = self._sim, self._ids
        value: float | str = round(self._values.uniform(0, 1000), 3)
        if number % len(ids) % 20 == 19:  # one sensor in twenty reports text
            value = self._values.choice(("online", "on battery", "ok", "alarm"))
        line = sim.line(self._state, ids[number % len(ids)], stamp, value)
        if (number + 1) % sim.config.offset_every == 0:
            # Offsets of the simulated stream name no line of the log: a replay refuses them.
            index = self._state.org.index
            offset = encode_offset(sim.offset_secret, OFFSET_SIMULATED, index, number + 1)
            line = line[:-2] + b',"offset":"' + offset.encode() + b'"}\n'
        return line


async def serve_replay(
    sim: ITExpertSimulator,
    request: web.Request,
    state: OrganizationState,
    after: int,
    upto: int,
    *,
    refused: bool,
) -> web.StreamResponse:
    """The log's lines in (after, upto], then the completion message; or the refusal."""
    async with _opened(sim, request, state, "replay") as (writer, stream):
        try:
            if refused:
                await writer.write(REPLAY_RATE_LIMITED)
            else:
                lines = state.measurements.between(after, upto)
                for start in range(0, len(lines), _BATCH_LINES):
                    if stream.drop:
                        await _drop(sim, request, writer, stream, lines[start])
                    await _write_lines(sim, writer, lines[start : start + _BATCH_LINES])
                    await asyncio.sleep(0)  # let a control request cut a long replay
                if stream.drop:
                    await _drop(sim, request, writer, stream, REPLAY_COMPLETED)
                await writer.write(REPLAY_COMPLETED)
            await writer.finish()
        except _StreamDroppedError, ConnectionError:
            pass
        return writer.response
