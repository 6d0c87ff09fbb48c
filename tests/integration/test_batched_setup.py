"""A large portfolio's entities are added in batches that let Home Assistant run between."""

import asyncio
from collections.abc import Callable, Iterable
from datetime import timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_platform, entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import EntityPlatform
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure import (
    coordinator as shared_coordinator,
    entity as shared_entity,
)
from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.facility_expert import sensor as fe_sensor
from custom_components.ecostruxure.facility_expert.coordinator import EcoStruxureCoordinator
from custom_components.ecostruxure.facility_expert.sensor import _sensors
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .conftest import Advance

BATCH = 5

type Hook = Callable[[int], Any]


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three sites of twelve assets: a few hundred sensors, dozens of batches."""
    return quiet(SimulatorConfig(seed=7, sites=3, assets_per_site=12))


class Batches:
    """What the integration's sensor platform was asked to add, call by call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.hook: Hook | None = None

    @property
    def added(self) -> list[str]:
        return [unique_id for call in self.calls for unique_id in call]


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> Batches:
    """Small batches; every call recorded; `hook(n)` runs before the n-th (from 0) is added."""
    monkeypatch.setattr(shared_entity, "ADD_BATCH_SIZE", BATCH)
    monkeypatch.setattr(shared_entity, "BUILD_STEP", 4 * BATCH)
    seen = Batches()
    original = EntityPlatform.async_add_entities

    async def spy(self: EntityPlatform, entities: Iterable[Entity], *args: Any, **kw: Any) -> None:
        entities = list(entities)
        if self.platform_name == DOMAIN and self.domain == "sensor":
            if seen.hook is not None:
                await seen.hook(len(seen.calls))
            seen.calls.append([entity.unique_id or "" for entity in entities])
        await original(self, entities, *args, **kw)

    monkeypatch.setattr(EntityPlatform, "async_add_entities", spy)
    return seen


def sensor_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    registry = er.async_get(hass)
    return {
        e.unique_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.domain == "sensor"
    }


def built_order(coordinator: EcoStruxureCoordinator) -> list[str]:
    """The sensors' unique ids in the order the topology describes them."""
    return [
        sensor.unique_id or ""
        for topology in coordinator.topology.values()
        for sensor in _sensors(coordinator, topology)
    ]


async def test_batches_are_added_in_order_each_entity_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, batches: Batches
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # Setup returns with every entity in place, states written.
    registry = er.async_get(hass)
    registered = er.async_entries_for_config_entry(registry, config_entry.entry_id)
    assert all(hass.states.get(e.entity_id) for e in registered if not e.disabled_by)
    await hass.async_block_till_done()

    assert len(batches.calls) > 15
    assert all(1 <= len(call) <= BATCH for call in batches.calls)
    assert batches.added == built_order(config_entry.runtime_data)
    assert set(batches.added) == sensor_ids(hass, config_entry)


async def test_the_loop_runs_between_batches(
    hass: HomeAssistant, config_entry: MockConfigEntry, batches: Batches
) -> None:
    """Something due meanwhile (a timer, another integration) runs before the last batch."""
    ran_after: list[int] = []

    async def schedule(number: int) -> None:
        if number == 0:
            hass.loop.call_soon(lambda: ran_after.append(len(batches.calls)))

    batches.hook = schedule
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # It ran right after the first batch, not once all of them were added.
    assert ran_after == [1]
    assert len(batches.calls) > 15


async def test_a_topology_change_while_batches_are_pending(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    batches: Batches,
) -> None:
    """An asset gone before its turn is never added; one that appears is added once."""
    sim = simulator_server.simulator
    last_site = sim.sites[-1]
    gone = list(last_site.assets.values())[-1]
    refresh: list[asyncio.Task[None]] = []

    async def change(number: int) -> None:
        if number != 1:
            return
        coordinator: EcoStruxureCoordinator = config_entry.runtime_data
        sim.remove_asset(last_site.id, gone.id)
        sim.add_asset(sim.sites[0].id, "feeder")
        # A refresh of its own, as the coordinator's schedule would run it; this batch waits
        # until the platforms were told.
        refresh.append(hass.async_create_task(coordinator._async_refresh_topology()))
        for _ in range(1000):
            if gone.id not in coordinator.topology[last_site.id].assets:
                break
            await asyncio.sleep(0)
        else:
            pytest.fail("The topology was not refreshed")
        # The platforms were told; their entities are built in a step or two.
        for _ in range(10):
            await asyncio.sleep(0)

    batches.hook = change
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await refresh[0]

    coordinator: EcoStruxureCoordinator = config_entry.runtime_data
    expected = built_order(coordinator)
    assert sorted(batches.added) == sorted(expected)
    assert len(batches.added) == len(set(batches.added))
    assert set(expected) == sensor_ids(hass, config_entry)
    gone_ids = {f"{last_site.id}-{m.id}" for m in gone.measurements}
    assert gone_ids
    assert not gone_ids & set(batches.added)
    assert not gone_ids & sensor_ids(hass, config_entry)


