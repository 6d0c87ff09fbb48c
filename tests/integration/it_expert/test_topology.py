"""Entities and devices follow the IT Expert inventory: a deleted sensor, a renamed device."""

from collections.abc import Iterator
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator
from custom_components.ecostruxure.it_expert.data import it_device_id
from simulator import SimulatorServer

from .test_entities import device_of, org_of


@pytest.fixture
def all_enabled() -> Iterator[None]:
    """Enable the figures a user enables by hand, so that they have a state to lose."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


async def test_a_sensor_deleted_from_a_device_that_stays_is_removed_and_comes_back(
    hass: HomeAssistant,
    all_enabled: None,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    sensor = ups.sensors[0]
    unique_id = f"{org.id}-{ups.id}-sensor-{sensor.id}"
    entity_id = entity_registry.async_get_entity_id("sensor", DOMAIN, unique_id)
    assert entity_id is not None
    assert hass.states.get(entity_id) is not None
    coordinator: ITExpertCoordinator = it_loaded.runtime_data

    it.remove_sensor(sensor.id)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    # Gone, not stuck at "unknown" on a device that is still there.
    assert entity_registry.async_get_entity_id("sensor", DOMAIN, unique_id) is None
    assert hass.states.get(entity_id) is None
    device_registry = dr.async_get(hass)
    kept = device_registry.async_get_device_by_identifier(
        it_device_id(org.id, ups.id), it_loaded.entry_id
    )
    assert kept is not None

    it.restore_sensor(ups.id, sensor)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entity_registry.async_get_entity_id("sensor", DOMAIN, unique_id) == entity_id
    assert hass.states.get(entity_id) is not None
    assert "does not generate unique IDs" not in caplog.text


async def test_a_device_renamed_in_the_service_is_renamed_in_home_assistant(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    coordinator: ITExpertCoordinator = it_loaded.runtime_data

    it.rename_device(ups.id, "UPS salle serveurs")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    device = device_registry.async_get_device_by_identifier(
        it_device_id(org.id, ups.id), it_loaded.entry_id
    )
    assert device is not None
    assert device.name == "UPS salle serveurs"
