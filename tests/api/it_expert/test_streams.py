"""The measurement streams: line framing, heartbeats, system messages, every way they end."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
import logging
import time
from typing import Any, cast

import aiohttp
import pytest

from custom_components.ecostruxure.api import (
    AuthenticationError,
    ForbiddenError,
    InvalidRequestError,
    ITExpertClient,
    RateLimitedError,
    RedirectError,
    ServerError,
    StreamClosedError,
    StreamRateLimitedError,
    transport as transport_module,
)
from custom_components.ecostruxure.api.it_expert import SensorReading
from custom_components.ecostruxure.api.transport import HttpTransport

from ..conftest import RecordingSleep
from .conftest import API_KEY, ORG, FakeITExpert, Reply, Stream, ndjson, org_path

LIVE = org_path("/measurements/live")
SIMULATED = org_path("/measurements/live-simulator")
REPLAY = org_path("/measurements/replay")

ONE = {"sensorId": "s1", "timestamp": "2026-11-28T12:43:54.811Z", "numericValue": 41.5}
TWO = {"sensorId": "s2", "timestamp": "2026-11-28T12:43:55.391Z", "stringValue": "online"}
THREE = {
    "sensorId": "s3",
    "timestamp": "2026-11-28T12:44:16.238Z",
    "numericValue": 2.3e3,
    "offset": "TEG3T3Vs-_x",
}
COMPLETED = {"replaySystemMessageType": "COMPLETED"}


async def _read(stream: AsyncGenerator[SensorReading]) -> tuple[list[SensorReading], Any]:
    """Every reading until the stream ends, and how it ended (None, or the exception)."""
    readings: list[SensorReading] = []
    async with aclosing(stream) as opened:
        try:
            async for reading in opened:
                # One by one: the readings before an error are kept.
                readings.append(reading)  # noqa: PERF401
        except Exception as err:  # noqa: BLE001 - the test inspects it
            return readings, err
    return readings, None


async def test_a_gzip_stream_of_readings_then_its_end(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(LIVE, Stream([ndjson(ONE, TWO), ndjson(THREE)]))
    readings, ended = await _read(client.live_measurements(ORG))
    assert readings == [
        SensorReading("s1", datetime(2026, 11, 28, 12, 43, 54, 811000, tzinfo=UTC), 41.5),
        SensorReading("s2", datetime(2026, 11, 28, 12, 43, 55, 391000, tzinfo=UTC), "online"),
        SensorReading(
            "s3", datetime(2026, 11, 28, 12, 44, 16, 238000, tzinfo=UTC), 2300.0, "TEG3T3Vs-_x"
        ),
    ]
    # The live stream has no normal end: its end is a drop.
    assert isinstance(ended, StreamClosedError)
    assert "ended" in str(ended)
    (request,) = service.requests
    assert request.headers["Accept-Encoding"] == "gzip"
    assert request.headers["Authorization"] == f"bearer {API_KEY}"
    assert request.query == {}


async def test_an_uncompressed_answer_is_read_too(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(LIVE, Stream([ndjson(ONE)], gzip=False))
    readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamClosedError)


async def test_heartbeats_are_skipped(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(LIVE, Stream([b"\n", b"\n   \n", ndjson(ONE), b"\r\n", b"\n", ndjson(TWO)]))
    readings, _ = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1", "s2"]


async def test_a_line_split_across_chunks(client: ITExpertClient, service: FakeITExpert) -> None:
    line = ndjson(THREE)
    service.add(LIVE, Stream([line[:10], 0.02, line[10:30], 0.02, line[30:] + ndjson(ONE)[:5]]))
    readings, _ = await _read(client.live_measurements(ORG))
    assert [(r.sensor_id, r.offset) for r in readings] == [("s3", "TEG3T3Vs-_x")]


async def test_a_last_line_without_its_newline_is_dropped(
    client: ITExpertClient, service: FakeITExpert, caplog: pytest.LogCaptureFixture
) -> None:
    # The fragment is valid JSON, but without its newline it may be a line cut mid-way.
    service.add(LIVE, Stream([ndjson(ONE) + ndjson(TWO).rstrip(b"\n")]))
    with caplog.at_level(logging.DEBUG):
        readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamClosedError)
    assert "cut off" in caplog.text


async def test_unknown_and_unreadable_lines_are_skipped(
    client: ITExpertClient, service: FakeITExpert, caplog: pytest.LogCaptureFixture
) -> None:
    service.add(
        LIVE,
        Stream(
            [
                b"not json\n",
                b"[1, 2]\n",
                b'{"hello":"world"}\n',
                b'{"systemMessageType":"MAINTENANCE_SOON"}\n',
                ndjson(COMPLETED),  # a replay's message means nothing on the live stream
                b'{"sensorId":"s9","timestamp":"yesterday","numericValue":1}\n',
                b'{"timestamp":"2026-11-28T12:43:54Z","numericValue":1}\n',
                b"\xff\xfe garbage\n",
                ndjson(ONE),
            ]
        ),
    )
    with caplog.at_level(logging.DEBUG):
        readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamClosedError)
    assert "Ignoring an unknown stream message in systemMessageType" in caplog.text


async def test_the_rate_limit_message_of_the_live_stream(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(
        LIVE,
        Stream([ndjson(ONE, {"systemMessageType": "RATE_LIMIT_REACHED"}, TWO)], hold=True),
    )
    readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamRateLimitedError)
    assert not isinstance(ended, StreamClosedError)
    await asyncio.wait_for(service.stream_ended.wait(), 5)  # the connection was let go


async def test_the_simulated_live_stream_sends_its_rates(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(SIMULATED, Stream([ndjson(ONE)]))
    stream = client.simulated_live_measurements(ORG, per_second=100, sensor_count=2000)
    readings, ended = await _read(stream)
    assert len(readings) == 1
    assert isinstance(ended, StreamClosedError)
    assert service.requests[0].query == {"measurementsPerSecond": "100", "sensorCount": "2000"}


# --- replay -----------------------------------------------------------------------------


async def test_a_replay_ends_normally_at_its_completion_message(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    # Whatever follows the message is not read; the service may even keep the line open.
    service.add(REPLAY, Stream([ndjson(THREE, ONE, COMPLETED, TWO)], hold=True))
    from_offset = "iATwW6zmxlaqhx_3TwhlU9jP26525HlAd3is-Ub93Mp2fIz5tm6Aemc8pNnCkD_5AAAiAGwo"
    readings, ended = await _read(client.replay_measurements(ORG, from_offset, "TEG3T3Vs-_x"))
    assert ended is None
    assert [(r.sensor_id, r.offset) for r in readings] == [("s3", "TEG3T3Vs-_x"), ("s1", None)]
    assert service.requests[0].query == {"fromOffset": from_offset, "toOffset": "TEG3T3Vs-_x"}
    assert service.requests[0].headers["Accept-Encoding"] == "gzip"
    await asyncio.wait_for(service.stream_ended.wait(), 5)


async def test_a_replay_without_its_completion_message_is_a_drop(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(REPLAY, Stream([ndjson(THREE, ONE)]))
    readings, ended = await _read(client.replay_measurements(ORG, "a", "b"))
    assert len(readings) == 2
    assert isinstance(ended, StreamClosedError)


async def test_the_rate_limit_message_of_a_replay(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(REPLAY, Stream([ndjson(ONE, {"replaySystemMessageType": "RATE_LIMIT_REACHED"})]))
    readings, ended = await _read(client.replay_measurements(ORG, "a", "b"))
    assert len(readings) == 1
    assert isinstance(ended, StreamRateLimitedError)


# --- how streams end --------------------------------------------------------------------


async def test_a_quiet_stream_times_out(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(LIVE, Stream([ndjson(ONE)], hold=True))
    started = time.monotonic()
    readings, ended = await _read(client.live_measurements(ORG, idle_timeout=0.3))
    assert len(readings) == 1
    assert isinstance(ended, StreamClosedError)
    assert "no data for 0.3 s" in str(ended)
    assert time.monotonic() - started < 3


async def test_heartbeats_keep_a_stream_alive(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(LIVE, Stream([b"\n", 0.25, b"\n", 0.25, b"\n", 0.25, ndjson(ONE)]))
    readings, ended = await _read(client.live_measurements(ORG, idle_timeout=0.6))
    assert len(readings) == 1  # 0.75 s in all, never 0.6 s quiet
    assert "ended" in str(ended)


async def test_a_broken_connection(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(LIVE, Stream([ndjson(ONE), b'{"sensorId":"s2"'], gzip=False, abort=True))
    readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamClosedError)
    assert "broke off: ClientPayloadError" in str(ended)


async def test_nobody_listening(
    session: aiohttp.ClientSession, sleep: RecordingSleep, socket_enabled: None
) -> None:
    client = ITExpertClient(session, API_KEY, base_url="http://127.0.0.1:9/rest/v1", sleep=sleep)
    readings, ended = await _read(client.live_measurements(ORG))
    assert readings == []
    assert isinstance(ended, StreamClosedError)
    assert sleep.delays == []  # the caller reconnects, not the transport


async def test_a_connection_that_cannot_be_made_in_time() -> None:
    class SlowSession:
        def get(self, *args: object, **kwargs: object) -> Any:
            raise aiohttp.ConnectionTimeoutError

    transport = HttpTransport(cast(aiohttp.ClientSession, SlowSession()), "http://x", {})
    with pytest.raises(StreamClosedError, match="no connection within 10 s"):
        async for _ in transport.stream_lines("/live", idle_timeout=1):
            pass


async def test_an_endless_line_is_not_buffered_for_ever(
    client: ITExpertClient, service: FakeITExpert, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_module, "STREAM_MAX_LINE", 100)
    service.add(LIVE, Stream([ndjson(ONE), b"x" * 60, 0.02, b"x" * 60, 0.02, ndjson(TWO)]))
    readings, ended = await _read(client.live_measurements(ORG))
    assert [reading.sensor_id for reading in readings] == ["s1"]
    assert isinstance(ended, StreamClosedError)
    assert "longer than 100 bytes" in str(ended)


async def test_leaving_a_stream_closes_its_connection(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(LIVE, Stream([ndjson(ONE, TWO)], hold=True))
    async with aclosing(client.live_measurements(ORG)) as stream:
        async for _ in stream:
            break
    await asyncio.wait_for(service.stream_ended.wait(), 5)


async def test_on_connected_is_told_before_the_first_line(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    events: list[str] = []
    service.add(LIVE, Stream([b"\n", 0.05, ndjson(ONE)]))
    service.add(REPLAY, Stream([ndjson(COMPLETED)]))
    service.add(SIMULATED, Reply({"title": "Unauthorized"}, status=401))
    async with aclosing(
        client.live_measurements(ORG, on_connected=lambda: events.append("live"))
    ) as stream:
        async for reading in stream:
            events.append(reading.sensor_id)
            break
    await _read(client.replay_measurements(ORG, "a", "b", on_connected=lambda: events.append("r")))
    await _read(
        client.simulated_live_measurements(
            ORG, per_second=1, sensor_count=1, on_connected=lambda: events.append("sim")
        )
    )
    assert events == ["live", "s1", "r"]  # a refused stream never connected


async def test_a_stream_takes_no_slot_of_the_rest_calls(
    make_client: Callable[..., ITExpertClient], service: FakeITExpert
) -> None:
    client = make_client(max_concurrency=1)
    service.add(LIVE, Stream([ndjson(ONE)], hold=True))
    service.add(REPLAY, Stream([ndjson(ONE)], hold=True))
    service.add("/organizations", Reply(["org-1"]))
    async with (
        aclosing(client.live_measurements(ORG)) as live,
        aclosing(client.replay_measurements(ORG, "a", "b")) as replay,
    ):
        assert (await anext(live)).sensor_id == "s1"
        assert (await anext(replay)).sensor_id == "s1"
        # Both streams stay open while the single REST slot serves a call.
        assert await asyncio.wait_for(client.organizations(), 5) == ("org-1",)


# --- error statuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (406, InvalidRequestError),
        (500, ServerError),
        (503, ServerError),
    ],
)
async def test_error_statuses_are_the_rest_errors_without_a_retry(
    client: ITExpertClient,
    service: FakeITExpert,
    sleep: RecordingSleep,
    status: int,
    error: type[Exception],
) -> None:
    service.add(REPLAY, Reply({"title": "Refused", "detail": "no"}, status=status))
    readings, ended = await _read(client.replay_measurements(ORG, "a", "b"))
    assert readings == []
    assert type(ended) is error
    assert getattr(ended, "status", None) == status
    assert len(service.requests) == 1
    assert sleep.delays == []


async def test_429_on_a_stream_says_when_to_come_back(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(LIVE, Reply({"detail": "slow down"}, status=429, headers={"Retry-After": "90"}))
    _, ended = await _read(client.live_measurements(ORG))
    assert isinstance(ended, RateLimitedError)
    assert ended.retry_after == 90.0
    assert str(ended) == "HTTP 429 Too Many Requests: slow down"


async def test_a_redirect_is_not_followed(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(LIVE, Reply(None, status=302, headers={"Location": "/elsewhere"}))
    _, ended = await _read(client.live_measurements(ORG))
    assert isinstance(ended, RedirectError)
    assert ended.status == 302
    assert "HTTP 302" in str(ended)
    assert [request.raw_path for request in service.requests] == [LIVE]


async def test_stream_arguments_are_checked(client: ITExpertClient) -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        client.live_measurements(ORG, idle_timeout=0)
    with pytest.raises(ValueError, match="at least 1"):
        client.simulated_live_measurements(ORG, per_second=0, sensor_count=10)
    with pytest.raises(ValueError, match="both offsets"):
        client.replay_measurements(ORG, "", "b")


# --- secrets ----------------------------------------------------------------------------


async def test_the_key_never_shows_in_stream_errors_or_logs(
    client: ITExpertClient, service: FakeITExpert, caplog: pytest.LogCaptureFixture
) -> None:
    service.add(
        LIVE,
        Reply({"title": "Unauthorized", "detail": f"key {API_KEY} revoked"}, status=401),
    )
    service.add(REPLAY, Stream([b"garbage\n", ndjson(ONE), b'{"sensorId":"s"']))
    service.add(org_path("/measurements/live", "other"), Stream(hold=True))
    with caplog.at_level(logging.DEBUG):
        _, refused = await _read(client.live_measurements(ORG))
        _, dropped = await _read(client.replay_measurements(ORG, "a", "b"))
        _, timed_out = await _read(client.live_measurements("other", idle_timeout=0.1))
    for error in (refused, dropped, timed_out):
        assert error is not None
        assert API_KEY not in str(error)
    assert "**REDACTED**" in str(refused)
    assert isinstance(timed_out, StreamClosedError)
    assert API_KEY not in caplog.text
