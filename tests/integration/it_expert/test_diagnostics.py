"""IT Expert diagnostics: counts and states, without the key or serial numbers."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ecostruxure.it_expert.data import it_device_id
from simulator import SimulatorServer

from .conftest import wait_for


async def test_diagnostics_redact_the_key_and_serial_numbers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = it.organizations[0]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, it_loaded)
    assert it.config.partner_all_key not in str(diagnostics)
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    state = diagnostics["organizations"][org.id]
    assert state["available"] is True
    assert state["objects_by_kind"]["device"] == len(org.devices)
    assert state["sensors"] == sum(len(d.sensors) for d in org.devices.values())
    assert state["stream"]["connected"] is True

    ups = next(d for d in org.devices.values() if d.type == "UPS")
    sensor = ups.sensors[0]
    it.emit_measurement(sensor.id, 12.5)
    stream = it_loaded.runtime_data.streams[org.id]
    await wait_for(lambda: sensor.id in stream.readings)
    device = device_registry.async_get_device_by_identifier(
        it_device_id(org.id, ups.id), it_loaded.entry_id
    )
    assert device is not None
    details = await get_diagnostics_for_device(hass, hass_client, it_loaded, device)
    assert details["object"]["label"] == ups.label
    assert ups.serial_number not in str(details)
    readings = {s["id"]: s["reading"] for s in details["sensors"]}
    assert readings[sensor.id]["value"] == 12.5
    assert details["active_alarms"] == []


async def test_a_device_the_service_no_longer_lists_has_empty_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    it_loaded: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    orphan = device_registry.async_get_or_create(
        config_entry_id=it_loaded.entry_id, identifiers={it_device_id("gone-org", "gone-device")}
    )
    assert await get_diagnostics_for_device(hass, hass_client, it_loaded, orphan) == {}
