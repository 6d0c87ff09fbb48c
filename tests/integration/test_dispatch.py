"""Per-key dispatch: a polling cycle calls back only the entities whose inputs changed."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure import coordinator as shared_coordinator
from custom_components.ecostruxure.api import Alarm, LatestValue
from custom_components.ecostruxure.coordinator import ListenKey
from custom_components.ecostruxure.facility_expert.coordinator import EcoStruxureCoordinator
from custom_components.ecostruxure.facility_expert.data import (
    EcoStruxureData,
    SiteValues,
    alarms_key,
    changes_between,
    value_key,
)
from simulator import Simulator, SimulatorServer

from .conftest import Advance

MINUTE = timedelta(seconds=60)


@pytest.fixture
async def counted_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry, called: Counter[str]
) -> MockConfigEntry:
    """The entry set up with its entities' callbacks counted; the counts start at zero."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    called.clear()
    return config_entry


@pytest.fixture
def written(hass: HomeAssistant) -> list[str]:
    """The entity ids whose state was written, in order."""
    writes: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        writes.append(event.data["entity_id"])

    hass.bus.async_listen("state_changed", record)
    return writes


def sensor_ids(
    entity_registry: er.EntityRegistry, unique_ids: list[tuple[str, str]]
) -> dict[str, str]:
    """Entity id by (site, measurement) of the sensors that exist (enabled by default)."""
    found = {}
    for site_id, measurement_id in unique_ids:
        entity_id = entity_registry.async_get_entity_id(
            "sensor", "ecostruxure", f"{site_id}-{measurement_id}"
        )
        entry = entity_registry.async_get(entity_id) if entity_id else None
        if entity_id and entry and entry.disabled_by is None:
            found[site_id, measurement_id] = entity_id
    return found


def measurement_sensors(entity_registry: er.EntityRegistry, sim: Simulator) -> set[str]:
    """The entity ids of every enabled measurement sensor (not the site sensors)."""
    return set(
        sensor_ids(
            entity_registry,
            [
                (site.id, m.id)
                for site in sim.sites
                for asset in site.assets.values()
                for m in asset.measurements
            ],
        ).values()
    )


async def test_a_cycle_calls_back_and_writes_only_the_sensors_whose_value_changed(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    called: Counter[str],
    written: list[str],
) -> None:
    sim = simulator_server.simulator
    sensors = measurement_sensors(entity_registry, sim)
    await advance(MINUTE, service=False)  # nothing moved
    assert not sensors & called.keys()
    assert not written

    changed = sensor_ids(entity_registry, sim.vary_values(0.1))
    assert 0 < len(changed) < len(sensors) / 5
    before = {e: hass.states.get(e).state for e in changed.values()}  # type: ignore[union-attr]
    await advance(MINUTE, service=False)
    assert sensors & called.keys() == set(changed.values())
    assert all(called[e] == 1 for e in changed.values())
    assert set(changed.values()) <= set(written)
    assert not (sensors - set(changed.values())) & set(written)
    for entity_id, old in before.items():
        assert hass.states.get(entity_id).state != old  # type: ignore[union-attr]
    # Nothing about alarms changed: no alarm sensor was asked.
    assert not [e for e in called if e.startswith("binary_sensor.") and "_alarm_" in e]


async def test_an_alarm_reaches_its_binary_sensor_and_the_event_entity_only(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    called: Counter[str],
    written: list[str],
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = next(a for a in site.assets.values() if a.type == "feeder")
    overload = entity_registry.async_get_entity_id(
        "binary_sensor", "ecostruxure", f"{site.id}-{feeder.id}-alarm-overload"
    )
    events = entity_registry.async_get_entity_id("event", "ecostruxure", f"{site.id}-alarms")
    assert overload
    assert events
    alarm_sensors = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, counted_entry.entry_id)
        if entry.domain == "binary_sensor" and "-alarm-" in entry.unique_id
    }
    feeder_sensors = {
        e for e in alarm_sensors if feeder.id in (entity_registry.async_get(e).unique_id)
    }  # type: ignore[union-attr]

    sim.raise_alarm(site.id, feeder.id, "overload")
    await advance(MINUTE, service=False)
    assert hass.states.get(overload).state == "on"  # type: ignore[union-attr]
    assert overload in written
    assert hass.states.get(events).attributes["event_type"] == "alarm_raised"  # type: ignore[union-attr]
    # The feeder's alarm sensors were asked, no other asset's, and no measurement sensor.
    assert alarm_sensors & called.keys() == feeder_sensors
    assert not measurement_sensors(entity_registry, sim) & called.keys()


