"""Entity ids say which site they belong to: asset names repeat across sites."""

import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import slugify
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

SUFFIX = re.compile(r"_[2-9]$|_\d{2,}$")


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three sites: the simulator gives their assets the same names (TGBT...)."""
    return quiet(SimulatorConfig(seed=7, sites=3, assets_per_site=12))


def site_of(unique_id: str, site_ids: list[str]) -> str:
    """The site an entity belongs to: its unique id starts with the site's id."""
    (site_id,) = (site_id for site_id in site_ids if unique_id.startswith(site_id))
    return site_id


async def test_ids_start_with_the_site_name_and_carry_no_suffix(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sites = {site.id: site.name for site in simulator_server.simulator.sites}
    entries = er.async_entries_for_config_entry(er.async_get(hass), loaded_entry.entry_id)
    assert len(entries) > 100
    # The portfolio does repeat names: without the site, ids would collide.
    states = [hass.states.get(e.entity_id) for e in entries if not e.disabled_by]
    names = [state.name for state in states if state is not None]
    assert len(names) > len(set(names))
    for entry in entries:
        site = sites[site_of(entry.unique_id, list(sites))]
        object_id = entry.entity_id.split(".", 1)[1]
        assert object_id.startswith(f"{slugify(site)}_"), (entry.entity_id, site)
        # The id is the one suggested: Home Assistant did not have to add _2, _3...
        assert object_id == entry.suggested_object_id, entry.entity_id
        assert not SUFFIX.search(object_id), entry.entity_id


async def test_the_friendly_name_stays_device_and_entity(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    devices = dr.async_get(hass)
    for entry in er.async_entries_for_config_entry(registry, loaded_entry.entry_id):
        state = hass.states.get(entry.entity_id)
        if state is None or entry.device_id is None or not entry.original_name:
            continue
        device = devices.async_get(entry.device_id)
        assert device is not None
        # The site's name is in the id only: the UI shows the device and the entity.
        assert state.name == f"{device.name} {entry.original_name}", entry.entity_id


async def test_an_existing_entity_keeps_its_id(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    entry = next(
        e
        for e in er.async_entries_for_config_entry(registry, loaded_entry.entry_id)
        if e.domain == "sensor" and not e.disabled_by and e.device_id
    )
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    # The entity as an older version registered it: named after its device only, with a suffix.
    old = registry.async_update_entity(
        entry.entity_id, new_entity_id="sensor.tgbt_busbar_temperature_37"
    )
    assert old.entity_id == "sensor.tgbt_busbar_temperature_37"

    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_entity_id("sensor", DOMAIN, entry.unique_id) == old.entity_id
    assert hass.states.get(old.entity_id) is not None
    assert hass.states.get(entry.entity_id) is None
