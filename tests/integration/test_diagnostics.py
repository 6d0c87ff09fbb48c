"""Diagnostics: useful to a maintainer, without secrets or where the sites are."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ecostruxure.facility_expert.data import asset_device_id
from simulator import SimulatorServer


async def test_diagnostics_redact_secrets_and_locations(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = simulator_server.simulator
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    text = str(diagnostics)
    for secret in (sim.subscription_key, sim.technical_token):
        assert secret not in text
    site = sim.sites[0]
    assert site.location.street not in text
    assert site.location.zip_code not in text
    assert str(site.location.latitude) not in text
    assert diagnostics["entry"]["data"]["subscription_key"] == "**REDACTED**"
    assert diagnostics["sites"][0]["asset_count"] == len(site.assets)

    meter = next(a for a in site.assets.values() if a.type == "meter")
    device = device_registry.async_get_device_by_identifier(
        asset_device_id(site.id, meter.id), loaded_entry.entry_id
    )
    assert device is not None
    device_diagnostics = await get_diagnostics_for_device(hass, hass_client, loaded_entry, device)
    assert device_diagnostics["asset"]["name"] == meter.name
    assert device_diagnostics["asset"]["serial_number"] == "**REDACTED**"
    assert len(device_diagnostics["latest_values"]) == len(meter.measurements)
    assert sim.technical_token not in str(device_diagnostics)


async def test_site_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    from custom_components.ecostruxure.facility_expert.coordinator import site_device_id

    site = simulator_server.simulator.sites[0]
    device = device_registry.async_get_device_by_identifier(
        site_device_id(site.id), loaded_entry.entry_id
    )
    assert device is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, loaded_entry, device)
    assert diagnostics["site"]["name"] == site.name
    assert diagnostics["site"]["address"] == "**REDACTED**"
    assert diagnostics["active_alarms"] == []
    orphan = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={("ecostruxure", "asset:old:gone")}
    )
    assert await get_diagnostics_for_device(hass, hass_client, loaded_entry, orphan) == {}