async def test_failure_and_recovery_reach_every_entity(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    called: Counter[str],
) -> None:
    sim = simulator_server.simulator
    ours = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, counted_entry.entry_id)
        if entry.disabled_by is None
    }
    sim.faults.add(status=503, title="ServiceUnavailable")
    await advance(MINUTE)
    assert ours <= called.keys()
    assert all(hass.states.get(e).state == STATE_UNAVAILABLE for e in ours)  # type: ignore[union-attr]
    called.clear()
    sim.faults.clear()
    await advance(MINUTE, service=False)
    assert ours <= called.keys()
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in ours)  # type: ignore[union-attr]
    called.clear()
    await advance(MINUTE, service=False)
    assert not measurement_sensors(entity_registry, sim) & called.keys()


async def test_a_failing_site_reaches_its_own_entities_only(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    called: Counter[str],
) -> None:
    sim = simulator_server.simulator
    broken, working = sim.sites
    sensors = measurement_sensors(entity_registry, sim)

    def of(site_id: str) -> set[str]:
        return {e for e in sensors if entity_registry.async_get(e).unique_id.startswith(site_id)}  # type: ignore[union-attr]

    sim.faults.add(status=503, title="ServiceUnavailable", path=broken.id)
    await advance(MINUTE, service=False)
    assert sensors & called.keys() == of(broken.id)
    assert all(hass.states.get(e).state == STATE_UNAVAILABLE for e in of(broken.id))  # type: ignore[union-attr]
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in of(working.id))  # type: ignore[union-attr]
    called.clear()
    sim.faults.clear()
    await advance(MINUTE, service=False)
    assert sensors & called.keys() == of(broken.id)
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in of(broken.id))  # type: ignore[union-attr]


