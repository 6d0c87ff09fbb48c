"""IT Expert in Home Assistant: devices, pushed values, alarms, changes and consent."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator
from custom_components.ecostruxure.it_expert.data import it_device_id
from simulator import SimulatorServer
from simulator.it_inventory import SimDevice, SimOrganization, SimSensor

from .conftest import wait_for


def org_of(server: SimulatorServer, index: int = 0) -> SimOrganization:
    return server.simulator.it_expert.organizations[index]


def device_of(org: SimOrganization, device_type: str) -> SimDevice:
    return next(d for d in org.devices.values() if d.type == device_type)


def sensor_of(device: SimDevice, sensor_type: str) -> SimSensor:
    return next(s for s in device.sensors if s.type == sensor_type)


def entity_id(registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, unique_id)
    assert found, unique_id
    return found


def state(hass: HomeAssistant, entity: str) -> Any:
    current = hass.states.get(entity)
    assert current is not None, entity
    return current


def coordinator_of(entry: MockConfigEntry) -> ITExpertCoordinator:
    coordinator: ITExpertCoordinator = entry.runtime_data
    return coordinator


async def test_devices_follow_the_inventory_tree(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    org = org_of(simulator_server)

    def get(object_id: str) -> dr.DeviceEntry:
        found = device_registry.async_get_device_by_identifier(
            it_device_id(org.id, object_id), it_loaded.entry_id
        )
        assert found is not None, object_id
        return found

    organization = get(org.id)
    assert organization.name == org.label
    ups = device_of(org, "UPS")
    ups_device = get(ups.id)
    assert (ups_device.model, ups_device.serial_number) == (ups.model, ups.serial_number)
    rack = get(ups.location_id or "")
    assert ups_device.via_device_id == rack.id
    assert rack.model == "Rack"
    room = get(org.locations[ups.location_id or ""].parent_id or "")
    assert rack.via_device_id == room.id
    # A rack PDU is a composite device: PDU -> banks -> outlets.
    outlet = device_of(org, "OUTLET")
    bank = org.devices[outlet.parent_id or ""]
    assert get(outlet.id).via_device_id == get(bank.id).id
    assert get(bank.id).via_device_id == get(bank.parent_id or "").id
    # A device without a location hangs under the organization.
    unplaced = next(d for d in org.devices.values() if d.location_id is None and not d.parent_id)
    assert get(unplaced.id).via_device_id == organization.id


async def test_sensors_show_pushed_values_with_their_kind(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = entity_id(
        entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{sensor_of(ups, 'LOAD').id}"
    )
    charge_sensor = sensor_of(ups, "BATTERY_CHARGE")
    charge = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{charge_sensor.id}")
    status_sensor = sensor_of(ups, "STATUS")
    status = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{status_sensor.id}")
    # Nothing is reported before the stream brings it: unknown, never 0.
    assert state(hass, load).state == STATE_UNKNOWN
    it.emit_measurement(sensor_of(ups, "LOAD").id, 41.5)
    it.emit_measurement(charge_sensor.id, 97.0)
    it.emit_measurement(status_sensor.id, "on battery")
    await wait_for(lambda: state(hass, status).state == "on battery")
    assert state(hass, load).state == "41.5"
    assert state(hass, load).attributes["unit_of_measurement"] == "%"
    assert state(hass, charge).attributes["device_class"] == "battery"
    assert "unit_of_measurement" not in state(hass, status).attributes
    outlet = device_of(org, "OUTLET")
    energy = state(
        hass,
        entity_id(
            entity_registry,
            "sensor",
            f"{org.id}-{outlet.id}-sensor-{sensor_of(outlet, 'ENERGY').id}",
        ),
    )
    assert energy.attributes["device_class"] == "energy"
    assert energy.attributes["state_class"] == "total_increasing"
    monitor = device_of(org, "ENVIRONMENTAL_MONITOR")
    airflow = sensor_of(monitor, "AIRFLOW")
    unknown_kind = state(
        hass, entity_id(entity_registry, "sensor", f"{org.id}-{monitor.id}-sensor-{airflow.id}")
    )
    assert "device_class" not in unknown_kind.attributes
    assert unknown_kind.attributes["unit_of_measurement"] == airflow.unit


async def test_repeated_and_late_readings_never_move_a_sensor_back(
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
    it.emit_measurement(load.id, 40.0, timestamp=now)
    await wait_for(lambda: state(hass, entity).state == "40.0")
    writes: list[Event] = []

    @callback
    def record(event: Event) -> None:
        writes.append(event)

    hass.bus.async_listen("state_changed", record)
    it.emit_measurement(load.id, 55.0, timestamp=now - timedelta(minutes=1))  # late
    it.emit_measurement(load.id, 66.0, timestamp=now)  # same instant again
    it.emit_measurement(load.id, 42.0, timestamp=now + timedelta(seconds=1))
    await wait_for(lambda: state(hass, entity).state == "42.0")
    assert [e.data["new_state"].state for e in writes if e.data["entity_id"] == entity] == ["42.0"]
    assert coordinator_of(it_loaded).streams[org.id].counters["ignored"] == 2


async def test_a_dropped_stream_reconnects_and_replays_the_gap(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    it = sim.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load, power = sensor_of(ups, "LOAD"), sensor_of(ups, "POWER")
    load_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    power_entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{power.id}")
    stream = coordinator_of(it_loaded).streams[org.id]
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: state(hass, load_entity).state == "10.0")
    # The stream drops in the middle of a line and cannot reconnect for a moment.
    sim.faults.add(status=503, path="measurements/live$", count=2)
    it.drop_streams(org.id, mid_line=True)
    await wait_for(lambda: not stream.connected)
    it.emit_measurement(load.id, 20.0, timestamp=it.clock.now() + timedelta(seconds=1))
    await wait_for(lambda: stream.connected)
    # The first offset after the reconnect closes the gap: it is replayed.
    it.emit_measurement(power.id, 1500.0, timestamp=it.clock.now() + timedelta(seconds=2))
    await wait_for(lambda: state(hass, load_entity).state == "20.0")
    assert state(hass, power_entity).state == "1500.0"
    assert it.stats.replays_served == 1
    assert stream.counters["replays_completed"] == 1
    assert stream.counters["drops"] == 1


async def test_a_refused_replay_is_not_retried_and_values_go_on(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    it = sim.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    stream = coordinator_of(it_loaded).streams[org.id]
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: state(hass, entity).state == "10.0")
    sim.faults.add(status=429, path="measurements/replay$")
    it.rate_limit_streams(org.id)  # the live stream says "rate limit" and closes
    await wait_for(lambda: stream.counters["drops"] == 1 and stream.connected)
    it.emit_measurement(load.id, 30.0, timestamp=it.clock.now() + timedelta(seconds=1))
    await wait_for(lambda: state(hass, entity).state == "30.0")
    await wait_for(lambda: stream.counters["replays_refused"] == 1)
    # Still available: the drop was shorter than the grace period.
    assert state(hass, entity).state == "30.0"


async def test_values_become_unavailable_when_the_stream_stays_down(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(it_const, "STREAM_GRACE", timedelta(seconds=0.2))
    sim = simulator_server.simulator
    it = sim.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load = sensor_of(ups, "LOAD")
    entity = entity_id(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load.id}")
    stream_entity = entity_id(entity_registry, "binary_sensor", f"{org.id}-{org.id}-stream")
    it.emit_measurement(load.id, 10.0)
    await wait_for(lambda: state(hass, entity).state == "10.0")
    assert state(hass, stream_entity).state == STATE_ON
    fault = sim.faults.add(status=503, path="measurements/live$")
    it.drop_streams(org.id)
    await wait_for(lambda: state(hass, entity).state == STATE_UNAVAILABLE)
    assert state(hass, stream_entity).state == STATE_OFF
    sim.faults.clear()
    del fault
    await wait_for(lambda: state(hass, entity).state == "10.0")
    assert state(hass, stream_entity).state == STATE_ON


async def test_alarms_drive_problem_count_severity_and_events_once(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    it.repeat_changes = True  # the service may send a change twice: seen once
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    base = f"{org.id}-{ups.id}"
    problem = entity_id(entity_registry, "binary_sensor", f"{base}-problem")
    count = entity_id(entity_registry, "sensor", f"{base}-alarm_count")
    severity = entity_id(entity_registry, "sensor", f"{base}-alarm_severity")
    events_entity = entity_id(entity_registry, "event", f"{base}-alarms")
    # Count and severity are off by default: the user turns them on.
    for entity in (count, severity):
        entity_registry.async_update_entity(entity, disabled_by=None)
    assert await hass.config_entries.async_reload(it_loaded.entry_id)
    await hass.async_block_till_done()
    fired: list[tuple[str, str]] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == events_entity and new and "event_type" in new.attributes:
            fired.append((new.attributes["event_type"], new.attributes["label"]))

    hass.bus.async_listen("state_changed", record)
    coordinator = coordinator_of(it_loaded)
    assert state(hass, problem).state == STATE_OFF
    info = it.raise_alarm(org.id, ups.id, severity="INFO", label="Self test passed")
    await coordinator.async_refresh()
    assert state(hass, problem).state == STATE_OFF  # informational: not a problem
    assert state(hass, severity).state == "info"
    assert state(hass, count).state == "0"
    it.raise_alarm(org.id, ups.id, severity="CRITICAL", label="On battery")
    await coordinator.async_refresh()
    await coordinator.async_refresh()  # nothing new: no event again
    assert state(hass, problem).state == STATE_ON
    labels = {alarm["label"] for alarm in state(hass, problem).attributes["alarms"]}
    assert labels == {"On battery", "Self test passed"}
    assert state(hass, severity).state == "critical"
    assert state(hass, count).state == "1"
    it.clear_alarm(info)
    await coordinator.async_refresh()
    assert fired == [
        ("alarm_raised", "Self test passed"),
        ("alarm_raised", "On battery"),
        ("alarm_cleared", "Self test passed"),
    ]


async def test_an_alarm_of_a_device_listed_later_still_fires(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    coordinator = coordinator_of(it_loaded)
    (late,) = it.add_device(org.id, "UPS", label="Late UPS", listed_after=timedelta(minutes=5))
    it.raise_alarm(org.id, late.id, severity="ERROR", label="Overload")
    await coordinator.async_refresh()
    assert (
        entity_registry.async_get_entity_id("event", DOMAIN, f"{org.id}-{late.id}-alarms") is None
    )
    it.advance(timedelta(minutes=6))
    freezer.tick(timedelta(minutes=6))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    events = entity_id(entity_registry, "event", f"{org.id}-{late.id}-alarms")
    assert state(hass, events).attributes["event_type"] == "alarm_raised"
    assert state(hass, events).attributes["label"] == "Overload"
    problem = entity_id(entity_registry, "binary_sensor", f"{org.id}-{late.id}-problem")
    assert state(hass, problem).state == STATE_ON


async def test_inventory_changes_add_and_remove_devices_by_offset(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    coordinator = coordinator_of(it_loaded)
    listed = it.stats.by_operation.copy()
    pdu, *parts = it.add_device(org.id, "RPDU", label="New PDU")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    for part in (pdu, *parts):
        assert device_registry.async_get_device_by_identifier(
            it_device_id(org.id, part.id), it_loaded.entry_id
        ), part.label
    assert entity_id(entity_registry, "binary_sensor", f"{org.id}-{pdu.id}-problem")
    it.remove_device(pdu.id)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    for part in (pdu, *parts):
        assert not device_registry.async_get_device_by_identifier(
            it_device_id(org.id, part.id), it_loaded.entry_id
        )
    # Two cycles read changes only: no full list.
    delta = it.stats.by_operation - listed
    assert delta["listInventory"] == 0
    assert delta["getInventoryChangesAfterOffset"] >= 4
    # A day later the lists are read again in full, to repair any drift.
    freezer.tick(timedelta(days=1, minutes=1))
    it.advance(timedelta(days=1, minutes=1))
    await coordinator.async_refresh()
    assert (it.stats.by_operation - listed)["listInventory"] == 2


async def test_revoked_consent_makes_one_organization_unavailable(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    first, second = org_of(simulator_server, 0), org_of(simulator_server, 1)
    coordinator = coordinator_of(it_loaded)

    def problem(org: SimOrganization) -> str:
        return entity_id(
            entity_registry, "binary_sensor", f"{org.id}-{device_of(org, 'UPS').id}-problem"
        )

    it.revoke_consent(second.id)
    await coordinator.async_refresh()
    assert state(hass, problem(second)).state == STATE_UNAVAILABLE
    assert state(hass, problem(first)).state == STATE_OFF
    issue = issue_registry.async_get_issue(DOMAIN, f"consent_revoked_{second.id}")
    assert issue is not None
    assert issue.translation_placeholders == {"organization": second.label}
    await wait_for(lambda: not coordinator.streams[second.id].connected)
    assert coordinator.streams[first.id].connected
    it.restore_consent(second.id)
    await coordinator.async_refresh()
    assert state(hass, problem(second)).state == STATE_OFF
    assert issue_registry.async_get_issue(DOMAIN, f"consent_revoked_{second.id}") is None
    await wait_for(lambda: coordinator.streams[second.id].connected)


async def test_a_revoked_key_starts_reauthentication(
    hass: HomeAssistant, it_loaded: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    it = simulator_server.simulator.it_expert
    it.revoke_key(it.config.partner_all_key)
    await coordinator_of(it_loaded).async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_unload_closes_the_streams(
    hass: HomeAssistant, it_loaded: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    it = simulator_server.simulator.it_expert
    assert it.stats.open_streams == 2
    assert await hass.config_entries.async_unload(it_loaded.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: it.stats.open_streams == 0)


async def test_a_failing_service_makes_entities_unavailable_until_it_answers(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    problem = entity_id(entity_registry, "binary_sensor", f"{org.id}-{ups.id}-problem")
    coordinator = coordinator_of(it_loaded)
    # Every organization's changes fail: nothing is known, nothing is made up.
    sim.faults.add(status=503, path="-changes/")
    await coordinator.async_refresh()
    assert state(hass, problem).state == STATE_UNAVAILABLE
    sim.faults.clear()
    await coordinator.async_refresh()
    assert state(hass, problem).state == STATE_OFF
    # The organizations list itself fails.
    sim.faults.add(status=503, path="/organizations$")
    await coordinator.async_refresh()
    assert state(hass, problem).state == STATE_UNAVAILABLE
    sim.faults.clear()
    await coordinator.async_refresh()
    assert state(hass, problem).state == STATE_OFF


async def test_only_devices_no_longer_shared_can_be_deleted(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: Any,
) -> None:
    assert await async_setup_component(hass, "config", {})
    it = simulator_server.simulator.it_expert
    first, second = org_of(simulator_server, 0), org_of(simulator_server, 1)
    client = await hass_ws_client(hass)

    async def remove(org: SimOrganization) -> bool:
        device = device_registry.async_get_device_by_identifier(
            it_device_id(org.id, device_of(org, "UPS").id), it_loaded.entry_id
        )
        assert device is not None
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": it_loaded.entry_id,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        return bool(response["success"])

    assert not await remove(first)
    it.revoke_consent(second.id)
    await coordinator_of(it_loaded).async_refresh()
    assert await remove(second)


async def test_an_alarm_raised_while_the_entry_reloads_fires_once(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    events_entity = entity_id(entity_registry, "event", f"{org.id}-{ups.id}-alarms")
    fired: list[str] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == events_entity and new and "event_type" in new.attributes:
            fired.append(f"{new.attributes['event_type']} {new.attributes['label']}")

    hass.bus.async_listen("state_changed", record)
    it.raise_alarm(org.id, ups.id, severity="CRITICAL", label="Fan failure")
    assert await hass.config_entries.async_reload(it_loaded.entry_id)
    await hass.async_block_till_done()
    await coordinator_of(it_loaded).async_refresh()
    await hass.async_block_till_done()
    assert fired == ["alarm_raised Fan failure"]