async def test_unloading_while_batches_are_pending_leaves_nothing_behind(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    batches: Batches,
    advance: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """New assets are being added when the entry unloads: no entity added after it."""
    sim = simulator_server.simulator
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    before = len(batches.calls)
    added = [sim.add_asset(sim.sites[0].id, "feeder") for _ in range(6)]
    unloaded: list[asyncio.Task[bool]] = []

    async def unload(number: int) -> None:
        if number == before + 1:
            unloaded.append(
                hass.async_create_task(
                    hass.config_entries.async_unload(config_entry.entry_id), eager_start=False
                )
            )
            # The batch waits here, as an entity being added may: the entry unloads meanwhile.
            await asyncio.sleep(0)

    batches.hook = unload
    await advance(timedelta(seconds=60))  # values name unknown assets
    await advance(timedelta(seconds=60))  # the topology is fetched again: six new feeders
    await hass.async_block_till_done()

    assert unloaded
    assert await unloaded[0]
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    # The batch in flight and those after it never reached the platform.
    assert len(batches.calls) == before + 1
    registry = er.async_get(hass)
    for entry in er.async_entries_for_config_entry(registry, config_entry.entry_id):
        state = hass.states.get(entry.entity_id)
        assert state is None or state.attributes.get("restored"), entry.entity_id
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "did not complete in time" not in caplog.text

    # Set up again, every entity is there once, the new feeders' too.
    batches.hook = None
    batches.calls.clear()
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(batches.added) == sorted(built_order(config_entry.runtime_data))
    assert {f"{sim.sites[0].id}-{m.id}" for m in added[-1].measurements} <= set(batches.added)


async def test_devices_are_synced_in_steps_the_loop_runs_between(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    advance: Advance,
) -> None:
    """A portfolio's thousands of devices do not hold the loop: something due runs between."""
    monkeypatch.setattr(shared_coordinator, "DEVICE_BATCH_SIZE", 4)
    created: list[str] = []
    ran_after: list[int] = []
    original = dr.DeviceRegistry.async_get_or_create

    def spy(self: dr.DeviceRegistry, **kwargs: Any) -> dr.DeviceEntry:
        if not created:
            hass.loop.call_soon(lambda: ran_after.append(len(created)))
        device = original(self, **kwargs)
        if kwargs.get("config_entry_id") == config_entry.entry_id:
            created.append(device.id)
        return device

    monkeypatch.setattr(dr.DeviceRegistry, "async_get_or_create", spy)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), config_entry.entry_id)
    assert len(devices) == 3 * 13
    # It ran after the first step of four devices, long before the last one.
    assert ran_after == [4]

    # A site that vanishes takes its thirteen devices along, also in steps.
    sim = simulator_server.simulator
    sim.remove_site(sim.sites[0].id)
    await advance(timedelta(seconds=60))
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), config_entry.entry_id)
    assert len(devices) == 2 * 13


async def test_adding_does_not_count_against_the_platform_setup_timeout(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    batches: Batches,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On slow hardware a large portfolio takes longer to add than a platform may set up."""
    # A tenth of a second to set up a platform; adding the sensors takes longer than that.
    monkeypatch.setattr(entity_platform, "SLOW_SETUP_MAX_WAIT", 0.1)

    async def slow(number: int) -> None:
        if number == 1:
            await asyncio.sleep(0.3)

    batches.hook = slow
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert len(batches.calls) > 15
    assert "is taking longer than" not in caplog.text
    assert set(batches.added) == sensor_ids(hass, config_entry)


async def test_unloading_while_new_entities_are_built_adds_none_of_them(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    batches: Batches,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The entry unloads while the entities of new assets are still being built."""
    sim = simulator_server.simulator
    unloaded: list[asyncio.Task[bool]] = []
    original = fe_sensor._sensors

    def sensors(coordinator: EcoStruxureCoordinator, topology: Any) -> Iterable[Entity]:
        for number, sensor in enumerate(original(coordinator, topology)):
            if new_site_ids and number == 0 and topology.site.id in new_site_ids:
                unloaded.append(
                    hass.async_create_task(
                        hass.config_entries.async_unload(config_entry.entry_id),
                        eager_start=False,
                    )
                )
            yield sensor

    new_site_ids: set[str] = set()
    monkeypatch.setattr(fe_sensor, "_sensors", sensors)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    before = len(batches.calls)
    added = [sim.add_asset(sim.sites[-1].id, "feeder") for _ in range(3)]
    new_site_ids.add(sim.sites[-1].id)
    coordinator: EcoStruxureCoordinator = config_entry.runtime_data
    # Refreshes of their own (say an action's), which the unload does not cancel.
    await coordinator.async_refresh()  # values name unknown assets
    await coordinator.async_refresh()  # the topology is fetched again: built in steps
    await hass.async_block_till_done()

    assert unloaded
    assert await unloaded[0]
    assert len(batches.calls) == before
    new_ids = {f"{sim.sites[-1].id}-{m.id}" for asset in added for m in asset.measurements}
    assert not new_ids & sensor_ids(hass, config_entry)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