async def test_a_new_asset_gets_its_values_and_later_changes(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    added = sim.add_asset(site.id, "feeder")
    await advance(MINUTE, service=False)  # values name an unknown asset
    await advance(MINUTE, service=False)  # the topology is fetched again
    new = sensor_ids(entity_registry, [(site.id, m.id) for m in added.measurements if not m.silent])
    assert new
    shown = {e: hass.states.get(e).state for e in new.values()}  # type: ignore[union-attr]
    assert all(state not in {STATE_UNAVAILABLE, "unknown"} for state in shown.values())
    sim.vary_values(1.0)
    await advance(MINUTE, service=False)
    assert all(hass.states.get(e).state != shown[e] for e in new.values())  # type: ignore[union-attr]


def _values(*pairs: tuple[str, float | None]) -> dict[str, LatestValue]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return {m: LatestValue(m, stamp, value) for m, value in pairs}


def _alarm(alarm_id: str, asset_id: str, cleared: bool = False) -> Alarm:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return Alarm(alarm_id, asset_id, "overload", stamp, cleared_at=stamp if cleared else None)


async def test_a_new_asset_is_looked_for_until_the_topology_is_read(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    """Its values, unchanged from cycle to cycle, still name an asset the topology lacks."""
    sim = simulator_server.simulator
    site = sim.sites[0]
    added = sim.add_asset(site.id, "feeder")
    reported = [(site.id, m.id) for m in added.measurements if not m.silent]
    sim.faults.add(status=503, title="ServiceUnavailable", path=r"/assets$")
    for _ in range(3):  # values name an unknown asset; its topology cannot be read
        await advance(MINUTE, service=False)
    assert not sensor_ids(entity_registry, reported)
    sim.faults.clear()
    await advance(MINUTE, service=False)
    new = sensor_ids(entity_registry, reported)
    assert new
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in new.values())  # type: ignore[union-attr]


def test_changes_name_values_alarms_and_sites_that_changed() -> None:
    before = EcoStruxureData(
        sites={
            "s1": SiteValues(_values(("m1", 1.0), ("m2", 2.0), ("gone", 3.0)), (), None),
            "s2": SiteValues({}, (), None),
            "s3": SiteValues({}, None, None),
            "lost": SiteValues({}, (), None),
        }
    )
    after = EcoStruxureData(
        sites={
            "s1": SiteValues(
                _values(("m1", 1.0), ("m2", 2.5), ("new", None)),
                (_alarm("a1", "asset1"), _alarm("a2", "asset2", cleared=True)),
                None,
            ),
            "s2": SiteValues({}, None, None),  # the alarm operation became disabled
            "s3": SiteValues({}, (), None),  # and enabled again
            "back": SiteValues({}, (), None),
        },
        failed={"lost": "503"},
    )
    assert changes_between(None, after) is None
    changes = changes_between(before, after)
    assert changes is not None
    assert changes.groups == {"s2", "s3", "lost", "back"}
    # A cleared alarm is no active alarm: asset2's sensors show nothing new.
    assert changes.keys == {
        value_key("s1", "m2"),
        value_key("s1", "new"),
        value_key("s1", "gone"),
        alarms_key("s1", "asset1"),
    }


async def test_a_listener_that_fails_is_logged_and_the_others_still_hear(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = counted_entry.runtime_data
    assert isinstance(coordinator, EcoStruxureCoordinator)
    heard: list[str] = []

    def broken() -> None:
        raise RuntimeError("listener bug")

    site_id = coordinator.site_ids[0]
    key = ListenKey(site_id, "test")
    remove_broken = coordinator.async_add_listener(broken, key)
    remove_other = coordinator.async_add_listener(lambda: heard.append("keyed"), key)
    coordinator.async_add_listener(lambda: heard.append("unkeyed"))
    coordinator._changes = changes_between(coordinator.data, coordinator.data)
    assert coordinator._changes is not None
    coordinator._changes.keys.add(key)
    coordinator.async_update_listeners()
    assert heard == ["unkeyed", "keyed"]
    assert "Unexpected error updating listener" in caplog.text
    remove_broken()
    remove_other()
    heard.clear()
    coordinator._changes = changes_between(coordinator.data, coordinator.data)
    assert coordinator._changes is not None
    coordinator._changes.groups.add(site_id)  # a whole site: its keys are gone, no error
    coordinator.async_update_listeners()
    assert heard == ["unkeyed"]


async def test_many_callbacks_are_made_in_batches_that_let_the_loop_run(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    called: Counter[str],
) -> None:
    coordinator = counted_entry.runtime_data
    assert isinstance(coordinator, EcoStruxureCoordinator)
    # No time for more than a batch: every batch after the first waits for the loop.
    monkeypatch.setattr(shared_coordinator, "DISPATCH_SLICE", 0.0)
    heard: list[int] = []
    removers = [
        coordinator.async_add_listener(lambda n=n: heard.append(n), ListenKey("batch", n))
        for n in range(1000)
    ]
    coordinator._changes = None  # everyone
    coordinator.async_update_listeners()
    # The first batch (the entities listen first, all told), the rest once the loop ran.
    assert called.total() == len(hass.states.async_all())
    assert len(heard) < 900
    removers[999]()  # removed while waiting: not called
    await hass.async_block_till_done()
    assert heard == list(range(999))


async def test_site_sensors_are_written_when_their_value_changes_only(
    hass: HomeAssistant,
    counted_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    written: list[str],
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = next(a for a in site.assets.values() if a.type == "feeder")
    count = entity_registry.async_get_entity_id("sensor", "ecostruxure", f"{site.id}-active_alarms")
    problem = entity_registry.async_get_entity_id(
        "binary_sensor", "ecostruxure", f"{site.id}-problem"
    )
    assert count
    assert problem
    assert hass.states.get(count).state == "0"  # type: ignore[union-attr]
    assert hass.states.get(problem).state == "off"  # type: ignore[union-attr]

    sim.raise_alarm(site.id, feeder.id, "overload")
    await advance(MINUTE, service=False)
    assert hass.states.get(count).state == "1"  # type: ignore[union-attr]
    assert hass.states.get(problem).state == "on"  # type: ignore[union-attr]
    assert written.count(count) == 1
    assert written.count(problem) == 1

    written.clear()
    await advance(MINUTE, service=False)  # the alarm is still active: nothing to write
    assert count not in written
    assert problem not in written


def test_values_kept_from_the_previous_cycle_change_nothing_wherever_they_are() -> None:
    """Unchanged values are the previous objects, in any order; moved, new and gone ones count."""
    old = _values(("m1", 1.0), ("m2", 2.0), ("m3", 3.0))
    m1, m2, m3 = old["m1"], old["m2"], old["m3"]
    before = EcoStruxureData(sites={"s1": SiteValues(old, (), None)})

    def changed(*values: LatestValue) -> set[ListenKey]:
        now = EcoStruxureData(
            sites={"s1": SiteValues({v.measurement_id: v for v in values}, (), None)}
        )
        changes = changes_between(before, now)
        assert changes is not None
        assert not changes.groups
        return changes.keys

    assert changed(m1, m2, m3) == set()
    assert changed(m3, m1, m2) == set()  # the same objects, another order
    assert changed(m1, m2, m3, *_values(("m4", 4.0)).values()) == {value_key("s1", "m4")}
    assert changed(m1, m3) == {value_key("s1", "m2")}  # gone
    assert changed(m3, m1) == {value_key("s1", "m2")}
    # Equal values read again (new objects) are no change; another value is.
    assert changed(*_values(("m1", 1.0), ("m2", 2.5)).values(), m3) == {value_key("s1", "m2")}
    assert changed(m2, *_values(("m3", 3.0), ("m1", 1.0)).values()) == set()
