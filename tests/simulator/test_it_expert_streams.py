"""The IT Expert measurement streams: gzip NDJSON, heartbeats, offsets, drops and replays."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import json
import re
import time
from typing import Any
import zlib

import aiohttp
import pytest

from custom_components.ecostruxure.api.it_expert import paths as it_paths
from simulator import ITExpertConfig, ITExpertSimulator, SimulatorConfig, SimulatorServer

GZIP = {"Accept-Encoding": "gzip"}
OFFSET = re.compile(r"^[A-Za-z0-9_-]{100,}$")
RATE_LIMITED = {"systemMessageType": "RATE_LIMIT_REACHED"}
REPLAY_RATE_LIMITED = {"replaySystemMessageType": "RATE_LIMIT_REACHED"}
COMPLETED = {"replaySystemMessageType": "COMPLETED"}


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Quick heartbeats and polling, two replays an hour, a short measurement log."""
    return SimulatorConfig(
        seed=7,
        sites=1,
        assets_per_site=8,
        it_expert=ITExpertConfig(
            seed=7,
            heartbeat_seconds=0.2,
            poll_seconds=0.02,
            replays_per_hour=2,
            measurement_log_lines=400,
        ),
    )


@pytest.fixture
def it(simulator_server: SimulatorServer) -> ITExpertSimulator:
    return simulator_server.simulator.it_expert


@pytest.fixture
def org_id(it: ITExpertSimulator) -> str:
    return it.organizations[0].id


@pytest.fixture
def headers(it: ITExpertSimulator) -> dict[str, str]:
    return {"Authorization": f"bearer {it.config.customer_key}", **GZIP}


@pytest.fixture
async def live(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    org_id: str,
    headers: dict[str, str],
) -> AsyncIterator[aiohttp.ClientResponse]:
    """An open live stream of the first organization."""
    path = it_paths.LIVE_MEASUREMENTS.format(organization_id=org_id)
    async with http.get(simulator_server.it_base_url + path, headers=headers) as response:
        assert response.status == 200
        yield response


async def next_line(response: aiohttp.ClientResponse, within: float = 2.0) -> bytes:
    async with asyncio.timeout(within):
        return await response.content.readline()


async def drain(response: aiohttp.ClientResponse) -> None:
    while await next_line(response):
        pass


async def documents(
    response: aiohttp.ClientResponse, count: int, within: float = 2.0
) -> list[dict[str, Any]]:
    """The next `count` non-empty lines, heartbeats skipped."""
    found = []
    while len(found) < count:
        line = await next_line(response, within)
        assert line, f"the stream ended after {len(found)} lines"
        if line.strip():
            found.append(json.loads(line))
    return found


