"""Snapshots of the entities and devices of two small simulated IT Expert organizations."""

from collections.abc import Iterator
from unittest.mock import PropertyMock, patch

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

from .conftest import wait_for


@pytest.fixture
def all_enabled() -> Iterator[None]:
    """Enable the entities a user has to enable by hand, so that they are snapshotted too.

    Which are off by default is shown by test_enabled_by_default.py.
    """
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
async def test_entities(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    all_enabled: None,
    platform: Platform,
) -> None:
    it_entry.add_to_hass(hass)
    with patch("custom_components.ecostruxure.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(it_entry.entry_id)
        await hass.async_block_till_done()
    streams = it_entry.runtime_data.streams.values()
    await wait_for(lambda: all(stream.connected for stream in streams))
    # Right after setup: every sensor waits for its first reading (unknown), no alarm is
    # active; nothing depends on the day.
    await snapshot_platform(hass, entity_registry, snapshot, it_entry.entry_id)


async def test_devices(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    devices = dr.async_entries_for_config_entry(device_registry, it_loaded.entry_id)
    names = {device.id: device.name for device in devices}
    areas = {area.id: area.name for area in ar.async_get(hass).async_list_areas()}
    tree = sorted(
        (
            device.name or "",
            device.model or "",
            device.manufacturer or "",
            device.serial_number or "",
            areas.get(device.area_id or "") or "",
            names.get(device.via_device_id or "") or "",
        )
        for device in devices
    )
    assert tree == snapshot
