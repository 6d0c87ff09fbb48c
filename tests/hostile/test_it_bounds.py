"""IT Expert answers out of bounds: huge texts, numbers and offsets, timestamps of year 1 or
9999, readings of sensors never listed. Each costs an item at most, never the organization,
a frozen sensor or unbounded memory.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api import ITExpertClient
from custom_components.ecostruxure.api.errors import InvalidResponseError
from custom_components.ecostruxure.const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    DOMAIN,
    SERVICE_IT_EXPERT,
)
from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator

from .server import HostileServer

ORG = "org-1"
DEVICE = "ups-1"
SENSOR = "temp-1"
TEXT_SENSOR = "status-1"


def _json(body: object) -> web.Response:
    return web.json_response(body)


class FakeIT:
    """A minimal IT Expert service on a HostileServer; the live stream sends `lines`."""

    def __init__(self, server: HostileServer) -> None:
        self.server = server
        self.lines: asyncio.Queue[bytes] = asyncio.Queue()
        self.open_streams = 0
        self.sensor_changes: list[dict[str, Any]] = []
        self.objects: list[dict[str, Any]] = [
            {"id": ORG, "inventoryObjectType": "ORGANIZATION", "label": "Org"},
            {"id": DEVICE, "inventoryObjectType": "DEVICE", "label": "UPS", "parentId": ORG},
        ]
        self.sensors: list[dict[str, Any]] = [
            {"id": SENSOR, "deviceId": DEVICE, "label": "Temperature", "unit": "°C"},
            {"id": TEXT_SENSOR, "deviceId": DEVICE, "label": "Status", "valueType": "STRING"},
        ]
        server.on(r"/organizations$", self._organizations)
        server.on(r"/inventory$", self._inventory)
        server.on(r"/sensors$", self._sensors)
        server.on(r"/alarms$", self._alarms)
        server.on(r"-changes/", self._no_changes)
        server.on(r"/measurements/live$", self.live)

    async def _organizations(self, request: web.Request) -> web.Response:
        return _json([ORG])

    async def _inventory(self, request: web.Request) -> web.Response:
        return _json({"offset": 1, "inventoryObjects": self.objects})

    async def _sensors(self, request: web.Request) -> web.Response:
        return _json({"offset": 1, "sensors": self.sensors})

    async def _alarms(self, request: web.Request) -> web.Response:
        return _json({"offset": 1, "alarms": []})

    async def _no_changes(self, request: web.Request) -> web.Response:
        key = request.path.rsplit("/", 2)[-2]
        lists = {
            "inventory-changes": "inventoryObjectChanges",
            "sensor-changes": "sensorChanges",
            "alarm-changes": "alarms",
        }
        changes = self.sensor_changes if key == "sensor-changes" else []
        return _json({"offset": 1, lists[key]: changes})

    async def live(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        self.open_streams += 1
        try:
            while True:
                try:
                    line = await asyncio.wait_for(self.lines.get(), 0.05)
                except TimeoutError:
                    line = b""  # a heartbeat: writing it notices that the client left
                await response.write(line + b"\n")
        finally:
            self.open_streams -= 1

    def send(self, sensor_id: str, timestamp: str, **value: object) -> None:
        line = {"sensorId": sensor_id, "timestamp": timestamp, **value}
        self.lines.put_nowait(json.dumps(line).encode())


@pytest.fixture
async def fake_it(hostile: HostileServer) -> FakeIT:
    return FakeIT(hostile)


@pytest.fixture
async def it_setup(
    hass: HomeAssistant, fake_it: FakeIT, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ITExpertCoordinator]:
    """The IT Expert entry set up against the fake service, its stream connected."""
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.01)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="IT Expert",
        unique_id=f"it_expert:{ORG}",
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: "key",
            CONF_BASE_URL: fake_it.server.base_url,
        },
        options={CONF_ORGANIZATIONS: [ORG], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: ITExpertCoordinator = entry.runtime_data
    await _until(lambda: coordinator.streams[ORG].connected)
    yield coordinator
    assert await hass.config_entries.async_unload(entry.entry_id)
    await _until(lambda: fake_it.open_streams == 0)


async def _until(condition: Any, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def _entity_id(hass: HomeAssistant, sensor_id: str) -> str:
    unique_id = f"{ORG}-{DEVICE}-sensor-{sensor_id}"
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
    assert entity_id is not None
    return entity_id


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_a_reading_stamped_9999_does_not_freeze_the_sensor(
    hass: HomeAssistant, it_setup: ITExpertCoordinator, fake_it: FakeIT
) -> None:
    entity_id = _entity_id(hass, SENSOR)
    now = datetime.now(UTC)
    fake_it.send(SENSOR, "9999-12-31T23:59:59Z", numericValue=99.0)
    fake_it.send(SENSOR, "0001-01-01T00:00:00+05:00", numericValue=1.0)
    fake_it.send(SENSOR, _iso(now), numericValue=21.5)
    await _until(lambda: hass.states.get(entity_id).state == "21.5")  # type: ignore[union-attr]
    # Later genuine readings keep coming through.
    fake_it.send(SENSOR, _iso(now + timedelta(seconds=5)), numericValue=22.0)
    await _until(lambda: hass.states.get(entity_id).state == "22.0")  # type: ignore[union-attr]


async def test_out_of_range_numbers_and_huge_texts_in_readings(
    hass: HomeAssistant, it_setup: ITExpertCoordinator, fake_it: FakeIT
) -> None:
    number_id, text_id = _entity_id(hass, SENSOR), _entity_id(hass, TEXT_SENSOR)
    now = datetime.now(UTC)
    # A bare 400-digit integer, valid JSON: beyond any float.
    fake_it.lines.put_nowait(
        b'{"sensorId":"%s","timestamp":"%s","numericValue":%s}'
        % (SENSOR.encode(), _iso(now).encode(), b"9" * 400)
    )
    fake_it.send(TEXT_SENSOR, _iso(now), stringValue="\x1b[31mOK" + "x" * 300_000)
    fake_it.send(SENSOR, _iso(now + timedelta(seconds=1)), numericValue=20.0)
    await _until(lambda: hass.states.get(number_id).state == "20.0")  # type: ignore[union-attr]
    text = hass.states.get(text_id)
    assert text is not None
    assert text.state.startswith("[31mOK")
    assert len(text.state) <= 255
    stored = it_setup.streams[ORG].readings[TEXT_SENSOR].value
    assert isinstance(stored, str)
    assert len(stored) <= 255


async def test_readings_of_unlisted_sensors_are_bounded(
    hass: HomeAssistant, it_setup: ITExpertCoordinator, fake_it: FakeIT
) -> None:
    stream = it_setup.streams[ORG]
    entity_id = _entity_id(hass, SENSOR)
    now = _iso(datetime.now(UTC))
    for number in range(4000):
        fake_it.send(f"ghost-{number}", now, stringValue="y" * 1000)
    fake_it.send(SENSOR, now, numericValue=19.0)
    await _until(lambda: hass.states.get(entity_id).state == "19.0")  # type: ignore[union-attr]
    # The listed sensors, and at most the bounded cache of the others.
    assert set(stream.readings) == {SENSOR}
    stored = stream.diagnostics()["readings_of_unlisted_sensors"]
    assert stored == it_const.STREAM_UNKNOWN_READINGS_MAX
    assert len(stream.readings) + stored <= 2 + it_const.STREAM_UNKNOWN_READINGS_MAX


async def test_a_reading_that_came_before_its_sensor_is_listed_is_kept(
    hass: HomeAssistant, it_setup: ITExpertCoordinator, fake_it: FakeIT
) -> None:
    stream = it_setup.streams[ORG]
    fake_it.send("late-1", _iso(datetime.now(UTC)), numericValue=7.0)
    await _until(lambda: stream.counters["readings"] >= 1)
    assert "late-1" not in stream.readings
    # The inventory lists the sensor at the next poll: its entity shows the early reading.
    late = {"id": "late-1", "deviceId": DEVICE, "label": "Late", "unit": "V"}
    fake_it.sensor_changes.append({"sensor": late})
    await it_setup.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(_entity_id(hass, "late-1")).state == "7.0"  # type: ignore[union-attr]
    # A sensor no longer listed loses its reading.
    fake_it.sensor_changes[:] = [{"sensorId": "late-1"}]
    await it_setup.async_refresh()
    await hass.async_block_till_done()
    assert "late-1" not in stream.readings


async def test_setup_with_a_10000_deep_inventory_does_not_stall(
    hass: HomeAssistant, fake_it: FakeIT
) -> None:
    depth = 10_000
    fake_it.objects.append(
        {"id": "room", "inventoryObjectType": "LOCATION", "type": "ROOM", "label": "R"}
    )
    # Locations (devices would bring 40,000 entities, whose cost is Home Assistant's).
    fake_it.objects.extend(
        {
            "id": f"d{n}",
            "inventoryObjectType": "LOCATION",
            "type": "ZONE",
            "label": f"D{n}",
            "parentId": f"d{n - 1}" if n else "room",
        }
        for n in reversed(range(depth))
    )
    longest = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            longest = max(longest, loop.time() - last)
            last = loop.time()

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(ticker())
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: "key",
            CONF_BASE_URL: fake_it.server.base_url,
        },
        options={CONF_ORGANIZATIONS: [ORG], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    stop.set()
    await task
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    deepest = next(device for device in devices if device.name == f"D{depth - 1}")
    area = ar.async_get(hass).async_get_area(deepest.area_id or "")
    assert area is not None
    assert area.name == "R"
    assert longest < 3.0, longest
    assert await hass.config_entries.async_unload(entry.entry_id)
    await _until(lambda: fake_it.open_streams == 0)


async def test_one_failing_listener_does_not_stop_the_others(
    hass: HomeAssistant, it_setup: ITExpertCoordinator, fake_it: FakeIT
) -> None:
    stream = it_setup.streams[ORG]
    called: list[str] = []

    def failing(_context: Context) -> None:
        called.append("failing")
        raise RuntimeError("boom")

    stream.async_add_listener(SENSOR, failing)
    stream.async_add_listener(SENSOR, lambda _context: called.append("second"))
    entity_id = _entity_id(hass, SENSOR)
    fake_it.send(SENSOR, _iso(datetime.now(UTC)), numericValue=18.0)
    await _until(lambda: "second" in called)
    assert called == ["failing", "second"]
    assert hass.states.get(entity_id).state == "18.0"  # type: ignore[union-attr]


async def test_huge_labels_and_units_are_cut_and_long_ids_skipped(
    hass: HomeAssistant, fake_it: FakeIT
) -> None:
    fake_it.objects[1]["label"] = "UPS\x00\n" + "L" * 10_000_000
    fake_it.sensors[0]["unit"] = "°C" * 1000
    fake_it.sensors.append({"id": "i" * 5000, "deviceId": DEVICE, "label": "Too long an id"})
    fake_it.sensors.append({"id": "ok-2", "deviceId": DEVICE, "label": "Humidity", "unit": "%"})
    fake_it.sensors.append({"id": "n" * 1000, "deviceId": DEVICE, "unit": "V"})  # no label
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: "key",
            CONF_BASE_URL: fake_it.server.base_url,
        },
        options={CONF_ORGANIZATIONS: [ORG], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    names = [device.name or "" for device in devices]
    assert all(len(name) <= 255 for name in names)
    assert any(name.startswith("UPS") for name in names)
    assert all("\x00" not in name and "\n" not in name for name in names)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    unique_ids = {e.unique_id for e in entities}
    assert f"{ORG}-{DEVICE}-sensor-ok-2" in unique_ids
    assert f"{ORG}-{DEVICE}-sensor-{'n' * 1000}" in unique_ids
    for state in hass.states.async_all():
        assert len(str(state.attributes.get("friendly_name", ""))) <= 2 * 255 + 1
    assert not any("i" * 1025 in unique_id for unique_id in unique_ids)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await _until(lambda: fake_it.open_streams == 0)


async def test_client_refuses_a_huge_offset_with_a_clear_error(fake_it: FakeIT) -> None:
    async def huge_offset(request: web.Request) -> web.Response:
        return _json({"offset": "9" * 5000, "sensorChanges": []})

    fake_it.server.clear()
    fake_it.server.on(r"/sensor-changes/", huge_offset)
    async with aiohttp.ClientSession() as session:
        client = ITExpertClient(session, "key", base_url=fake_it.server.base_url)
        with pytest.raises(InvalidResponseError, match="offset"):
            await client.sensor_changes(ORG, 1)


async def test_client_keeps_the_rest_of_a_sensor_list(fake_it: FakeIT) -> None:
    fake_it.sensors.append({"id": "x" * 2000, "deviceId": DEVICE, "unit": "V"})
    fake_it.sensors[0]["label"] = "\u202eTemp" + "t" * 1_000_000
    fake_it.sensors[0]["unit"] = "u" * 1000
    async with aiohttp.ClientSession() as session:
        client = ITExpertClient(session, "key", base_url=fake_it.server.base_url)
        snapshot = await client.sensors(ORG)
    assert [sensor.id for sensor in snapshot.items] == [SENSOR, TEXT_SENSOR]
    label = snapshot.items[0].label
    assert label is not None
    assert label.startswith("Temp")
    assert len(label) == 255
    assert snapshot.items[0].unit == "u" * 32


async def test_client_skips_readings_and_alarm_times_outside_the_sane_window(
    fake_it: FakeIT,
) -> None:
    async def alarms(request: web.Request) -> web.Response:
        alarm = {"id": "al-1", "deviceId": DEVICE, "severity": "WARNING"}
        return _json(
            {
                "offset": 1,
                "alarms": [
                    {**alarm, "activatedTime": "9999-12-31T23:59:59Z"},
                    {**alarm, "id": "al-2", "activatedTime": "0001-01-01T00:00:00Z"},
                ],
            }
        )

    fake_it.server.clear()
    fake_it.server.on(r"/alarms$", alarms)
    fake_it.server.on(r"/measurements/live$", fake_it.live)
    now = datetime.now(UTC)
    fake_it.send(SENSOR, "9999-12-31T23:59:59Z", numericValue=99.0)
    fake_it.send(SENSOR, "0001-01-01T00:00:00+05:00", numericValue=1.0)
    fake_it.send(SENSOR, _iso(now), numericValue=21.5)
    async with aiohttp.ClientSession() as session:
        client = ITExpertClient(session, "key", base_url=fake_it.server.base_url)
        snapshot = await client.alarms(ORG)
        readings = client.live_measurements(ORG, idle_timeout=5)
        first = await anext(readings)
        await readings.aclose()
    assert [alarm.activated for alarm in snapshot.items] == [None, None]
    assert (first.value, first.timestamp) == (21.5, now)
    await _until(lambda: fake_it.open_streams == 0)
