"""The live stream after refusals, rate limits and failed replays: what a user sees."""

from datetime import timedelta
import time

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from simulator import SimulatorServer

from .conftest import wait_for
from .test_entities import coordinator_of, device_of, entity_id, org_of, sensor_of, state


async def test_a_refused_stream_stays_closed_until_the_organization_answers_again(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(it_const, "STREAM_GRACE", timedelta(seconds=0.1))
    sim = simulator_server.simulator
    org = org_of(simulator_server)
    coordinator = coordinator_of(it_loaded)
    stream = coordinator.streams[org.id]
    connectivity = entity_id(entity_registry, "binary_sensor", f"{org.id}-{org.id}-stream")
    sim.faults.add(status=403, path=f"/{org.id}/measurements/live$", count=1)
    sim.it_expert.drop_streams(org.id)
    await wait_for(lambda: not stream.allowed)
    await wait_for(lambda: state(hass, connectivity).state == STATE_OFF)
    connections = stream.counters["connections"]
    await wait_for(lambda: sim.faults.rules == [])  # the refusal was used up...
    assert stream.counters["connections"] == connections  # ...and no retry follows it
    # The organization still answers its polls: the stream may connect again.
    await coordinator.async_refresh()
    await wait_for(lambda: stream.connected)
    assert state(hass, connectivity).state == STATE_ON


async def test_a_rate_limited_stream_waits_as_long_as_it_is_told(
    hass: HomeAssistant, it_loaded: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    org = org_of(simulator_server)
    stream = coordinator_of(it_loaded).streams[org.id]
    sim.faults.add(status=429, retry_after="1", path=f"/{org.id}/measurements/live$", count=1)
    dropped = time.monotonic()
    sim.it_expert.drop_streams(org.id)
    await wait_for(lambda: not stream.connected)
    await wait_for(lambda: stream.connected, seconds=5)
    # Not the 0.05 s backoff of a plain drop: the second the service asked for (jitter 20 %).
    assert time.monotonic() - dropped >= 0.8


async def _gap(server: SimulatorServer, stream: MeasurementStream) -> None:
    """Drop the stream with a reading in between, so that a gap must be replayed."""
    it = server.simulator.it_expert
    ups = device_of(org_of(server), "UPS")
    load, power = sensor_of(ups, "LOAD"), sensor_of(ups, "POWER")
    # A reading first: its offset is where the gap starts.
    seen = stream.counters["readings"]
    it.emit_measurement(load.id, 10.0, timestamp=it.clock.now())
    await wait_for(lambda: stream.counters["readings"] > seen)
    drops = stream.counters["drops"]
    server.simulator.faults.add(status=503, path="measurements/live$", count=2)
    it.drop_streams(stream.organization_id)
    await wait_for(lambda: stream.counters["drops"] > drops)
    it.clock.advance(timedelta(seconds=1))
    it.emit_measurement(load.id, 20.0, timestamp=it.clock.now())
    await wait_for(lambda: stream.connected)
    it.clock.advance(timedelta(seconds=1))
    it.emit_measurement(power.id, 1500.0, timestamp=it.clock.now())


async def test_a_replay_that_fails_once_is_tried_again(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    stream = coordinator_of(it_loaded).streams[org.id]
    simulator_server.simulator.faults.add(status=503, path="measurements/replay$", count=1)
    await _gap(simulator_server, stream)
    # The reading sent while the stream was down arrives by the second replay attempt.
    await wait_for(lambda: state(hass, entity).state == "20.0")
    await wait_for(lambda: stream.counters["replays_completed"] == 1)
    assert stream.counters["replays"] == 1


async def test_a_gap_that_cannot_be_replayed_is_given_up_and_values_go_on(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    power = sensor_of(ups, "POWER")
    entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{power.id}")
    stream = coordinator_of(it_loaded).streams[org.id]
    # Offsets expired: the service refuses the replay as a bad request.
    replay = simulator_server.simulator.faults.add(status=400, path="measurements/replay$")
    await _gap(simulator_server, stream)
    await wait_for(lambda: state(hass, entity).state == "1500.0")
    await wait_for(lambda: stream.counters["replays"] == 1)
    await wait_for(lambda: not stream.diagnostics()["replay_running"])
    assert stream.counters["replays_completed"] == 0
    assert stream.counters["replays_refused"] == 0
    del replay


async def test_no_replay_is_asked_while_the_service_refuses_them(
    hass: HomeAssistant, it_loaded: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    org = org_of(simulator_server)
    stream = coordinator_of(it_loaded).streams[org.id]
    simulator_server.simulator.faults.add(status=429, path="measurements/replay$")
    await _gap(simulator_server, stream)
    await wait_for(lambda: stream.counters["replays_refused"] == 1)
    # A second gap within the pause after a refusal: not asked for.
    await _gap(simulator_server, stream)
    await wait_for(lambda: stream.counters["drops"] == 2 and stream.connected)
    assert stream.counters["replays"] == 1


async def test_the_stream_sensor_turns_off_at_the_drop_while_values_keep_their_grace(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    it = sim.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    load_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    connectivity = entity_id(entity_registry, "binary_sensor", f"{org.id}-{org.id}-stream")
    stream = coordinator_of(it_loaded).streams[org.id]
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: state(hass, load_entity).state == "10.0")
    assert state(hass, connectivity).state == STATE_ON
    # The stream drops and cannot reconnect for a while (well within the 2-minute grace).
    sim.faults.add(status=503, path="measurements/live$", count=10_000)
    it.drop_streams(org.id)
    await wait_for(lambda: state(hass, connectivity).state == STATE_OFF)
    assert not stream.connected
    # The value is still shown: the grace belongs to the readings, not to the connection.
    assert state(hass, load_entity).state == "10.0"
    sim.faults.clear()
    await wait_for(lambda: state(hass, connectivity).state == STATE_ON, seconds=10)
    assert state(hass, load_entity).state == "10.0"
