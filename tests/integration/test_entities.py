"""What a user sees: devices, sensors, alarms and events, over simulated time."""

from datetime import timedelta
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.facility_expert.paths import ALARMS
from custom_components.ecostruxure.const import operation_disabled_issue_id
from custom_components.ecostruxure.facility_expert.data import asset_device_id, site_device_id
from simulator import SimMeasurement, Simulator, SimulatorServer
from simulator.facility_expert import API_PREFIX
from simulator.signals import Signal

from .conftest import Advance


def entity_id(entity_registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = entity_registry.async_get_entity_id(platform, "ecostruxure", unique_id)
    assert found, unique_id
    return found


def device(
    registry: dr.DeviceRegistry, entry: MockConfigEntry, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    return registry.async_get_device_by_identifier(identifier, entry.entry_id)


def first(sim: Simulator, kind: str, site: int = 0) -> Any:
    return next(a for a in sim.sites[site].assets.values() if a.type == kind)


def measurement(asset: Any, quantity: str) -> SimMeasurement:
    return next(m for m in asset.measurements if m.quantity == quantity and not m.phase)


async def test_devices_form_the_site_tree(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    site_device = device(device_registry, loaded_entry, site_device_id(site.id))
    assert site_device is not None
    assert (site_device.name, site_device.model) == (site.name, "Site")
    feeder = first(sim, "feeder")
    feeder_device = device(device_registry, loaded_entry, asset_device_id(site.id, feeder.id))
    assert feeder_device is not None
    assert feeder_device.manufacturer == "Schneider Electric"
    assert feeder_device.model == feeder.model
    assert feeder_device.model_id == feeder.commercial_reference
    assert feeder_device.serial_number == feeder.serial_number
    board = device_registry.async_get(feeder_device.via_device_id or "")
    assert board is not None
    assert board.name == "TGBT"  # feeder > switchboard > transformer > switchgear > site
    room = first(sim, "room")
    room_device = device(device_registry, loaded_entry, asset_device_id(site.id, room.id))
    assert room_device is not None
    area = ar.async_get(hass).async_get_area(room_device.area_id or "")
    assert area is not None
    assert area.name == room.name
    root = device(
        device_registry, loaded_entry, asset_device_id(site.id, first(sim, "building").id)
    )
    assert root is not None
    assert root.via_device_id == site_device.id


async def test_sensors_show_values_with_units_and_classes(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    meter = first(sim, "meter")
    energy = measurement(meter, "active_energy")
    state = hass.states.get(entity_id(entity_registry, "sensor", f"{site.id}-{energy.id}"))
    assert state is not None
    assert float(state.state) == energy.reading(sim.last_sample(meter.gateway_id, sim.now()))
    assert state.attributes["unit_of_measurement"] == "kWh"
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["state_class"] == "total_increasing"
    room = first(sim, "room")
    temperature = measurement(room, "temperature")
    state = hass.states.get(entity_id(entity_registry, "sensor", f"{site.id}-{temperature.id}"))
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "°C"
    assert state.name.endswith("Temperature")
    # Per-phase values exist but are disabled until a user wants them.
    phase = next(m for m in meter.measurements if m.phase == "L1")
    entry = entity_registry.async_get(entity_id(entity_registry, "sensor", f"{site.id}-{phase.id}"))
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_values_follow_simulated_time(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    energy = measurement(first(sim, "meter"), "active_energy")
    sensor = entity_id(entity_registry, "sensor", f"{site.id}-{energy.id}")
    before = float(hass.states.get(sensor).state)  # type: ignore[union-attr]
    await advance(timedelta(hours=1))
    after = float(hass.states.get(sensor).state)  # type: ignore[union-attr]
    assert after > before


async def test_unchanged_values_write_no_state(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
) -> None:
    writes: list[Event] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"].startswith(("sensor.", "binary_sensor.", "event.")):
            writes.append(event)

    hass.bus.async_listen("state_changed", record)
    hass.bus.async_listen("state_reported", record, event_filter=callback(lambda _: True))
    requests = simulator_server.simulator.stats.requests
    # Home Assistant polls; the devices have not reported since.
    await advance(timedelta(seconds=60), service=False)
    assert simulator_server.simulator.stats.requests == requests + 2 * 2  # 2 per site
    assert writes == []


async def test_alarms_turn_on_count_and_fire_events(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = first(sim, "feeder")
    overload = entity_id(entity_registry, "binary_sensor", f"{site.id}-{feeder.id}-alarm-overload")
    problem = entity_id(entity_registry, "binary_sensor", f"{site.id}-problem")
    count = entity_id(entity_registry, "sensor", f"{site.id}-active_alarms")
    events = entity_id(entity_registry, "event", f"{site.id}-alarms")
    assert hass.states.get(overload).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(count).state == "0"  # type: ignore[union-attr]

    fired: list[dict[str, Any]] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == events and event.data["new_state"]:
            fired.append(dict(event.data["new_state"].attributes))

    hass.bus.async_listen("state_changed", record)
    alarm_id = sim.raise_alarm(site.id, feeder.id, "overload", message="Feeder at 118 %")
    await advance(timedelta(seconds=60))
    state = hass.states.get(overload)
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["severity"] == "high"
    assert state.attributes["message"] == "Feeder at 118 %"
    assert state.attributes["device_class"] == "problem"
    assert hass.states.get(problem).state == STATE_ON  # type: ignore[union-attr]
    assert hass.states.get(count).state == "1"  # type: ignore[union-attr]
    assert [e["event_type"] for e in fired] == ["alarm_raised"]
    assert fired[0]["alarm_id"] == alarm_id
    assert fired[0]["asset_name"] == feeder.name

    sim.clear_alarm(alarm_id)
    await advance(timedelta(seconds=60))
    assert hass.states.get(overload).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(problem).state == STATE_OFF  # type: ignore[union-attr]
    assert [e["event_type"] for e in fired] == ["alarm_raised", "alarm_cleared"]


async def test_overheating_is_heat_and_condensation_is_moisture(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    board = first(sim, "lv_switchboard")
    for alarm_type, device_class in (
        ("switchboard_overheating", "heat"),
        ("condensation_risk", "moisture"),
    ):
        state = hass.states.get(
            entity_id(entity_registry, "binary_sensor", f"{site.id}-{board.id}-alarm-{alarm_type}")
        )
        assert state is not None
        assert state.attributes["device_class"] == device_class


async def test_a_new_asset_becomes_a_device_without_reload(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    added = sim.add_asset(site.id, "feeder")
    await advance(timedelta(seconds=60))  # values name an unknown asset
    await advance(timedelta(seconds=60))  # the topology is fetched again
    assert device(device_registry, loaded_entry, asset_device_id(site.id, added.id))
    energy = measurement(added, "active_energy")
    state = hass.states.get(entity_id(entity_registry, "sensor", f"{site.id}-{energy.id}"))
    assert state is not None
    assert float(state.state) > 0

    sim.remove_asset(site.id, added.id)
    await advance(timedelta(hours=7))  # the next scheduled topology refresh
    assert device(device_registry, loaded_entry, asset_device_id(site.id, added.id)) is None
    assert (
        entity_registry.async_get_entity_id("sensor", "ecostruxure", f"{site.id}-{energy.id}")
        is None
    )


async def test_one_failing_site_leaves_the_others_working(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    broken, working = sim.sites[0], sim.sites[1]
    sim.faults.add(status=503, title="ServiceUnavailable", path=broken.id)
    await advance(timedelta(seconds=60))
    broken_count = entity_id(entity_registry, "sensor", f"{broken.id}-active_alarms")
    working_count = entity_id(entity_registry, "sensor", f"{working.id}-active_alarms")
    assert hass.states.get(broken_count).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get(working_count).state == "0"  # type: ignore[union-attr]
    energy = measurement(first(sim, "meter"), "active_energy")
    energy_sensor = entity_id(entity_registry, "sensor", f"{broken.id}-{energy.id}")
    assert hass.states.get(energy_sensor).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    sim.faults.clear()
    await advance(timedelta(seconds=60))
    assert hass.states.get(broken_count).state == "0"  # type: ignore[union-attr]


async def test_a_full_outage_makes_everything_unavailable_then_recovers(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = simulator_server.simulator
    ours = [s.entity_id for s in hass.states.async_all() if s.entity_id.startswith("sensor.")]
    assert ours
    sim.faults.add(status=503, title="ServiceUnavailable")
    for _ in range(3):
        await advance(timedelta(seconds=60))
    assert all(hass.states.get(e).state == STATE_UNAVAILABLE for e in ours)  # type: ignore[union-attr]
    assert caplog.text.count("Error fetching ecostruxure data") == 1  # logged once, not per cycle
    sim.faults.clear()
    await advance(timedelta(seconds=60))
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in ours)  # type: ignore[union-attr]
    assert "Fetching ecostruxure data recovered" in caplog.text


async def test_rate_limit_waits_for_retry_after(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    sim.faults.add(status=429, retry_after="300")
    await advance(timedelta(seconds=60))
    assert not loaded_entry.runtime_data.last_update_success
    sim.faults.clear()
    requests = sim.stats.requests
    await advance(timedelta(seconds=120))  # the normal interval has passed: still waiting
    assert sim.stats.requests == requests
    await advance(timedelta(seconds=200))
    assert sim.stats.requests > requests
    assert loaded_entry.runtime_data.last_update_success


async def test_rejected_secrets_mid_run_start_reauthentication(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
) -> None:
    simulator_server.simulator.revoke_credentials(new_subscription_key="rotated")
    await advance(timedelta(seconds=60))
    flows = hass.config_entries.flow.async_progress_by_handler("ecostruxure")
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_a_disabled_operation_raises_a_repair_and_the_rest_keeps_working(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    from homeassistant.helpers import issue_registry as ir

    sim = simulator_server.simulator
    site = sim.sites[0]
    sim.faults.add(status=503, path="/alarms$")
    await advance(timedelta(seconds=60))
    issues = ir.async_get(hass)
    issue_id = operation_disabled_issue_id(loaded_entry.entry_id, "alarms")
    assert issues.async_get_issue("ecostruxure", issue_id)
    feeder = first(sim, "feeder")
    overload = entity_id(entity_registry, "binary_sensor", f"{site.id}-{feeder.id}-alarm-overload")
    assert hass.states.get(overload).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    energy = measurement(first(sim, "meter"), "active_energy")
    sensor = entity_id(entity_registry, "sensor", f"{site.id}-{energy.id}")
    assert hass.states.get(sensor).state not in {STATE_UNAVAILABLE, STATE_UNKNOWN}  # type: ignore[union-attr]
    sim.faults.clear()
    await advance(timedelta(hours=1))  # a disabled operation is asked again hourly
    assert issues.async_get_issue("ecostruxure", issue_id) is None
    assert hass.states.get(overload).state == STATE_OFF  # type: ignore[union-attr]


async def test_a_vanished_site_goes_with_a_repair_and_comes_back(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    from homeassistant.helpers import issue_registry as ir

    sim = simulator_server.simulator
    gone, kept = sim.sites[0], sim.sites[1]
    sim.remove_site(gone.id)
    await advance(timedelta(seconds=60))
    issue = ir.async_get(hass).async_get_issue("ecostruxure", f"site_not_found_{gone.id}")
    assert issue is not None
    assert issue.translation_placeholders == {"site": gone.name}
    assert device(device_registry, loaded_entry, site_device_id(gone.id)) is None
    assert device(device_registry, loaded_entry, site_device_id(kept.id)) is not None
    count = entity_registry.async_get_entity_id("sensor", "ecostruxure", f"{kept.id}-active_alarms")
    assert hass.states.get(count or "").state == "0"  # type: ignore[union-attr]

    sim.restore_site(gone.id)
    await advance(timedelta(hours=7))
    assert device(device_registry, loaded_entry, site_device_id(gone.id)) is not None
    assert ir.async_get(hass).async_get_issue("ecostruxure", f"site_not_found_{gone.id}") is None


async def test_unknown_quantities_types_and_null_values_still_show(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = first(sim, "feeder")
    feeder.measurements.append(
        SimMeasurement("ms-thd", "Total harmonic distortion", "thd", "%", Signal(3.25))
    )
    feeder.alarm_types.append("harmonic_distortion")
    measurement(feeder, "active_power").silent = True
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    thd = hass.states.get(entity_id(entity_registry, "sensor", f"{site.id}-ms-thd"))
    assert thd is not None
    assert thd.state == "3.2" or float(thd.state) == pytest.approx(3.2, abs=0.1)
    assert thd.attributes["unit_of_measurement"] == "%"
    assert "device_class" not in thd.attributes
    assert thd.name.endswith("Total harmonic distortion")
    alarm = hass.states.get(
        entity_id(
            entity_registry, "binary_sensor", f"{site.id}-{feeder.id}-alarm-harmonic_distortion"
        )
    )
    assert alarm is not None
    assert alarm.state == STATE_OFF
    assert alarm.name.endswith("Alarm harmonic distortion")
    power = measurement(feeder, "active_power")
    state = hass.states.get(entity_id(entity_registry, "sensor", f"{site.id}-{power.id}"))
    assert state is not None
    assert state.state == STATE_UNKNOWN  # null from the service: unknown, never 0


async def test_connectivity_follows_communication_loss(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    connectivity = entity_id(entity_registry, "binary_sensor", f"{site.id}-connectivity")
    assert hass.states.get(connectivity).state == STATE_ON  # type: ignore[union-attr]
    gateway = first(sim, "gateway")
    alarm_id = sim.raise_alarm(site.id, gateway.id, "communication_loss")
    await advance(timedelta(seconds=60))
    assert hass.states.get(connectivity).state == STATE_OFF  # type: ignore[union-attr]
    sim.clear_alarm(alarm_id)
    await advance(timedelta(seconds=60))
    assert hass.states.get(connectivity).state == STATE_ON  # type: ignore[union-attr]


async def test_units_of_the_same_kind_are_kept_others_drop_the_device_class(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = first(sim, "feeder")
    measurement(feeder, "reactive_power").unit = "var"  # Home Assistant converts var
    measurement(feeder, "apparent_power").unit = "bananas"  # does not fit apparent power
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    reactive = hass.states.get(
        entity_id(
            entity_registry, "sensor", f"{site.id}-{measurement(feeder, 'reactive_power').id}"
        )
    )
    assert reactive is not None
    assert reactive.attributes["device_class"] == "reactive_power"
    odd = hass.states.get(
        entity_id(
            entity_registry, "sensor", f"{site.id}-{measurement(feeder, 'apparent_power').id}"
        )
    )
    assert odd is not None
    assert "device_class" not in odd.attributes
    assert odd.attributes["unit_of_measurement"] == "bananas"
    assert odd.name.endswith("Apparent power")


async def test_a_site_missing_at_setup_gets_a_repair_the_rest_loads(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    from homeassistant.helpers import issue_registry as ir

    sim = simulator_server.simulator
    gone = sim.sites[1]
    sim.remove_site(gone.id)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue("ecostruxure", f"site_not_found_{gone.id}")
    assert issue is not None
    assert issue.translation_placeholders == {"site": gone.id}  # never seen: its id
    assert set(config_entry.runtime_data.topology) == {sim.sites[0].id}


@pytest.mark.parametrize(
    ("fault", "issue"),
    [
        ({"status": 503, "path": "/measurements/latest$"}, "latest_values"),
        ({"status": 503, "title": "ServiceUnavailable", "path": "/alarms$"}, None),
    ],
)
async def test_a_failing_operation_makes_the_sites_unavailable(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
    fault: dict[str, Any],
    issue: str | None,
) -> None:
    from homeassistant.helpers import issue_registry as ir

    sim = simulator_server.simulator
    sim.faults.add(**fault)
    await advance(timedelta(seconds=60))
    count = entity_id(entity_registry, "sensor", f"{sim.sites[0].id}-active_alarms")
    assert hass.states.get(count).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    issue_id = operation_disabled_issue_id(loaded_entry.entry_id, issue or "")
    if issue:
        assert ir.async_get(hass).async_get_issue("ecostruxure", issue_id)
    sim.faults.clear()
    # A disabled operation is asked again hourly; another failure, the next cycle.
    await advance(timedelta(hours=1) if issue else timedelta(seconds=60))
    assert hass.states.get(count).state == "0"  # type: ignore[union-attr]
    if issue:
        assert ir.async_get(hass).async_get_issue("ecostruxure", issue_id) is None


async def test_only_devices_the_service_forgot_can_be_deleted(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    device_registry: dr.DeviceRegistry,
) -> None:
    from custom_components.ecostruxure import async_remove_config_entry_device

    site = simulator_server.simulator.sites[0]
    current = device(device_registry, loaded_entry, site_device_id(site.id))
    assert current is not None
    assert not await async_remove_config_entry_device(hass, loaded_entry, current)
    orphan = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={("ecostruxure", "asset:old:gone")}
    )
    assert await async_remove_config_entry_device(hass, loaded_entry, orphan)


async def test_an_alarm_raised_and_cleared_between_two_polls_still_fires_both_events(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    events = entity_id(entity_registry, "event", f"{site.id}-alarms")
    count = entity_id(entity_registry, "sensor", f"{site.id}-active_alarms")
    fired: list[tuple[str | None, str | None]] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == events and event.data["new_state"]:
            attributes = event.data["new_state"].attributes
            fired.append((attributes.get("event_type"), attributes.get("alarm_type")))

    hass.bus.async_listen("state_changed", record)
    await advance(timedelta(seconds=60))  # a first cycle that knows when it polled
    feeder = first(sim, "feeder")
    sim.clock.advance(timedelta(seconds=20))
    blip = sim.raise_alarm(site.id, feeder.id, "trip")
    sim.clock.advance(timedelta(seconds=10))
    sim.clear_alarm(blip)
    await advance(timedelta(seconds=60))  # the next poll: the alarm is already cleared
    assert fired == [("alarm_raised", "trip"), ("alarm_cleared", "trip")]
    assert "status=all" in sim.stats.last_query[API_PREFIX + ALARMS.format(site_id=site.id)]
    assert hass.states.get(count).state == "0"  # type: ignore[union-attr]
    await advance(timedelta(seconds=60))
    assert len(fired) == 2  # told once


async def test_a_long_standing_alarm_does_not_drag_its_history_along(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    board = first(sim, "lv_switchboard")
    sim.raise_alarm(site.id, board.id, "condensation_risk")
    await advance(timedelta(seconds=60))
    await advance(timedelta(days=1, hours=1))
    sim.stats.reset()
    await advance(timedelta(seconds=60))
    assert sim.stats.by_operation["list_alarms"] == 2  # still one request a site
    query = sim.stats.last_query[API_PREFIX + ALARMS.format(site_id=site.id)]
    assert "status=active" in query  # not a day and more of history
    sensor = entity_id(
        entity_registry, "binary_sensor", f"{site.id}-{board.id}-alarm-condensation_risk"
    )
    assert hass.states.get(sensor).state == STATE_ON  # type: ignore[union-attr]


def record_alarm_events(hass: HomeAssistant, events: str) -> list[tuple[str, str]]:
    """(event type, alarm id) of each event the entity fires, once each.

    An event entity's state is the time of its last event; when the entity comes back (its
    site vanished and returned) it shows that last event again, which is not a new one.
    """
    fired: list[tuple[str, str]] = []
    last = ""

    @callback
    def record(event: Event) -> None:
        nonlocal last
        new = event.data["new_state"]
        if event.data["entity_id"] != events or new is None or "alarm_id" not in new.attributes:
            return
        if new.state > last:
            last = new.state
            fired.append((new.attributes["event_type"], new.attributes["alarm_id"]))

    hass.bus.async_listen("state_changed", record)
    return fired


async def test_an_alarm_raised_and_cleared_while_its_site_failed_still_fires_both_events(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    fired = record_alarm_events(hass, entity_id(entity_registry, "event", f"{site.id}-alarms"))
    await advance(timedelta(seconds=60))
    # The site fails (the other one answers) while an alarm comes and goes.
    sim.faults.add(status=503, title="ServiceUnavailable", path=site.id)
    await advance(timedelta(seconds=60))
    blip = sim.raise_alarm(site.id, first(sim, "feeder").id, "trip")
    await advance(timedelta(seconds=60))
    sim.clear_alarm(blip)
    sim.faults.clear()
    await advance(timedelta(seconds=60))
    # The request after the failure reaches back to the last poll that read the alarms.
    assert fired == [("alarm_raised", blip), ("alarm_cleared", blip)]


async def test_an_alarm_over_before_the_first_poll_fires_nothing(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    before = sim.raise_alarm(site.id, first(sim, "feeder").id, "trip")
    await advance(timedelta(minutes=2))
    sim.clear_alarm(before)
    await advance(timedelta(minutes=1))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    fired = record_alarm_events(hass, entity_id(entity_registry, "event", f"{site.id}-alarms"))
    # The next requests reach back a few minutes before the first poll, and see the alarm:
    # it was over before the integration looked, like one active then was raised before.
    await advance(timedelta(seconds=60))
    await advance(timedelta(seconds=60))
    assert fired == []


async def test_a_vanished_site_comes_back_with_its_entities_and_what_happened_meanwhile(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = first(sim, "feeder")
    count = entity_id(entity_registry, "sensor", f"{site.id}-active_alarms")
    fired = record_alarm_events(hass, entity_id(entity_registry, "event", f"{site.id}-alarms"))
    told = sim.raise_alarm(site.id, feeder.id, "overload")
    await advance(timedelta(seconds=60))
    sim.remove_site(site.id)
    await advance(timedelta(seconds=60))  # 404 on the values: its devices go
    assert hass.states.get(count) is None
    sim.clear_alarm(told)
    sim.restore_site(site.id)
    blip = sim.raise_alarm(site.id, feeder.id, "trip")
    sim.clock.advance(timedelta(minutes=1))
    sim.clear_alarm(blip)
    lasting = sim.raise_alarm(site.id, feeder.id, "phase_loss")
    await advance(timedelta(hours=7))  # the topology is read again: the site is back
    assert hass.states.get(count).state == "1"  # type: ignore[union-attr]
    # Its alarm events go on from where they were: nothing told twice, nothing missed.
    assert fired == [
        ("alarm_raised", told),
        ("alarm_cleared", told),
        ("alarm_raised", blip),
        ("alarm_cleared", blip),
        ("alarm_raised", lasting),
    ]


async def test_alarms_raised_and_cleared_while_the_entry_reloads_fire_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    fired = record_alarm_events(hass, entity_id(entity_registry, "event", f"{site.id}-alarms"))
    await advance(timedelta(seconds=60))
    # Between the last poll before a reload (reauthentication, new options) and the first
    # one after it, an alarm comes and goes.
    blip = sim.raise_alarm(site.id, first(sim, "feeder").id, "trip")
    await advance(timedelta(seconds=30), service=True)
    sim.clear_alarm(blip)
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await advance(timedelta(seconds=60))
    await advance(timedelta(seconds=60))
    assert fired == [("alarm_raised", blip), ("alarm_cleared", blip)]
