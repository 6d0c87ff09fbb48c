"""Facility Expert alarm events across a restart of Home Assistant (real restarts, simulator)."""

from datetime import timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ecostruxure.facility_expert.alarm_store import storage_key
from simulator import Simulator, SimulatorServer
from simulator.facility_expert import API_PREFIX
from tests.restart import Restarts

SKIPPED = "fire no event: after a stop, alarm events reach back"


class Recorder:
    """(event type, alarm id) of each alarm event fired, in any instance.

    By one entity, or by any (`entity_id` None).
    """

    def __init__(self, entity_id: str | None) -> None:
        self.entity_id = entity_id
        self.fired: list[tuple[str, str]] = []
        self._last = ""  # the time of the last event recorded

    def __call__(self, hass: HomeAssistant) -> None:
        """Listen to `hass` (given to the harness: from before the entries are set up)."""

        @callback
        def record(event: Event) -> None:
            new = event.data["new_state"]
            if new is None or self.entity_id not in {None, event.data["entity_id"]}:
                return
            # A restored entity shows its last event again: not a new one.
            if "alarm_id" in new.attributes and new.state > self._last:
                self._last = new.state
                self.fired.append((new.attributes["event_type"], new.attributes["alarm_id"]))

        hass.bus.async_listen("state_changed", record)


def feeder(sim: Simulator) -> str:
    return next(a.id for a in sim.sites[0].assets.values() if a.type == "feeder")