async def until(condition: Any) -> None:
    """Wait up to two seconds for `condition()` (what the server notices after a client)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition did not come true")


def sensor_ids(it: ITExpertSimulator, org_id: str) -> list[str]:
    return [sensor.id for sensor in it.organization(org_id).sensors()]


@pytest.mark.parametrize(
    "path",
    [
        it_paths.LIVE_MEASUREMENTS,
        it_paths.SIMULATED_LIVE_MEASUREMENTS,
        it_paths.REPLAY_MEASUREMENTS,
    ],
)
async def test_streams_need_gzip(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    org_id: str,
    headers: dict[str, str],
    path: str,
) -> None:
    url = simulator_server.it_base_url + path.format(organization_id=org_id)
    async with http.get(url, headers={**headers, "Accept-Encoding": "identity"}) as response:
        assert (response.status, response.content_type) == (406, "application/problem+json")
    async with http.get(url, headers={"Accept-Encoding": "identity"}) as response:
        assert response.status == 401  # the key is checked first


async def test_the_body_is_gzip_flushed_line_by_line(
    simulator_server: SimulatorServer, it: ITExpertSimulator, org_id: str, headers: dict[str, str]
) -> None:
    path = it_paths.LIVE_MEASUREMENTS.format(organization_id=org_id)
    async with (
        aiohttp.ClientSession(auto_decompress=False) as raw,
        raw.get(simulator_server.it_base_url + path, headers=headers) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Transfer-Encoding"] == "chunked"
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        sensor = sensor_ids(it, org_id)[0]
        it.emit_measurement(sensor, 41.5)
        text = b""
        async with asyncio.timeout(2):
            while not text.endswith(b"\n"):
                # Each write is a complete deflate block: it inflates before the body ends.
                text += inflate.decompress(await response.content.readany())
        assert json.loads(text) == {
            "sensorId": sensor,
            "timestamp": "2026-06-15T09:30:00.000Z",
            "numericValue": 41.5,
        }


async def test_only_lines_after_connecting_and_heartbeats(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    sensor = sensor_ids(it, org_id)[0]
    it.emit_measurement(sensor, 1.0)  # before the connection: not sent
    path = it_paths.LIVE_MEASUREMENTS.format(organization_id=org_id)
    async with http.get(simulator_server.it_base_url + path, headers=headers) as response:
        assert it.stats.open_streams == 1
        started = time.monotonic()
        assert await next_line(response) == b"\n"  # a heartbeat while nothing happens
        assert 0.1 < time.monotonic() - started < 1.5
        it.emit_measurement(sensor, 2.0)
        [line] = await documents(response, 1)
        assert line["numericValue"] == 2.0
    assert it.stats.heartbeats_sent >= 1
    assert it.stats.peak_open_streams == 1
    await until(lambda: it.stats.open_streams == 0)  # the server noticed the client left


async def test_sensors_report_as_the_clock_moves(
    live: aiohttp.ClientResponse, it: ITExpertSimulator, org_id: str
) -> None:
    sensors = sensor_ids(it, org_id)
    start = it.now()
    it.advance(timedelta(minutes=5))
    started = time.monotonic()
    lines = await documents(live, len(sensors))
    assert time.monotonic() - started < 1  # the stream woke at once
    assert sorted(line["sensorId"] for line in lines) == sorted(sensors)  # once each
    stamps = [line["timestamp"] for line in lines]
    assert stamps == sorted(stamps)
    for number, line in enumerate(lines, start=1):
        # The log was empty: line N of the stream is line N of the log.
        assert ("offset" in line) == (number % 5 == 0)
        assert OFFSET.match(line.get("offset", "x" * 100))
        assert ("numericValue" in line) != ("stringValue" in line)
    assert len({line["offset"] for line in lines if "offset" in line}) == len(sensors) // 5

    # A running clock is noticed without being told; a three-day jump gives one line each.
    it.clock.advance(timedelta(days=3))
    lines = await documents(live, len(sensors))
    assert sorted(line["sensorId"] for line in lines) == sorted(sensors)
    assert min(line["timestamp"] for line in lines) > "2026-06-18T09:30"
    assert it.now() - start == 3 * 86_400 + 300
    assert it.stats.lines_sent == 2 * len(sensors)


async def test_emitted_duplicates_and_old_timestamps_pass_as_they_are(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    live: aiohttp.ClientResponse,
    it: ITExpertSimulator,
    org_id: str,
) -> None:
    org = it.organization(org_id)
    status = next(s for s in org.sensors() if s.value_type == "STRING")
    power = next(s for s in org.sensors() if s.type == "POWER")
    now = it.clock.now()
    it.emit_measurement(power.id, 1200.0, timestamp=now)
    it.emit_measurement(power.id, 1200.0, timestamp=now)  # the same line again
    it.emit_measurement(power.id, 900.0, timestamp=now - timedelta(hours=1))
    it.emit_measurement(status.id, "on battery")
    async with http.post(
        simulator_server.control_url + "/it/measurements",
        json={"sensorId": "not-listed", "organizationId": org_id, "value": 2.3e3},
    ) as response:
        assert response.status == 200
    lines = await documents(live, 5)
    assert [(line["sensorId"], line["timestamp"][11:16]) for line in lines] == [
        (power.id, "09:30"),
        (power.id, "09:30"),
        (power.id, "08:30"),
        (status.id, "09:30"),
        ("not-listed", "09:30"),
    ]
    assert lines[0] == {k: v for k, v in lines[1].items() if k != "offset"}
    assert lines[3]["stringValue"] == "on battery"
    assert lines[4]["numericValue"] == 2300.0
    with pytest.raises(ValueError, match="aware"):
        it.emit_measurement(power.id, 1.0, timestamp=now.replace(tzinfo=None))


async def test_a_drop_in_the_middle_of_a_line(
    live: aiohttp.ClientResponse, it: ITExpertSimulator, org_id: str
) -> None:
    sensor = sensor_ids(it, org_id)[0]
    it.emit_measurement(sensor, 1.0)
    await documents(live, 1)
    received: list[bytes] = []
    ended: list[BaseException] = []

    async def read() -> None:
        try:
            while chunk := await live.content.readany():
                received.append(chunk)
        except aiohttp.ClientError as err:
            ended.append(err)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.05)  # the reader waits for data when the drop comes
    it.emit_measurement(sensor, 2.0)
    assert it.drop_streams(mid_line=True) == 1
    await asyncio.wait_for(reader, 2)
    data = b"".join(received)
    assert data.startswith(b'{"sensorId":"')
    assert not data.endswith(b"\n")  # half a line, then nothing
    assert len(data) > 20
    assert isinstance(ended[0], aiohttp.ClientPayloadError)
    assert it.stats.streams_dropped == 1
    await until(lambda: it.stats.open_streams == 0)


async def test_a_plain_drop_and_the_rate_limit_message(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    url = simulator_server.it_base_url + it_paths.LIVE_MEASUREMENTS.format(organization_id=org_id)
    async with http.get(url, headers=headers) as response:
        async with http.post(simulator_server.control_url + "/it/streams/drop", json={}) as r:
            assert (await r.json()) == {"dropped": 1}
        with pytest.raises(aiohttp.ClientPayloadError):
            await drain(response)
    async with http.get(url, headers=headers) as response:
        await until(lambda: it.stats.open_streams == 1)
        assert it.rate_limit_streams(org_id) == 1
        assert await documents(response, 1) == [RATE_LIMITED]
        assert await next_line(response) == b""  # then the stream closes
    with pytest.raises(KeyError):
        it.drop_streams("no-such-organization")


async def test_the_clock_control_route_wakes_the_streams(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    live: aiohttp.ClientResponse,
    it: ITExpertSimulator,
    org_id: str,
) -> None:
    async with http.post(
        simulator_server.control_url + "/clock", json={"advanceSeconds": 300}
    ) as response:
        assert response.status == 200
    lines = await documents(live, len(sensor_ids(it, org_id)), within=1)
    assert lines[0]["timestamp"] > "2026-06-15T09:30"


async def replay(
    http: aiohttp.ClientSession,
    server: SimulatorServer,
    org_id: str,
    headers: dict[str, str],
    **params: str,
) -> tuple[int, list[dict[str, Any]]]:
    """The replay's status and every line up to the end of the body."""
    path = it_paths.REPLAY_MEASUREMENTS.format(organization_id=org_id)
    async with http.get(server.it_base_url + path, headers=headers, params=params) as response:
        if response.status != 200:
            return response.status, [await response.json()]
        lines = [json.loads(line) async for line in response.content if line.strip()]
        return response.status, lines


