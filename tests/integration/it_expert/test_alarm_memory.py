"""One alarm memory for both services: each entry's events go on across reloads, apart."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from simulator import SimulatorServer

from ..test_entities import record_alarm_events
from .test_entities import device_of, entity_id, org_of


async def test_alarm_events_of_both_services_fire_once_across_reloads_and_removals(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = simulator_server.simulator
    it = sim.it_expert
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    site = sim.sites[0]
    site_fired = record_alarm_events(hass, entity_id(entity_registry, "event", f"{site.id}-alarms"))
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    ups_events = entity_id(entity_registry, "event", f"{org.id}-{ups.id}-alarms")
    ups_fired = record_alarm_events(hass, ups_events)

    def tick() -> None:
        sim.clock.advance(timedelta(seconds=30))
        freezer.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)  # the entities' catch-up after they are added

    async def reload_and_poll(*entries: MockConfigEntry) -> None:
        for entry in entries:
            assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        tick()
        await hass.async_block_till_done()
        for entry in entries:
            await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()

    # Raised while both entries reload: each fires once, to its own entity.
    trip = sim.raise_alarm(site.id, next(iter(site.assets)), "trip")
    fan = it.raise_alarm(org.id, ups.id, severity="CRITICAL", label="Fan failure")
    tick()
    await reload_and_poll(config_entry, it_loaded)
    await reload_and_poll(config_entry, it_loaded)
    assert site_fired == [("alarm_raised", trip)]
    assert ups_fired == [("alarm_raised", fan)]
    # Removing one entry forgets its alarms only: the other still goes on from its own.
    await hass.config_entries.async_remove(it_loaded.entry_id)
    await hass.async_block_till_done()
    sim.clear_alarm(trip)
    tick()
    await reload_and_poll(config_entry)
    await reload_and_poll(config_entry)
    assert site_fired == [("alarm_raised", trip), ("alarm_cleared", trip)]
    assert ups_fired == [("alarm_raised", fan)]
