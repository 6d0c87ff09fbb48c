"""Snapshots of the entities and devices of one small simulated site."""

from collections.abc import Iterator
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from simulator import SimulatedClock, Simulator, SimulatorConfig
from tests.simulator_fixtures import SIMULATED_NOW


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """The smallest site: one of each core asset and a room."""
    return SimulatorConfig(seed=7, sites=1, assets_per_site=8, alarms_per_site_per_hour=0)


@pytest.fixture
def simulator(simulator_config: SimulatorConfig, freezer: FrozenDateTimeFactory) -> Simulator:
    """Both clocks at the same fixed instant: the snapshots do not depend on the day."""
    freezer.move_to(SIMULATED_NOW)
    return Simulator(simulator_config, SimulatedClock(SIMULATED_NOW, frozen=True))


@pytest.fixture
def all_enabled() -> Iterator[None]:
    """Enable the entities a user has to enable by hand, so that they are snapshotted too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
async def test_entities(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    all_enabled: None,
    platform: Platform,
) -> None:
    config_entry.add_to_hass(hass)
    with patch("custom_components.ecostruxure.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)


async def test_devices(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    devices = dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    names = {device.id: device.name for device in devices}
    areas = {area.id: area.name for area in ar.async_get(hass).async_list_areas()}
    tree = sorted(
        (
            device.name,
            device.model,
            device.model_id,
            device.manufacturer,
            device.sw_version,
            areas.get(device.area_id or ""),
            names.get(device.via_device_id or ""),
        )
        for device in devices
    )
    assert tree == snapshot
