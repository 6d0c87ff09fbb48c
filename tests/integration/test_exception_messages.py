"""What a user reads when the entry cannot be set up: the error, not a template."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer


async def test_failed_setup_names_the_error(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    simulator_server.simulator.faults.add(status=503, title="ServiceUnavailable")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    reason = config_entry.reason or ""
    assert reason.startswith("Could not update from the Facility Expert Data API: ")
    assert "{error}" not in reason
    assert "503" in reason or "ServiceUnavailable" in reason
