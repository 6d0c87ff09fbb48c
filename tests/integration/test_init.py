"""Setting up, unloading and reloading a config entry."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.loader import async_get_integration
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from simulator import SimulatorServer


async def test_integration_is_found(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.name == "Schneider Electric EcoStruxure"
    assert integration.config_flow
    assert integration.file_path.parent.name == "custom_components"


async def test_setup_and_unload(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    sites = simulator_server.simulator.sites
    assert set(loaded_entry.runtime_data.topology) == {site.id for site in sites}
    devices = dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    assert len(devices) == sum(1 + len(site.assets) for site in sites)
    assert er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert all(
        state.state == "unavailable"
        for state in hass.states.async_all()
        if state.entity_id.split(".")[0] in {"sensor", "binary_sensor", "event"}
    )


async def test_rejected_secrets_start_reauthentication(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    simulator_server.simulator.revoke_credentials(new_technical_token="rotated")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_unreachable_service_retries_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    simulator_server.simulator.faults.add(status=503, title="ServiceUnavailable")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_history_import_needs_the_recorder(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    from homeassistant.exceptions import ServiceValidationError

    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "import_history", {"device_id": "anything"}, blocking=True
        )
    assert caught.value.translation_key == "no_recorder"


async def test_entries_of_one_account_share_its_connection_limit(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    """A portfolio split over entries stays within the account's 10 connections together."""
    sites = [site.id for site in simulator_server.simulator.sites]
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Second",
        unique_id=sites[1],
        data=dict(config_entry.data),
        options={**config_entry.options, "sites": sites[1:]},
    )
    for entry in (config_entry, second):
        entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "sites": sites[:1]}
    )
    # Setting up the integration sets up both entries.
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert second.state is ConfigEntryState.LOADED
    first_limit = config_entry.runtime_data.client._transport._slots
    assert second.runtime_data.client._transport._slots is first_limit
    assert first_limit.size == 4
