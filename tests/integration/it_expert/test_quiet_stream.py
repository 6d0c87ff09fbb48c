"""A live stream that goes quiet (no line, not even a heartbeat) is reconnected."""

from dataclasses import replace

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.it_expert import const as it_const
from simulator import SimulatorConfig, SimulatorServer

from .conftest import wait_for


@pytest.fixture
def simulator_config(simulator_config: SimulatorConfig) -> SimulatorConfig:
    """Heartbeats far apart: the stream stays silent longer than the idle timeout."""
    return replace(
        simulator_config, it_expert=replace(simulator_config.it_expert, heartbeat_seconds=60)
    )


async def test_a_silent_stream_is_reconnected_without_blinking(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(it_const, "STREAM_IDLE_TIMEOUT", 0.3)
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    it = simulator_server.simulator.it_expert
    org = it.organizations[0]
    stream = it_entry.runtime_data.streams[org.id]
    await wait_for(lambda: stream.counters["connections"] >= 3)
    assert stream.counters["drops"] >= 2
    # Reconnected each time within the grace period: values never went unavailable.
    assert stream.fresh
    sensor = next(iter(org.devices.values())).sensors[0]
    it.emit_measurement(sensor.id, 1.0)
    await wait_for(lambda: sensor.id in stream.readings)
