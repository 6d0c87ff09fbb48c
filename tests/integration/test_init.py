"""Setting up and unloading a config entry."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN


async def test_integration_is_found(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.name == "Schneider Electric EcoStruxure"
    assert integration.config_flow
    assert integration.file_path.parent.name == "custom_components"


async def test_setup_and_unload(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    sites = config_entry.runtime_data.sites
    assert {site.id for site in sites} == {site.id for site in simulator_server.simulator.sites}

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED


async def test_rejected_secrets_start_reauthentication(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server
) -> None:
    simulator_server.simulator.revoke_credentials(new_technical_token="rotated")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_unreachable_service_retries_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server
) -> None:
    simulator_server.simulator.faults.add(status=503, title="ServiceUnavailable")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