async def poll(
    hass: HomeAssistant, sim: Simulator, freezer: FrozenDateTimeFactory, seconds: float = 60
) -> None:
    """Time passes for the service and Home Assistant, which polls."""
    sim.clock.advance(timedelta(seconds=seconds))
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def settle(hass: HomeAssistant) -> None:
    """Let what is due now run: the event entities catch up with the first answer."""
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def down(sim: Simulator, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Time passes while Home Assistant is stopped."""
    sim.clock.advance(delta)
    freezer.tick(delta)


def events_entity(hass: HomeAssistant, sim: Simulator) -> str:
    found = er.async_get(hass).async_get_entity_id(
        "event", "ecostruxure", f"{sim.sites[0].id}-alarms"
    )
    assert found
    return found


async def test_alarms_raised_and_cleared_while_stopped_fire_once_each_in_order(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id
    recorder = Recorder(events_entity(hass, sim))
    recorder(hass)
    await poll(hass, sim, freezer)
    told = sim.raise_alarm(site, feeder(sim), "overload")
    sim.clock.advance(timedelta(seconds=1))
    lasting = sim.raise_alarm(site, feeder(sim), "phase_loss")
    await poll(hass, sim, freezer)
    assert recorder.fired == [("alarm_raised", told), ("alarm_raised", lasting)]
    async with Restarts() as restarts:
        # Stopped right after the poll: the delayed save is written by the final write.
        await restarts.stop(hass)
        down(sim, freezer, timedelta(minutes=1))
        blip = sim.raise_alarm(site, feeder(sim), "trip")
        down(sim, freezer, timedelta(minutes=1))
        sim.clear_alarm(told)
        down(sim, freezer, timedelta(minutes=1))
        other = sim.raise_alarm(site, feeder(sim), "load_stop")
        down(sim, freezer, timedelta(minutes=1))
        sim.clear_alarm(blip)
        down(sim, freezer, timedelta(minutes=1))
        second = await restarts.start(recorder)
        await settle(second)
        # Each change made while stopped fires once, in the order it was made.
        assert recorder.fired[2:] == [
            ("alarm_raised", blip),
            ("alarm_cleared", told),
            ("alarm_raised", other),
            ("alarm_cleared", blip),
        ]
        await poll(second, sim, freezer)
        # A restart with nothing in between, and a crash-free stop before the quiet save.
        third = await restarts.restart(second, recorder)
        await poll(third, sim, freezer)
        await poll(third, sim, freezer)
    assert len(recorder.fired) == 6  # nothing told twice, `lasting` included


async def test_reach_back_is_bounded_to_a_day_and_says_what_it_skips(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id
    recorder = Recorder(events_entity(hass, sim))
    recorder(hass)
    lasting = sim.raise_alarm(site, feeder(sim), "phase_loss")
    await poll(hass, sim, freezer)
    await poll(hass, sim, freezer)
    assert recorder.fired == [("alarm_raised", lasting)]
    async with Restarts() as restarts:
        await restarts.stop(hass)
        down(sim, freezer, timedelta(hours=1))
        skipped = sim.raise_alarm(site, feeder(sim), "trip")
        down(sim, freezer, timedelta(minutes=5))
        sim.clear_alarm(skipped)
        down(sim, freezer, timedelta(hours=2))
        kept_on = sim.raise_alarm(site, feeder(sim), "overload")  # over a day before start
        down(sim, freezer, timedelta(hours=28))
        blip = sim.raise_alarm(site, feeder(sim), "load_stop")
        down(sim, freezer, timedelta(minutes=5))
        sim.clear_alarm(blip)
        down(sim, freezer, timedelta(minutes=5))
        # The first read after the start fails: the next one still reaches back.
        sim.faults.add(status=503, title="ServiceUnavailable", path=f"{site}/alarms", count=1)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            second = await restarts.start(recorder)
            await poll(second, sim, freezer)
            await poll(second, sim, freezer)
        assert recorder.fired[1:] == [
            ("alarm_raised", kept_on),
            ("alarm_raised", blip),
            ("alarm_cleared", blip),
        ]
        # One line a site says what was skipped, despite the failed read; the alarm
        # active since before the stop stays told, not cleared.
        skips = [r.getMessage() for r in caplog.records if SKIPPED in r.getMessage()]
        assert len(skips) == len(sim.sites)
        assert sum(sim.sites[0].name in line for line in skips) == 1
        # Back to one request a cycle once caught up.
        sim.stats.reset()
        await poll(second, sim, freezer)
        assert sim.stats.by_operation["list_alarms"] == 2


async def test_a_start_while_the_service_is_down_still_reaches_back_once_it_answers(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id
    recorder = Recorder(events_entity(hass, sim))
    recorder(hass)
    await poll(hass, sim, freezer)
    async with Restarts() as restarts:
        await restarts.stop(hass)
        down(sim, freezer, timedelta(minutes=30))
        skipped = sim.raise_alarm(site, feeder(sim), "trip")
        down(sim, freezer, timedelta(minutes=5))
        sim.clear_alarm(skipped)  # over a day before the first read after the start
        down(sim, freezer, timedelta(hours=25))
        blip = sim.raise_alarm(site, feeder(sim), "load_stop")
        down(sim, freezer, timedelta(minutes=5))
        sim.clear_alarm(blip)
        # The service does not answer at start: the setup is retried.
        sim.faults.add(status=503, title="ServiceUnavailable", path=f"^{API_PREFIX}/sites/")
        second = await restarts.start(recorder)
        entry = second.config_entries.async_get_entry(loaded_entry.entry_id)
        assert entry is not None
        assert entry.state is not ConfigEntryState.LOADED  # retried
        sim.faults.clear()
        await poll(second, sim, freezer)
        assert entry.state is ConfigEntryState.LOADED
        await settle(second)
        assert recorder.fired == [("alarm_raised", blip), ("alarm_cleared", blip)]
        assert (
            sum(
                SKIPPED in r.getMessage() and sim.sites[0].name in r.getMessage()
                for r in caplog.records
            )
            == 1
        )


async def test_the_stored_alarm_reads_hold_no_secret_and_a_reload_keeps_them(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    sim = simulator_server.simulator
    key = storage_key(loaded_entry.entry_id)
    sim.raise_alarm(sim.sites[0].id, feeder(sim), "overload")
    await poll(hass, sim, freezer)
    await poll(hass, sim, freezer)  # written some seconds after the change
    stored = json.dumps(hass_storage[key])
    assert '"overload"' in stored
    assert sim.config.technical_token not in stored
    assert sim.config.subscription_key not in stored
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert key in hass_storage


async def test_removing_the_entry_deletes_its_stored_alarm_reads(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    sim = simulator_server.simulator
    key = storage_key(loaded_entry.entry_id)
    await poll(hass, sim, freezer)
    assert key in hass_storage
    sim.raise_alarm(sim.sites[0].id, feeder(sim), "overload")
    await poll(hass, sim, freezer)  # a save is pending
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_removing_an_entry_not_loaded_since_the_start_deletes_its_stored_reads(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    key = storage_key(config_entry.entry_id)
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": {"sites": {}}}
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def _stored(site: str, alarm: dict[str, Any], polled: str) -> dict[str, Any]:
    return {"sites": {site: {"polled": polled, "alarms": [alarm]}}}


@pytest.mark.parametrize(
    ("version", "minor_version", "restored"),
    [
        (1, 2, True),  # a newer minor version only adds fields: read
        (0, 1, False),  # older than any written: migrated to nothing
        (2, 1, False),  # a newer major version: not understood, left aside
    ],
)
async def test_a_store_of_another_version_is_migrated_or_ignored(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    version: int,
    minor_version: int,
    restored: bool,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id
    down(sim, freezer, timedelta(minutes=10))
    # Stored before a stop 5 minutes ago: the alarm was active then, and told.
    alarm = sim.raise_alarm(site, feeder(sim), "overload")
    stored_alarm = {
        "id": alarm,
        "asset_id": feeder(sim),
        "type": "overload",
        "activated_at": sim.clock.now().isoformat(),
        "added_later": "ignored",
    }
    down(sim, freezer, timedelta(minutes=5))
    polled = sim.clock.now().isoformat()
    key = storage_key(config_entry.entry_id)
    hass_storage[key] = {
        "version": version,
        "minor_version": minor_version,
        "key": key,
        "data": _stored(site, stored_alarm, polled),
    }
    down(sim, freezer, timedelta(minutes=5))
    sim.clear_alarm(alarm)
    recorder = Recorder(None)
    recorder(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, sim, freezer)
    assert recorder.fired == ([("alarm_cleared", alarm)] if restored else [])


_WHEN = "2026-12-01T10:00:00+00:00"


@pytest.mark.parametrize(
    "data",
    [
        ["not", "a", "mapping"],
        {"sites": ["not", "a", "mapping"]},
        {"sites": {"st-x": {"polled": "yesterday", "alarms": []}}},
        {"sites": {"st-x": {"polled": "2026-12-01T10:00:00", "alarms": []}}},  # no offset
        {"sites": {"st-x": {"polled": _WHEN, "alarms": [{"id": "al-1"}]}}},
        {
            "sites": {
                "st-x": {
                    "polled": _WHEN,
                    "alarms": [{"id": 7, "asset_id": "a", "type": "trip", "activated_at": _WHEN}],
                }
            }
        },
    ],
    ids=["list", "sites-list", "bad-time", "naive-time", "missing-fields", "numeric-id"],
)
async def test_a_damaged_store_starts_as_at_setup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    data: Any,
) -> None:
    sim = simulator_server.simulator
    key = storage_key(config_entry.entry_id)
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": data}
    active = sim.raise_alarm(sim.sites[0].id, feeder(sim), "overload")
    recorder = Recorder(None)
    recorder(hass)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, sim, freezer)
    assert "Stored alarm reads not used" in caplog.text
    assert recorder.fired == []  # active at the first read: raised before anyone looked
    sim.clear_alarm(active)
    await poll(hass, sim, freezer)
    assert recorder.fired == [("alarm_cleared", active)]
    assert json.dumps(hass_storage[key]["data"]).count(active) == 1  # written anew


async def test_the_alarm_reads_are_not_written_every_cycle(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    sim = simulator_server.simulator
    key = storage_key(loaded_entry.entry_id)
    sim.raise_alarm(sim.sites[0].id, feeder(sim), "overload")
    await poll(hass, sim, freezer)
    await poll(hass, sim, freezer)
    written = hass_storage.pop(key)
    for _ in range(10):  # nothing changes: only the time of the last read moves
        await poll(hass, sim, freezer)
    assert key not in hass_storage
    for _ in range(6):  # some 15 minutes later, it is written once with the new time
        await poll(hass, sim, freezer)
    assert hass_storage[key]["data"] != written["data"]
    sim.raise_alarm(sim.sites[0].id, feeder(sim), "trip")
    hass_storage.pop(key)
    await poll(hass, sim, freezer)  # a change: written within seconds
    assert key not in hass_storage
    freezer.tick(timedelta(seconds=11))
    await settle(hass)
    assert '"trip"' in json.dumps(hass_storage[key])