async def test_replay_serves_a_range_then_completes(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    live: aiohttp.ClientResponse,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    it.advance(timedelta(minutes=5))
    lines = await documents(live, len(sensor_ids(it, org_id)))
    marked = [(index, line["offset"]) for index, line in enumerate(lines) if "offset" in line]
    (first, from_offset), (last, to_offset) = marked[1], marked[4]
    status, replayed = await replay(
        http, simulator_server, org_id, headers, fromOffset=from_offset, toOffset=to_offset
    )
    assert status == 200
    assert replayed == [*lines[first + 1 : last + 1], COMPLETED]
    _, replayed = await replay(
        http, simulator_server, org_id, headers, fromOffset=to_offset, toOffset=to_offset
    )
    assert replayed == [COMPLETED]
    # Two replays an hour: the third one is refused with a message.
    _, replayed = await replay(
        http, simulator_server, org_id, headers, fromOffset=from_offset, toOffset=to_offset
    )
    assert replayed == [REPLAY_RATE_LIMITED]
    assert (it.stats.replays_served, it.stats.replays_refused) == (2, 1)
    it.advance(timedelta(hours=1))
    _, replayed = await replay(
        http, simulator_server, org_id, headers, fromOffset=from_offset, toOffset=to_offset
    )
    assert replayed[-1] == COMPLETED


async def test_replay_refuses_unknown_and_expired_offsets(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    it.advance(timedelta(minutes=5))
    last = it.state(org_id).measurements.last
    good = it.offset_of(org_id, 5)
    tampered = good[:50] + ("A" if good[50] != "A" else "B") + good[51:]
    other = it.organizations[1].id
    for params in (
        {"toOffset": good},
        {"fromOffset": "nonsense", "toOffset": good},
        {"fromOffset": tampered, "toOffset": good},
        {"fromOffset": it.offset_of(other, 5), "toOffset": good},
        {"fromOffset": it.offset_of(org_id, 10), "toOffset": good},  # after toOffset
        {"fromOffset": good, "toOffset": it.offset_of(org_id, last + 5)},  # not there yet
    ):
        status, [problem] = await replay(http, simulator_server, org_id, headers, **params)
        assert (status, problem["title"]) == (400, "Bad Request"), params
    # The log keeps 400 lines: three more reports (each seen by a request) push them out.
    for _ in range(3):
        it.advance(timedelta(minutes=5))
        it.state(org_id)
    latest = it.offset_of(org_id, it.state(org_id).measurements.last)
    status, _ = await replay(
        http, simulator_server, org_id, headers, fromOffset=good, toOffset=latest
    )
    assert status == 400
    assert it.stats.replays_served == it.stats.replays_refused == 0


async def test_the_simulated_live_stream_keeps_its_rate(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    path = it_paths.SIMULATED_LIVE_MEASUREMENTS.format(organization_id=org_id)
    url = simulator_server.it_base_url + path
    params = {"measurementsPerSecond": "2000", "sensorCount": "300"}
    lines = []
    async with http.get(url, headers=headers, params=params) as response:
        assert response.status == 200
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            line = await next_line(response)
            if line.strip():
                lines.append(json.loads(line))
    assert 1000 < len(lines) < 2800  # roughly the rate asked
    assert 250 < len({line["sensorId"] for line in lines}) <= 300
    assert any("stringValue" in line for line in lines)
    offsets = [line["offset"] for line in lines if "offset" in line]
    assert len(offsets) == len(lines) // 5
    assert all(OFFSET.match(offset) for offset in offsets)
    # Its offsets name no line of the measurement log.
    status, _ = await replay(
        http, simulator_server, org_id, headers, fromOffset=offsets[0], toOffset=offsets[1]
    )
    assert status == 400
    for bad in ({"measurementsPerSecond": "0"}, {"sensorCount": "x"}):
        async with http.get(url, headers=headers, params=bad) as response:
            assert response.status == 400


async def test_faults_hit_streams_before_they_start(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    org_id: str,
    headers: dict[str, str],
) -> None:
    url = simulator_server.it_base_url + it_paths.LIVE_MEASUREMENTS.format(organization_id=org_id)
    it.faults.add(status=503, path="/measurements/live$", count=1)
    it.faults.add(status=429, retry_after="30", path="/measurements/replay", count=1)
    async with http.get(url, headers=headers) as response:
        assert response.status == 503
    async with http.get(url.replace("live", "replay"), headers=headers) as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "30")
    async with http.get(url, headers=headers) as response:
        assert response.status == 200
    assert it.stats.by_operation == {"liveMeasurements": 1}
