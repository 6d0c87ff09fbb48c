"""The stream's flush: every latest reading written once, in batches the event loop runs between."""

from collections.abc import Callable
from datetime import timedelta
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.it_expert.models import SensorReading
from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from simulator import SimulatorServer
from simulator.it_inventory import SimOrganization, SimSensor

from .conftest import wait_for

BATCH = 3


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3; a flush interval long enough for a test's readings to share one flush."""
    monkeypatch.setattr(it_const, "STREAM_FLUSH_BATCH", BATCH)
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.5)


def _sensors(
    hass: HomeAssistant, registry: er.EntityRegistry, org: SimOrganization
) -> dict[str, SimSensor]:
    """The organization's sensors that have an entity with a state, by entity id."""
    found: dict[str, SimSensor] = {}
    for device in org.devices.values():
        for sensor in device.sensors:
            unique_id = f"{org.id}-{device.id}-sensor-{sensor.id}"
            entity = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
            if entity is not None and hass.states.get(entity) is not None:
                found[entity] = sensor
    assert len(found) > 2 * BATCH, "a flush of more than two batches is needed"
    return found


class Writes:
    """The values written to the watched entities, in order; `on_first` runs at the first."""

    def __init__(self, hass: HomeAssistant, entities: set[str]) -> None:
        self.values: list[tuple[str, str]] = []
        self.on_first: Callable[[str], None] | None = None
        self._entities = entities
        hass.bus.async_listen("state_changed", self._record)

    @callback
    def _record(self, event: Event) -> None:
        entity = event.data["entity_id"]
        if entity not in self._entities or event.data["new_state"] is None:
            return
        self.values.append((entity, event.data["new_state"].state))
        if len(self.values) == 1 and self.on_first is not None:
            self.on_first(entity)

    def of(self, entity: str) -> list[str]:
        return [value for written, value in self.values if written == entity]


def _setup(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    server: SimulatorServer,
    registry: er.EntityRegistry,
) -> tuple[MeasurementStream, dict[str, SimSensor], Writes]:
    org = server.simulator.it_expert.organizations[0]
    sensors = _sensors(hass, registry, org)
    return entry.runtime_data.streams[org.id], sensors, Writes(hass, set(sensors))


def _emit_all(server: SimulatorServer, sensors: dict[str, SimSensor], base: float) -> None:
    """Two readings a sensor, the second newer: only the second may be shown."""
    it = server.simulator.it_expert
    now = it.clock.now()
    for n, sensor in enumerate(sensors.values()):
        it.emit_measurement(sensor.id, base + n - 0.5, timestamp=now)
        it.emit_measurement(sensor.id, base + n, timestamp=now + timedelta(seconds=1))


async def test_a_flush_of_several_batches_writes_every_latest_value_once_letting_the_loop_run(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    _, sensors, writes = _setup(hass, it_loaded, simulator_server, entity_registry)
    ran_after: list[int] = []
    # Scheduled when the flush writes its first state: it runs when the loop gets a turn.
    writes.on_first = lambda _: hass.loop.call_soon(lambda: ran_after.append(len(writes.values)))
    _emit_all(simulator_server, sensors, 100.0)
    await wait_for(lambda: len(writes.values) >= len(sensors))
    assert sorted(writes.values) == sorted(
        (entity, str(100.0 + n)) for n, entity in enumerate(sensors)
    )
    # The loop ran after the first batch, long before the flush's last one.
    assert ran_after == [BATCH]
    # One cause for the flush's writes: its context (not a new one per write, each of which
    # would be a reference cycle left to the garbage collector).
    contexts = {hass.states.get(entity).context.id for entity in sensors}  # type: ignore[union-attr]
    assert len(contexts) == 1


async def test_readings_during_a_flush_are_neither_lost_nor_written_twice(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    stream, sensors, writes = _setup(hass, it_loaded, simulator_server, entity_registry)
    late: dict[str, str] = {}

    def during_the_flush(told: str) -> None:
        # A newer reading of the sensor just told, and of one the flush has not told yet.
        waiting = next(entity for entity in sensors if entity != told)
        for entity in (told, waiting):
            reading = SensorReading(
                sensors[entity].id,
                simulator_server.simulator.it_expert.clock.now() + timedelta(minutes=1),
                500.0,
            )
            stream._apply(reading)  # exactly mid-flush, as a stream line may arrive
            late[entity] = "500.0"

    writes.on_first = during_the_flush
    told_times = dict.fromkeys(sensors, 0)
    for entity, sensor in sensors.items():

        def count(_context: Context, entity: str = entity) -> None:
            told_times[entity] += 1

        stream.async_add_listener(sensor.id, count)
    _emit_all(simulator_server, sensors, 100.0)
    await wait_for(lambda: bool(late))
    told, waiting = late
    await wait_for(lambda: len(writes.of(told)) == 2)  # the next flush
    for n, entity in enumerate(sensors):
        expected = {told: [str(100.0 + n), "500.0"], waiting: ["500.0"]}
        assert writes.of(entity) == expected.get(entity, [str(100.0 + n)]), entity
        # Told once a flush with something new: the late reading of `waiting` was the flush's.
        assert told_times[entity] == (2 if entity == told else 1), entity
        assert hass.states.get(entity).state == late.get(entity, str(100.0 + n))  # type: ignore[union-attr]


async def test_unloading_during_a_flush_stops_it_cleanly(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, sensors, writes = _setup(hass, it_loaded, simulator_server, entity_registry)
    unloads = []
    # Started by the flush's first write, the unload runs while the flush's batches go on.
    writes.on_first = lambda _: unloads.append(
        hass.async_create_task(
            hass.config_entries.async_unload(it_loaded.entry_id), eager_start=False
        )
    )
    _emit_all(simulator_server, sensors, 100.0)
    await wait_for(lambda: bool(unloads))
    assert await unloads[0]
    assert it_loaded.state is ConfigEntryState.NOT_LOADED
    values = [value for _, value in writes.values if value != STATE_UNAVAILABLE]
    assert values
    await hass.async_block_till_done()
    await wait_for(lambda: not simulator_server.simulator.it_expert.streams)
    # Nothing written after the unload, nothing failed (a task left running fails the test).
    assert [value for _, value in writes.values if value != STATE_UNAVAILABLE] == values
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
