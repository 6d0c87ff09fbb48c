"""IT Expert across real restarts of Home Assistant (a second instance on the same storage).

Readings measured while stopped are replayed from the stored offset; alarm changes made while
stopped, and events pending at stop, fire once after it; nothing fires or shows twice.
"""

import asyncio
from collections.abc import Callable
import copy
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.it_expert.storage import storage_key
from simulator import SimulatorServer
from simulator.it_inventory import SimSensor
from tests.restart import Restarts

from ..test_entities import record_alarm_events
from .conftest import wait_for
from .test_entities import coordinator_of, device_of, entity_id, org_of, sensor_of


def _states_of(hass: HomeAssistant, entity: str) -> list[str]:
    """Every state the entity is written with, from now on, in order."""
    written: list[str] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == entity and new is not None:
            written.append(new.state)

    hass.bus.async_listen("state_changed", record)
    return written


def _state(hass: HomeAssistant, entity: str) -> str | None:
    current = hass.states.get(entity)
    return None if current is None else current.state


def _other_sensor(server: SimulatorServer, *taken: SimSensor) -> SimSensor:
    """A sensor of the organization whose live reading opens the replay (first live offset)."""
    ids = {s.id for s in taken}
    return next(s for s in org_of(server).sensors() if s.id not in ids)


async def _live_reading(hass: HomeAssistant, server: SimulatorServer, *taken: SimSensor) -> None:
    """Once the stream of `hass`'s entry is connected, a live reading of another sensor."""
    it = server.simulator.it_expert
    entry = hass.config_entries.async_entries("ecostruxure")[0]
    stream = entry.runtime_data.streams[org_of(server).id]
    await wait_for(lambda: stream.connected)
    it.emit_measurement(_other_sensor(server, *taken).id, 1.0)


async def test_readings_measured_while_stopped_are_replayed_after_the_restored_value(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load, power = sensor_of(ups, "LOAD"), sensor_of(ups, "POWER")
    load_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    power_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{power.id}")
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: _state(hass, load_entity) == "10.0")
    async with Restarts() as restarts:
        await restarts.stop(hass)
        assert hass_storage[storage_key(it_loaded.entry_id)]["data"]["organizations"][org.id][
            "stream"
        ]["offset"]
        # Measured while Home Assistant is down.
        it.clock.advance(timedelta(seconds=1))
        it.emit_measurement(load.id, 20.0)
        it.clock.advance(timedelta(seconds=1))
        measured = it.clock.now()
        it.emit_measurement(load.id, 30.0)
        it.emit_measurement(power.id, 1500.0)
        # The stream is refused for a second: what shows meanwhile is the restored value.
        simulator_server.simulator.faults.add(
            status=429, retry_after="1", path=f"/{org.id}/measurements/live$", count=1
        )
        second = await restarts.start()
        assert _state(second, load_entity) == "10.0"
        await _live_reading(second, simulator_server, load, power)
        await wait_for(lambda: _state(second, load_entity) == "30.0")
        await wait_for(lambda: _state(second, power_entity) == "1500.0")
        stream = second.config_entries.async_entries("ecostruxure")[0].runtime_data.streams[org.id]
        # The reading shown keeps its own time (stored with it for the next restart).
        assert stream.readings[load.id].timestamp == measured
        assert stream.counters["replays_completed"] == 1


async def test_a_crash_between_two_saves_loses_and_repeats_no_reading(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load, power = sensor_of(ups, "LOAD"), sensor_of(ups, "POWER")
    load_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    power_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{power.id}")
    key = storage_key(it_loaded.entry_id)
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: _state(hass, load_entity) == "10.0")
    async with Restarts() as restarts:
        second = await restarts.restart(hass)
        # What is on disk now: the offset of the 10.0, and the states as at that stop.
        older = {k: copy.deepcopy(hass_storage[k]) for k in (key, "core.restore_state")}
        await _live_reading(second, simulator_server, load, power)
        it.clock.advance(timedelta(seconds=1))
        it.emit_measurement(load.id, 20.0)
        it.emit_measurement(power.id, 1500.0)
        await wait_for(lambda: _state(second, power_entity) == "1500.0")
        await restarts.stop(second)
        # A crash: none of the writes since survived.
        hass_storage.update(older)
        it.clock.advance(timedelta(seconds=1))
        it.emit_measurement(load.id, 30.0)
        written: list[list[str]] = []
        third = await restarts.start(
            lambda new: written.extend(
                (_states_of(new, load_entity), _states_of(new, power_entity))
            )
        )
        load_states, power_states = written
        await _live_reading(third, simulator_server, load, power)
        # The 20.0 and 1500.0 read before the crash come again from the older offset.
        await wait_for(lambda: _state(third, load_entity) == "30.0")
        await wait_for(lambda: _state(third, power_entity) == "1500.0")
        await third.async_block_till_done()
        # Never shown twice, never back in time.
        assert load_states in (["10.0", "20.0", "30.0"], ["10.0", "30.0"])
        assert power_states[-1] == "1500.0"
        assert power_states.count("1500.0") == 1


