"""IT readings survive a restart: the last value is shown at once while it is still current."""

from datetime import timedelta

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_restore_state_shutdown_restart,
    mock_restore_cache_with_extra_data,
)

from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.it_expert import const as it_const
from simulator import SimulatorServer

from .conftest import wait_for

ENTITY_ID = "sensor.restored_reading"


def _register(
    hass: HomeAssistant, entry: MockConfigEntry, server: SimulatorServer, text: bool
) -> str:
    """Register the entity of a simulated sensor (numeric, or text) as ENTITY_ID; its id."""
    org = server.simulator.it_expert.organizations[0]
    sensor, device_id = next(
        (sensor, device.id)
        for device in org.devices.values()
        for sensor in device.sensors
        if (sensor.value_type == "STRING") == text
    )
    entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{org.id}-{device_id}-sensor-{sensor.id}",
        suggested_object_id="restored_reading",
        config_entry=entry,
    )
    return sensor.id


def _restore(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    server: SimulatorServer,
    value: float | str,
    read_ago: timedelta,
    current_ago: timedelta,
) -> str:
    """Register the entity of a simulated sensor, with a stored reading; its sensor id."""
    sensor_id = _register(hass, entry, server, text=isinstance(value, str))
    now = dt_util.utcnow()
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(ENTITY_ID, str(value)),
                {
                    "native_value": value,
                    "native_unit_of_measurement": None,
                    "timestamp": (now - read_ago).isoformat(),
                    "current_at": (now - current_ago).isoformat(),
                },
            )
        ],
    )
    return sensor_id


def _hold_stream(server: SimulatorServer, seconds: int = 60) -> None:
    """The service refuses the stream for a while: nothing live arrives meanwhile."""
    org = server.simulator.it_expert.organizations[0]
    server.simulator.faults.add(
        status=429, retry_after=str(seconds), path=f"/{org.id}/measurements/live$", count=1
    )


async def test_a_restored_reading_is_shown_at_once(
    hass: HomeAssistant, it_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    _restore(hass, it_entry, simulator_server, 42.5, timedelta(hours=3), timedelta(seconds=30))
    _hold_stream(simulator_server)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    stream = it_entry.runtime_data.streams[simulator_server.simulator.it_expert.organizations[0].id]
    assert not stream.connected
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert float(state.state) == 42.5


async def test_a_restored_reading_too_old_is_unavailable(
    hass: HomeAssistant, it_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    _restore(hass, it_entry, simulator_server, 42.5, timedelta(hours=3), timedelta(minutes=10))
    _hold_stream(simulator_server, seconds=1)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    # Once the stream is back, the old value is not passed off as current either.
    stream = it_entry.runtime_data.streams[simulator_server.simulator.it_expert.organizations[0].id]
    await wait_for(lambda: stream.connected, seconds=5)
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID).state == STATE_UNKNOWN  # type: ignore[union-attr]


async def test_a_restored_reading_goes_unavailable_when_its_grace_runs_out(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(it_const, "STREAM_GRACE", timedelta(seconds=1))
    _restore(hass, it_entry, simulator_server, 42.5, timedelta(hours=3), timedelta(seconds=0.5))
    _hold_stream(simulator_server)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get(ENTITY_ID).state) == 42.5  # type: ignore[union-attr]
    # The stream still down when the grace ends: the value is no longer current.
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]


async def test_a_live_reading_replaces_the_restored_one_never_an_older_one(
    hass: HomeAssistant, it_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sensor_id = _restore(
        hass, it_entry, simulator_server, 42.5, timedelta(minutes=5), timedelta(seconds=30)
    )
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    it = simulator_server.simulator.it_expert
    stream = it_entry.runtime_data.streams[it.organizations[0].id]
    await wait_for(lambda: stream.connected)
    ignored = stream.counters["ignored"]
    # Read before the restored reading: it arrives late, and does not move the sensor back.
    it.emit_measurement(sensor_id, 1.0, timestamp=dt_util.utcnow() - timedelta(hours=1))
    await wait_for(lambda: stream.counters["ignored"] > ignored)
    await hass.async_block_till_done()
    assert float(hass.states.get(ENTITY_ID).state) == 42.5  # type: ignore[union-attr]
    it.emit_measurement(sensor_id, 7.0)
    await wait_for(lambda: float(hass.states.get(ENTITY_ID).state) == 7.0)  # type: ignore[union-attr]


async def test_a_text_reading_is_restored(
    hass: HomeAssistant, it_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    _restore(
        hass, it_entry, simulator_server, "On battery", timedelta(hours=3), timedelta(seconds=30)
    )
    _hold_stream(simulator_server)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY_ID).state == "On battery"  # type: ignore[union-attr]


async def test_what_is_stored_at_stop_restores_the_reading(
    hass: HomeAssistant, it_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sensor_id = _register(hass, it_entry, simulator_server, text=True)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    it = simulator_server.simulator.it_expert
    stream = it_entry.runtime_data.streams[it.organizations[0].id]
    await wait_for(lambda: stream.connected)
    read_at = dt_util.utcnow().replace(microsecond=0) - timedelta(minutes=1)
    it.emit_measurement(sensor_id, "Online", timestamp=read_at)
    await wait_for(lambda: hass.states.get(ENTITY_ID).state == "Online")  # type: ignore[union-attr]
    before = dt_util.utcnow()
    data = await async_mock_restore_state_shutdown_restart(hass)
    stored = data.last_states[ENTITY_ID].extra_data
    assert stored is not None
    saved = stored.as_dict()
    assert saved["native_value"] == "Online"
    assert dt_util.parse_datetime(saved["timestamp"]) == read_at
    # Connected at stop: the reading was current then.
    assert dt_util.parse_datetime(saved["current_at"]) >= before
