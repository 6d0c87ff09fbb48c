"""Per-key dispatch, IT Expert: a cycle calls back the entities of devices whose alarms changed."""

from collections import Counter
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator
from custom_components.ecostruxure.it_expert.data import it_device_id
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from simulator import SimulatorServer

from .conftest import wait_for
from .test_entities import device_of, org_of, state


@pytest.fixture
def known_sensors_set(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The organizations whose stream was given the list of known sensors, in order."""
    given: list[str] = []
    original = MeasurementStream.set_known_sensors

    def spy(self: MeasurementStream, sensor_ids: Any) -> None:
        given.append(self.organization_id)
        original(self, sensor_ids)

    monkeypatch.setattr(MeasurementStream, "set_known_sensors", spy)
    return given


@pytest.fixture
async def counted(
    hass: HomeAssistant, it_entry: MockConfigEntry, called: Counter[str]
) -> ITExpertCoordinator:
    """The entry set up, its streams connected; the counts start at zero."""
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    coordinator: ITExpertCoordinator = it_entry.runtime_data
    await wait_for(lambda: all(s.connected for s in coordinator.streams.values()))
    called.clear()
    return coordinator


def polled_entities(
    entity_registry: er.EntityRegistry, entry: MockConfigEntry, server: SimulatorServer
) -> dict[str, set[str]]:
    """Entity ids of the entities fed by polling (not the stream), by device (object) id."""
    by_device: dict[str, set[str]] = {}
    organizations = [org.id for org in server.simulator.it_expert.organizations]
    for item in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        org_id = next(o for o in organizations if item.unique_id.startswith(f"{o}-"))
        object_id, _, kind = item.unique_id.removeprefix(f"{org_id}-").rpartition("-")
        if item.disabled_by is None and kind in {"problem", "alarms"}:
            by_device.setdefault(object_id, set()).add(item.entity_id)
    return by_device


async def test_an_alarm_reaches_its_device_only(
    hass: HomeAssistant,
    counted: ITExpertCoordinator,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    called: Counter[str],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    entities = polled_entities(entity_registry, it_entry, simulator_server)
    everything = set().union(*entities.values())
    assert len(entities) > 2
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert not everything & called.keys()  # nothing changed: nobody asked

    it.raise_alarm(org.id, ups.id, severity="ERROR", label="Overload")
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert everything & called.keys() == entities[ups.id]
    problem = next(e for e in entities[ups.id] if e.startswith("binary_sensor."))
    assert state(hass, problem).state == "on"
    events = next(e for e in entities[ups.id] if e.startswith("event."))
    assert state(hass, events).attributes["event_type"] == "alarm_raised"


async def test_failure_and_recovery_reach_every_device(
    hass: HomeAssistant,
    counted: ITExpertCoordinator,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    called: Counter[str],
) -> None:
    sim = simulator_server.simulator
    everything = set().union(*polled_entities(entity_registry, it_entry, simulator_server).values())
    sim.faults.add(status=503, path="-changes/")
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert everything <= called.keys()
    assert all(state(hass, e).state == STATE_UNAVAILABLE for e in everything)
    called.clear()
    sim.faults.clear()
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert everything <= called.keys()
    assert all(state(hass, e).state != STATE_UNAVAILABLE for e in everything)


async def test_one_organization_failing_reaches_its_own_entities(
    hass: HomeAssistant,
    counted: ITExpertCoordinator,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    called: Counter[str],
) -> None:
    sim = simulator_server.simulator
    first, second = org_of(simulator_server, 0), org_of(simulator_server, 1)
    entities = polled_entities(entity_registry, it_entry, simulator_server)
    mine = set().union(*(entities[d] for d in first.devices if d in entities))
    others = set().union(*(entities[d] for d in second.devices if d in entities))
    assert mine
    assert others
    sim.faults.add(status=503, path=f"{first.id}.*-changes/")
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert (mine | others) & called.keys() == mine
    assert all(state(hass, e).state == STATE_UNAVAILABLE for e in mine)
    assert all(state(hass, e).state != STATE_UNAVAILABLE for e in others)


async def test_the_stream_hears_of_the_sensors_only_when_they_change(
    hass: HomeAssistant,
    known_sensors_set: list[str],
    counted: ITExpertCoordinator,
    simulator_server: SimulatorServer,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    assert sorted(known_sensors_set) == sorted(o.id for o in it.organizations)  # first lists
    known_sensors_set.clear()
    await counted.async_refresh()
    assert known_sensors_set == []
    added = it.add_sensor(device_of(org, "UPS").id)
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert known_sensors_set == [org.id]
    assert added.id in counted.organizations[org.id].sensors


async def test_devices_are_compared_only_when_the_inventory_or_sensors_changed(
    hass: HomeAssistant,
    counted: ITExpertCoordinator,
    simulator_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    device_registry: dr.DeviceRegistry,
    it_entry: MockConfigEntry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    listed: list[int] = []
    original = ITExpertCoordinator._device_specs

    def spy(self: ITExpertCoordinator) -> Any:
        listed.append(1)
        return original(self)

    monkeypatch.setattr(ITExpertCoordinator, "_device_specs", spy)
    await counted.async_refresh()
    assert listed == []  # nothing new: the devices were not listed again
    (added, *_) = it.add_device(org.id, "UPS", label="New UPS")
    await counted.async_refresh()
    await hass.async_block_till_done()
    assert listed == [1]
    assert device_registry.async_get_device_by_identifier(
        it_device_id(org.id, added.id), it_entry.entry_id
    )