def _alarm_events(unique_id: str) -> tuple[list[tuple[str, str]], Callable[[HomeAssistant], None]]:
    """(event type, alarm id) of the events an event entity fires in the instances started.

    Given to `Restarts.start` (listening from the first moment). The state an event entity
    restores at start (its last event, from before) is not a new event.
    """
    fired: list[tuple[str, str]] = []

    def listen(hass: HomeAssistant) -> None:
        since = dt_util.utcnow()

        @callback
        def record(event: Event) -> None:
            new = event.data["new_state"]
            entry = er.async_get(hass).async_get(event.data["entity_id"])
            if entry is None or entry.unique_id != unique_id or new is None:
                return
            when = dt_util.parse_datetime(new.state)
            if when is not None and when >= since and "alarm_id" in new.attributes:
                fired.append((new.attributes["event_type"], new.attributes["alarm_id"]))

        hass.bus.async_listen("state_changed", record)

    return fired, listen


async def test_alarm_changes_while_stopped_fire_once_after_the_restart(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    first_fired = record_alarm_events(
        hass, entity_id(er.async_get(hass), "event", f"{org.id}-{ups.id}-alarms")
    )
    overload = it.raise_alarm(org.id, ups.id, label="Overload")
    await coordinator_of(it_loaded).async_refresh()
    await wait_for(lambda: first_fired == [("alarm_raised", overload)])
    async with Restarts() as restarts:
        await restarts.stop(hass)
        it.clock.advance(timedelta(seconds=10))
        it.clear_alarm(overload)
        it.clock.advance(timedelta(seconds=10))
        fan = it.raise_alarm(org.id, ups.id, label="Fan failure")
        it.clock.advance(timedelta(seconds=10))
        blip = it.raise_alarm(org.id, ups.id, label="Input blip")
        it.clear_alarm(blip)
        fired, listen = _alarm_events(f"{org.id}-{ups.id}-alarms")
        second = await restarts.start(listen)
        expected = [
            ("alarm_cleared", overload),
            ("alarm_raised", fan),
            ("alarm_raised", blip),
            ("alarm_cleared", blip),
        ]
        await wait_for(lambda: fired == expected)
        # And nothing again at the next restart, nor at the cycles after it.
        third = await restarts.restart(second, listen)
        await third.config_entries.async_entries("ecostruxure")[0].runtime_data.async_refresh()
        await third.async_block_till_done()
        assert fired == expected


async def test_events_pending_at_stop_fire_once_after_the_restart(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    # An alarm of a device the inventory lists only later: its event waits for its entity.
    late = it.add_device(org.id, "UPS", label="Late UPS", listed_after=timedelta(minutes=5))[0]
    alarm = it.raise_alarm(org.id, late.id, label="On battery")
    await coordinator_of(it_loaded).async_refresh()
    await hass.async_block_till_done()
    async with Restarts() as restarts:
        await restarts.stop(hass)
        stored = hass_storage[storage_key(it_loaded.entry_id)]["data"]["events"]
        assert [(e["device"], e["type"]) for e in stored] == [(late.id, "alarm_raised")]
        it.clock.advance(timedelta(minutes=6))  # listed now
        fired, listen = _alarm_events(f"{org.id}-{late.id}-alarms")
        second = await restarts.start(listen)
        await wait_for(lambda: fired == [("alarm_raised", alarm)])
        third = await restarts.restart(second, listen)
        await third.config_entries.async_entries("ecostruxure")[0].runtime_data.async_refresh()
        await third.async_block_till_done()
        assert fired == [("alarm_raised", alarm)]


async def test_reload_keeps_the_stored_state_and_removal_deletes_it(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    load = sensor_of(device_of(org, "UPS"), "LOAD")
    it.emit_measurement(load.id, 10.0)
    stream = coordinator_of(it_loaded).streams[org.id]
    await wait_for(lambda: stream.resume_offset is not None)
    key = storage_key(it_loaded.entry_id)
    assert await hass.config_entries.async_reload(it_loaded.entry_id)
    await hass.async_block_till_done()
    # Written at unload, read back by the new setup: the reload's gap is replayed.
    assert hass_storage[key]["data"]["organizations"][org.id]["stream"]["offset"]
    # A cycle still running when the entry goes brings no file back when it ends.
    simulator_server.simulator.faults.add(latency=0.5, path="alarm", count=1)
    cycle = hass.async_create_task(coordinator_of(it_loaded).async_refresh())
    await asyncio.sleep(0.1)
    assert await hass.config_entries.async_remove(it_loaded.entry_id)
    await hass.async_block_till_done()
    await cycle
    assert cycle.done()
    assert key not in hass_storage


@pytest.mark.parametrize(
    ("stored", "logged"),
    [
        ({"version": 2, "minor_version": 1, "key": "k", "data": {}}, "stored state ignored"),
        ({"version": 0, "minor_version": 1, "key": "k", "data": {"x": 1}}, ""),
        (
            {
                "version": 1,
                "minor_version": 2,  # a newer minor version: its known fields are read
                "key": "k",
                "data": {
                    "organizations": {
                        "ORG": {
                            # A time without a zone (edited by hand): not comparable.
                            "stream": {"offset": "o", "at": "2026-01-01T00:00:00"},
                            # A partial list would fire raises for alarms long known.
                            "alarms": {
                                "offset": 1,
                                "listed_at": "2026-01-01T00:00:00+00:00",
                                "read_at": "2026-01-01T00:00:00+00:00",
                                "items": [{"id": "a"}, 5],
                            },
                        },
                        "OTHER": [],
                        "THIRD": {"stream": 5, "alarms": {"offset": "x"}},
                        "FOURTH": {"stream": {"offset": 3}},
                    },
                    "events": [
                        {"organization": "ORG"},
                        5,
                        {  # of an organization the entry no longer holds
                            "organization": "elsewhere",
                            "device": "d",
                            "type": "alarm_raised",
                            "seen": "2026-01-01T00:00:00+00:00",
                            "alarm": {"id": "a"},
                        },
                    ],
                },
            },
            "",
        ),
    ],
    ids=["newer_major", "older_major", "wrong_shapes"],
)
async def test_a_store_of_another_version_or_damaged_starts_over(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    stored: dict[str, Any],
    logged: str,
) -> None:
    org = org_of(simulator_server)
    data = copy.deepcopy(stored)
    if "ORG" in data["data"].get("organizations", {}):
        data["data"]["organizations"][org.id] = data["data"]["organizations"].pop("ORG")
    hass_storage[storage_key(it_entry.entry_id)] = data
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    stream = coordinator_of(it_entry).streams[org.id]
    await wait_for(lambda: stream.connected)
    assert stream.counters["replays"] == 0
    assert logged in caplog.text
    # It goes on, and what it stores next is of the current version.
    it = simulator_server.simulator.it_expert
    it.emit_measurement(sensor_of(device_of(org, "UPS"), "LOAD").id, 10.0)
    await wait_for(lambda: stream.resume_offset is not None)
    assert await hass.config_entries.async_unload(it_entry.entry_id)
    written = hass_storage[storage_key(it_entry.entry_id)]
    assert (written["version"], written["minor_version"]) == (1, 1)
    assert written["data"]["organizations"][org.id]["stream"]["offset"] == stream.resume_offset


def _stored_file(organization_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """A Store file of the current version holding `content` for one organization."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": "k",
        "data": {"organizations": {organization_id: content}, "events": []},
    }


@pytest.mark.parametrize(
    ("age", "offset", "fault", "logged"),
    [
        (timedelta(hours=7), None, None, "more than 6:00:00 ago"),
        (timedelta(0), "not-an-offset", None, "the service refused its offsets (expired)"),
        (timedelta(0), None, 429, "the service refused it (rate limit)"),
        (timedelta(0), None, 503, "it kept breaking off"),
    ],
    ids=["too_old", "expired", "rate_limited", "breaking_off"],
)
async def test_a_stored_offset_that_cannot_be_replayed_is_said_once_and_values_go_on(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    age: timedelta,
    offset: str | None,
    fault: int | None,
    logged: str,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    load = sensor_of(device_of(org, "UPS"), "LOAD")
    stored_offset = offset or it.offset_of(org.id, it.emit_measurement(load.id, 5.0))
    if fault is not None:
        simulator_server.simulator.faults.add(status=fault, path="measurements/replay$", count=3)
    at = (dt_util.utcnow() - age).isoformat()
    hass_storage[storage_key(it_entry.entry_id)] = _stored_file(
        org.id, {"stream": {"offset": stored_offset, "at": at}}
    )
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    stream = coordinator_of(it_entry).streams[org.id]
    await _live_reading(hass, simulator_server, load)
    await wait_for(lambda: logged in caplog.text)
    it.emit_measurement(load.id, 42.0)
    await wait_for(lambda: load.id in stream.readings and stream.readings[load.id].value == 42.0)
    assert caplog.text.count("not replayed") == 1
    assert stream.counters["replays_completed"] == 0


@pytest.mark.parametrize(
    ("read_ago", "fires"), [(timedelta(hours=1), True), (timedelta(days=2), False)]
)
async def test_alarm_changes_are_fired_after_a_stop_of_a_day_at_most(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    read_ago: timedelta,
    fires: bool,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    read_at = (dt_util.utcnow() - read_ago).isoformat()
    # Listed two days ago (the first cycle lists again), active at the last read before the
    # stop, and since aged out of the service's list: it was cleared meanwhile.
    listed_at = (dt_util.utcnow() - timedelta(days=2)).isoformat()
    gone = {"id": "gone", "device_id": ups.id, "severity": "WARNING", "activated": listed_at}
    offset = it.state(org.id).alarm_log.offset
    hass_storage[storage_key(it_entry.entry_id)] = _stored_file(
        org.id,
        {"alarms": {"offset": offset, "listed_at": listed_at, "read_at": read_at, "items": [gone]}},
    )
    fired, listen = _alarm_events(f"{org.id}-{ups.id}-alarms")
    listen(hass)
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    if fires:
        await wait_for(lambda: fired == [("alarm_cleared", "gone")])
    else:
        await coordinator_of(it_entry).async_refresh()
        await hass.async_block_till_done()
        assert fired == []
        assert "fires no event" in caplog.text


async def test_a_stored_offset_not_replayed_yet_keeps_its_age_across_restarts(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    load = sensor_of(device_of(org, "UPS"), "LOAD")
    offset = it.offset_of(org.id, it.emit_measurement(load.id, 5.0))
    at = (dt_util.utcnow() - timedelta(hours=5)).isoformat()
    key = storage_key(it_entry.entry_id)
    hass_storage[key] = _stored_file(org.id, {"stream": {"offset": offset, "at": at}})
    # The stream stays refused: the offset is never replayed from in this run.
    simulator_server.simulator.faults.add(status=429, retry_after="3600", path="measurements/live$")
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(it_entry.entry_id)  # writes the file
    # Still 5 hours old, not made young by being written again: a later restart gives up.
    assert hass_storage[key]["data"]["organizations"][org.id]["stream"] == {
        "offset": offset,
        "at": at,
    }


async def test_a_stop_during_the_replay_resumes_it_at_the_next_start(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    load_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    key = storage_key(it_loaded.entry_id)
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: _state(hass, load_entity) == "10.0")
    async with Restarts() as restarts:
        await restarts.stop(hass)
        before = hass_storage[key]["data"]["organizations"][org.id]["stream"]["offset"]
        it.clock.advance(timedelta(seconds=1))
        it.emit_measurement(load.id, 20.0)
        # The replay answers slowly: Home Assistant stops again before it arrives.
        simulator_server.simulator.faults.add(latency=30, path="measurements/replay$", count=1)
        second = await restarts.start()
        await _live_reading(second, simulator_server, load)
        stream = second.config_entries.async_entries("ecostruxure")[0].runtime_data.streams[org.id]
        await wait_for(lambda: stream.live.replay_running)
        await restarts.stop(second)
        # Not the live offset: the readings of the gap were not applied yet.
        assert hass_storage[key]["data"]["organizations"][org.id]["stream"]["offset"] == before
        third = await restarts.start()
        await _live_reading(third, simulator_server, load)
        await wait_for(lambda: _state(third, load_entity) == "20.0")


async def test_alarm_changes_while_stopped_fire_once_after_a_setup_retried_at_start(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    async with Restarts() as restarts:
        await restarts.stop(hass)
        fan = it.raise_alarm(org.id, ups.id, label="Fan failure")
        # The service is down at start: the setup is retried, then succeeds.
        simulator_server.simulator.faults.add(status=503, path="organizations$")
        fired, listen = _alarm_events(f"{org.id}-{ups.id}-alarms")
        second = await restarts.start(listen)
        entry = second.config_entries.async_get_entry(it_loaded.entry_id)
        assert entry is not None
        await wait_for(lambda: entry.state is ConfigEntryState.SETUP_RETRY)
        simulator_server.simulator.faults.clear()
        assert await second.config_entries.async_reload(entry.entry_id)
        await wait_for(lambda: fired == [("alarm_raised", fan)])
        third = await restarts.restart(second, listen)
        await third.config_entries.async_entries("ecostruxure")[0].runtime_data.async_refresh()
        await third.async_block_till_done()
        assert fired == [("alarm_raised", fan)]


async def test_an_alarm_change_is_written_at_once_and_a_quiet_cycle_not(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    hass_storage: dict[str, Any],
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    coordinator = coordinator_of(it_loaded)
    key = storage_key(it_loaded.entry_id)
    await wait_for(lambda: key in hass_storage)  # the first read, written at once
    del hass_storage[key]
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert key not in hass_storage
    alarm = it.raise_alarm(org.id, device_of(org, "UPS").id, label="Overload")
    await coordinator.async_refresh()
    await wait_for(lambda: key in hass_storage)
    items = hass_storage[key]["data"]["organizations"][org.id]["alarms"]["items"]
    assert alarm in [a["id"] for a in items]
