"""Repair issues: only what a user can act on, each the entry's own, gone with the entry.

And a disabled operation (503 ComplianceRelated) is asked again hourly, not every cycle.
"""

from datetime import timedelta

from homeassistant.const import STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    operation_disabled_issue_id,
)
from simulator import SimulatorServer
from simulator.faults import FaultRule

from .conftest import Advance

MANY = 1_000_000
MINUTE = timedelta(minutes=1)


def asked(rule: FaultRule) -> int:
    """How many requests a fault rule of `MANY` answered."""
    assert rule.count is not None
    return MANY - rule.count


def entry_for(server: SimulatorServer, site_ids: list[str]) -> MockConfigEntry:
    config = server.simulator.config
    return MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=site_ids[0],
        data={
            CONF_SUBSCRIPTION_KEY: config.subscription_key,
            CONF_TECHNICAL_TOKEN: config.technical_token,
            CONF_BASE_URL: server.base_url,
        },
        options={CONF_SITES: site_ids, CONF_SCAN_INTERVAL: 60},
    )


def our_issues(hass: HomeAssistant) -> set[str]:
    return {issue_id for (domain, issue_id) in ir.async_get(hass).issues if domain == DOMAIN}


async def test_a_disabled_operation_is_asked_again_hourly_and_its_repair_stays(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    rule = sim.faults.add(status=503, path="/alarms$", count=MANY)
    issue_id = operation_disabled_issue_id(loaded_entry.entry_id, "alarms")
    await advance(MINUTE)
    assert asked(rule) == 2  # once for each site
    assert issue_id in our_issues(hass)

    # Twelve cycles (the last 50 minutes after the 503): not asked again, the issue stays.
    for _ in range(11):
        await advance(MINUTE)
    await advance(timedelta(minutes=48))
    assert asked(rule) == 2
    assert issue_id in our_issues(hass)
    # An hour after the 503 it is asked again; still disabled, the issue stays.
    await advance(timedelta(minutes=11))
    assert asked(rule) == 4
    assert issue_id in our_issues(hass)

    # Enabled again: the next hourly try finds it, the alarms come back, the issue goes.
    sim.faults.clear()
    await advance(timedelta(minutes=30))
    assert issue_id in our_issues(hass)
    await advance(timedelta(minutes=31))
    assert issue_id not in our_issues(hass)
    site = sim.sites[0]
    states = [
        hass.states.get(e.entity_id)
        for e in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if e.domain == "binary_sensor"
        and e.unique_id.startswith(f"{site.id}-")
        and "-alarm-" in e.unique_id
    ]
    assert states
    assert all(s is not None and s.state == STATE_OFF for s in states)


async def test_disabled_values_are_not_asked_every_cycle_either(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    rule = sim.faults.add(status=503, path="/measurements/latest$", count=MANY)
    for _ in range(5):
        await advance(MINUTE)
    assert asked(rule) == 2
    assert operation_disabled_issue_id(loaded_entry.entry_id, "latest_values") in our_issues(hass)
    unavailable = [
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, loaded_entry.entry_id)
        if e.domain == "sensor" and e.unique_id.endswith("-active_alarms")
    ]
    assert unavailable
    assert all(hass.states.get(e).state == STATE_UNAVAILABLE for e in unavailable)  # type: ignore[union-attr]


async def test_each_entry_has_its_own_disabled_operation_issue(
    hass: HomeAssistant, simulator_server: SimulatorServer, advance: Advance
) -> None:
    """Two entries in different states no longer create and delete one issue in turn."""
    sim = simulator_server.simulator
    first, second = (entry_for(simulator_server, [site.id]) for site in sim.sites)
    for entry in (first, second):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim.faults.add(status=503, path=f"/sites/{sim.sites[0].id}/alarms$")
    for _ in range(3):
        await advance(MINUTE)
        assert operation_disabled_issue_id(first.entry_id, "alarms") in our_issues(hass)
        assert operation_disabled_issue_id(second.entry_id, "alarms") not in our_issues(hass)


async def test_removing_an_entry_removes_its_issues(
    hass: HomeAssistant, simulator_server: SimulatorServer, advance: Advance
) -> None:
    sim = simulator_server.simulator
    first, second = (entry_for(simulator_server, [site.id]) for site in sim.sites)
    for entry in (first, second):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim.faults.add(status=503, path="/alarms$")
    await advance(MINUTE)
    kept = operation_disabled_issue_id(second.entry_id, "alarms")
    assert our_issues(hass) == {operation_disabled_issue_id(first.entry_id, "alarms"), kept}
    sim.remove_site(sim.sites[0].id)
    await advance(MINUTE)
    assert f"site_not_found_{first.unique_id}" in our_issues(hass)

    await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()
    assert our_issues(hass) == {kept}  # the other entry's stays
