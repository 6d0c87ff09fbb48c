"""Entries stored by the first release (f1d3ac4, config entry 1.1) upgrade without loss."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_FACILITY_EXPERT,
    SERVICE_IT_EXPERT,
)
from simulator import SimulatorServer


async def test_first_version_entries_upgrade_keeping_devices_and_entities(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Both services' entries as f1d3ac4 stored them, with the registries it left behind."""
    sim = simulator_server.simulator
    site = sim.sites[0]
    asset = next(a for a in site.assets.values() if a.alarm_types)
    # A Facility Expert entry of that version has no service: it predates IT Expert.
    fe_entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        title="EcoStruxure",
        unique_id=site.id,
        data={
            CONF_SUBSCRIPTION_KEY: sim.config.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.config.technical_token,
            CONF_BASE_URL: simulator_server.base_url,
        },
        options={CONF_SITES: [site.id], CONF_SCAN_INTERVAL: 60},
    )
    it = sim.it_expert
    org = it.organizations[0]
    device = next(d for d in org.devices.values() if d.parent_id is None)
    it_entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        title="IT Expert",
        unique_id=f"it_expert:{org.id}",
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: it.config.partner_all_key,
            CONF_BASE_URL: simulator_server.it_base_url,
        },
        options={CONF_ORGANIZATIONS: [org.id], CONF_SCAN_INTERVAL: 60},
    )
    # What that version registered (its identifiers and unique ids), renamed by the user.
    kept: dict[str, tuple[str, str]] = {}
    for entry, identifier, unique_id in (
        (
            fe_entry,
            f"asset:{site.id}:{asset.id}",
            f"{site.id}-{asset.id}-alarm-{asset.alarm_types[0]}",
        ),
        (it_entry, f"it:{org.id}:{device.id}", f"{org.id}-{device.id}-problem"),
    ):
        entry.add_to_hass(hass)
        old_device = device_registry.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={(DOMAIN, identifier)}
        )
        device_registry.async_update_device(old_device.id, name_by_user=f"Kept {identifier}")
        old_entity = entity_registry.async_get_or_create(
            "binary_sensor",
            DOMAIN,
            unique_id,
            config_entry=entry,
            device_id=old_device.id,
            suggested_object_id=f"kept_{len(kept)}",
        )
        kept[unique_id] = (old_entity.entity_id, old_device.id)

    # Setting up the integration sets up both entries.
    assert await hass.config_entries.async_setup(fe_entry.entry_id)
    await hass.async_block_till_done()

    assert fe_entry.state is ConfigEntryState.LOADED
    assert it_entry.state is ConfigEntryState.LOADED
    assert (fe_entry.version, fe_entry.minor_version) == (1, 2)
    assert (it_entry.version, it_entry.minor_version) == (1, 2)
    assert fe_entry.data[CONF_SERVICE] == SERVICE_FACILITY_EXPERT
    assert it_entry.data[CONF_SERVICE] == SERVICE_IT_EXPERT
    assert (fe_entry.unique_id, it_entry.unique_id) == (site.id, f"it_expert:{org.id}")
    for unique_id, (entity_id, device_id) in kept.items():
        assert entity_registry.async_get_entity_id("binary_sensor", DOMAIN, unique_id) == entity_id
        assert (registered := entity_registry.async_get(entity_id)) is not None
        assert registered.device_id == device_id
        assert hass.states.get(entity_id) is not None  # the entity is provided again
        device_entry = device_registry.async_get(device_id)
        assert device_entry is not None
        assert device_entry.name_by_user is not None  # the user's name survived
    for entry in (fe_entry, it_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_of_a_newer_version_is_not_set_up(
    hass: HomeAssistant, it_entry: MockConfigEntry
) -> None:
    """A downgrade cannot read what a newer version stored: the entry says so, untouched."""
    newer = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        unique_id=it_entry.unique_id,
        data=dict(it_entry.data),
        options=dict(it_entry.options),
    )
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)
    assert newer.state is ConfigEntryState.MIGRATION_ERROR
    assert newer.version == 2
