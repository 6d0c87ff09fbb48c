"""What a user sees of odd readings, warning alarms and tangled inventories."""

from datetime import UTC, datetime, timedelta

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.it_expert.models import ITAlarm, Sensor
from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.it_expert.data import alarm_transitions
from custom_components.ecostruxure.it_expert.descriptions import reading_description
from custom_components.ecostruxure.topology import parents_first
from simulator import SimulatorServer
from simulator.it_inventory import SimOrganization

from .conftest import wait_for
from .test_entities import coordinator_of, device_of, entity_id, org_of, sensor_of, state


async def test_a_number_sent_as_text_shows_and_other_text_is_unknown(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    now = it.clock.now()
    it.emit_measurement(load.id, "41.5", timestamp=now)
    await wait_for(lambda: state(hass, entity).state == "41.5")
    # Text where a number is due: unknown, never a made-up value.
    it.emit_measurement(load.id, "n/a", timestamp=now + timedelta(seconds=1))
    await wait_for(lambda: state(hass, entity).state == STATE_UNKNOWN)


def test_a_unit_that_does_not_fit_the_type_keeps_the_value_without_a_class() -> None:
    # A temperature in % cannot be converted: shown as sent, with no device class.
    odd = reading_description(Sensor(id="s", device_id="d", unit="%", type="TEMPERATURE"))
    assert odd.device_class is None
    assert odd.native_unit_of_measurement == "%"
    fine = reading_description(Sensor(id="s", device_id="d", unit="°F", type="TEMPERATURE"))
    assert fine.device_class == SensorDeviceClass.TEMPERATURE


async def test_a_warning_alarm_is_a_problem(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    cooling = device_of(org, "COOLING")
    problem = entity_id(entity_registry, "binary_sensor", f"{org.id}-{cooling.id}-problem")
    assert state(hass, problem).state == STATE_OFF
    warning = it.raise_alarm(org.id, cooling.id, severity="WARNING", label="Filter clogged")
    await coordinator_of(it_loaded).async_refresh()
    assert state(hass, problem).state == STATE_ON
    assert [a["severity"] for a in state(hass, problem).attributes["alarms"]] == ["WARNING"]
    it.clear_alarm(warning)
    await coordinator_of(it_loaded).async_refresh()
    assert state(hass, problem).state == STATE_OFF


def test_a_loop_in_the_tree_still_gives_every_object_once() -> None:
    # b's parent is c, c's parent is b (bad data): both are placed, each once, after a.
    parents = {"a": None, "b": "c", "c": "b", "d": "a", "e": "missing"}
    ordered = parents_first(parents, key=lambda k: k, parent=parents.__getitem__)
    assert sorted(ordered) == sorted(parents)
    assert ordered.index("a") < ordered.index("d")


def _alarm(alarm_id: str, *, cleared: bool = False, reactivated: int = 0) -> ITAlarm:
    at = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    return ITAlarm(
        id=alarm_id,
        device_id="ups",
        label=alarm_id,
        message=None,
        severity="CRITICAL",
        activated=at,
        cleared=at + timedelta(minutes=5) if cleared else None,
        reactivation_count=reactivated,
    )


def test_alarm_transitions_between_two_reads() -> None:
    before = {
        "steady": _alarm("steady"),
        "aged-out": _alarm("aged-out"),
        "back": _alarm("back", cleared=True),
        "done": _alarm("done", cleared=True),
    }
    after = {
        "steady": _alarm("steady"),
        "back": _alarm("back", reactivated=1),
        "done": _alarm("done", cleared=True),
        "brief": _alarm("brief", cleared=True),
    }
    events = [(kind, alarm.id) for kind, alarm in alarm_transitions(before, after)]
    assert sorted(events) == sorted(
        [
            ("alarm_raised", "back"),  # reactivated
            ("alarm_raised", "brief"),  # raised and cleared between the reads: both
            ("alarm_cleared", "brief"),
            ("alarm_cleared", "aged-out"),  # left the list while active: it was cleared
        ]
    )
    assert events.index(("alarm_raised", "brief")) < events.index(("alarm_cleared", "brief"))


async def test_an_alarm_raised_and_cleared_between_two_cycles_fires_both(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    events = entity_id(entity_registry, "event", f"{org.id}-{ups.id}-alarms")
    fired: list[str] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == events and new and "event_type" in new.attributes:
            fired.append(new.attributes["event_type"])

    hass.bus.async_listen("state_changed", record)
    it.clear_alarm(it.raise_alarm(org.id, ups.id, severity="CRITICAL", label="Brief outage"))
    await coordinator_of(it_loaded).async_refresh()
    await hass.async_block_till_done()
    assert fired == ["alarm_raised", "alarm_cleared"]


async def test_a_key_refused_for_one_organization_starts_reauthentication(
    hass: HomeAssistant, it_loaded: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    org = org_of(simulator_server)
    simulator_server.simulator.faults.add(status=401, path=f"/{org.id}/inventory-changes/")
    await coordinator_of(it_loaded).async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_an_organization_refused_mid_sync_is_unavailable_with_one_warning(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = org_of(simulator_server, 0), org_of(simulator_server, 1)
    coordinator = coordinator_of(it_loaded)

    def problem(org: SimOrganization) -> str:
        return entity_id(
            entity_registry, "binary_sensor", f"{org.id}-{device_of(org, 'UPS').id}-problem"
        )

    fault = simulator_server.simulator.faults.add(
        status=403, path=f"/{second.id}/(inventory|sensors|alarms)"
    )
    for _ in range(3):
        await coordinator.async_refresh()
    assert state(hass, problem(second)).state == STATE_UNAVAILABLE
    assert state(hass, problem(first)).state == STATE_OFF
    assert issue_registry.async_get_issue(DOMAIN, f"consent_revoked_{second.id}") is not None
    warnings = [r for r in caplog.records if "no longer gives access" in r.getMessage()]
    assert len(warnings) == 1
    simulator_server.simulator.faults.clear()
    del fault
    await coordinator.async_refresh()
    assert state(hass, problem(second)).state == STATE_OFF
