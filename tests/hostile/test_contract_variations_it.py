"""IT Expert through Home Assistant, against services that answer differently but validly.

The IT side of test_contract_variations.py: the flow, pushed readings, alarms and inventory
changes under each contract variation the IT Expert contract leaves room for.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    DOMAIN,
    SERVICE_IT_EXPERT,
)
from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator
from custom_components.ecostruxure.it_expert.data import it_device_id
from simulator import SimulatorConfig, SimulatorServer, Variations
from simulator.it_inventory import SimDevice, SimOrganization, SimSensor
from simulator.variations import EXTRA_DRAWS
from tests.simulator_fixtures import small_it_expert_config

IT_VARIATIONS = [
    "default",
    "small-pages",
    "bare-lists",
    "nulls",
    "missing",
    "unknown-enums",
    "odd-ids",
    "mixed-offsets",
    "shuffled",
    "untyped-sensors",
    "all",
    "random:3",
    *EXTRA_DRAWS,
]


@pytest.fixture(params=IT_VARIATIONS)
def variations(request: pytest.FixtureRequest) -> Variations:
    """The simulator's contract variation for this run."""
    return Variations.parse(request.param)


@pytest.fixture
def simulator_config(variations: Variations) -> SimulatorConfig:
    """Three small IT Expert customers (a rack each), fast heartbeats."""
    return small_it_expert_config(3, variations=variations)


@pytest.fixture(autouse=True)
def fast_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream timings in real seconds, shrunk so that reconnects happen within a test."""
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.01)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_INITIAL", 0.05)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_MAX", 0.2)


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the event loop run (streams are real loopback connections) until `condition`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def loaded(hass: HomeAssistant, simulator_server: SimulatorServer) -> MockConfigEntry:
    """An IT Expert entry with every customer, set up, its streams connected."""
    it = simulator_server.simulator.it_expert
    organizations = [org.id for org in it.organizations]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="IT Expert",
        unique_id=f"it_expert:{organizations[0]}",
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: it.config.partner_all_key,
            CONF_BASE_URL: simulator_server.it_base_url,
        },
        options={CONF_ORGANIZATIONS: organizations, CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator: ITExpertCoordinator = entry.runtime_data
    await wait_for(lambda: all(s.connected for s in coordinator.streams.values()))
    return entry


def org_of(server: SimulatorServer) -> SimOrganization:
    return server.simulator.it_expert.organizations[0]


def device_of(org: SimOrganization, device_type: str) -> SimDevice:
    return next(d for d in org.devices.values() if d.type == device_type)


def sensor_of(device: SimDevice, sensor_type: str) -> SimSensor:
    return next(s for s in device.sensors if s.type == sensor_type)


def entity(registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, unique_id)
    assert found, unique_id
    return found


def state_of(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def test_the_flow_offers_every_organization_and_sets_them_up(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    it = simulator_server.simulator.it_expert
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "it_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_API_KEY: it.config.partner_all_key,
            CONF_ADVANCED: {CONF_BASE_URL: simulator_server.it_base_url},
        },
    )
    assert result["step_id"] == "organizations", result
    options = result["data_schema"].schema[CONF_ORGANIZATIONS].config["options"]
    assert {o["value"]: o["label"] for o in options} == {
        org.id: org.label for org in it.organizations
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [org.id for org in it.organizations]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert set(result["result"].runtime_data.organizations) == {o.id for o in it.organizations}


async def test_readings_reach_the_entities(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    load_sensor = sensor_of(ups, "LOAD")
    status_sensor = sensor_of(ups, "STATUS")
    load = entity(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{load_sensor.id}")
    status = entity(entity_registry, "sensor", f"{org.id}-{ups.id}-sensor-{status_sensor.id}")
    it.emit_measurement(load_sensor.id, 41.5)
    it.emit_measurement(status_sensor.id, "on battery")
    await wait_for(lambda: state_of(hass, status).state == "on battery")
    assert state_of(hass, load).state == "41.5"
    assert state_of(hass, load).attributes["unit_of_measurement"] == "%"


async def test_alarms_and_inventory_changes_arrive_once(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    org = org_of(simulator_server)
    ups = device_of(org, "UPS")
    problem = entity(entity_registry, "binary_sensor", f"{org.id}-{ups.id}-problem")
    events = entity(entity_registry, "event", f"{org.id}-{ups.id}-alarms")
    fired: list[tuple[str, str]] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == events and new and "event_type" in new.attributes:
            fired.append((new.attributes["event_type"], new.attributes["label"]))

    hass.bus.async_listen("state_changed", record)
    coordinator: ITExpertCoordinator = loaded.runtime_data
    labels = [f"Alarm {n}" for n in range(5)]  # more than a small page of changes
    ids = [it.raise_alarm(org.id, ups.id, severity="CRITICAL", label=label) for label in labels]
    pdu, *parts = it.add_device(org.id, "RPDU", label="New PDU")
    await coordinator.async_refresh()
    await coordinator.async_refresh()  # nothing new: no event again
    await hass.async_block_till_done()
    assert state_of(hass, problem).state == "on"
    assert sorted(fired) == sorted(("alarm_raised", label) for label in labels)
    for part in (pdu, *parts):
        assert device_registry.async_get_device_by_identifier(
            it_device_id(org.id, part.id), loaded.entry_id
        ), part.label
    for alarm_id in ids:
        it.clear_alarm(alarm_id)
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert state_of(hass, problem).state == "off"
    assert sorted(e for e in fired if e[0] == "alarm_cleared") == sorted(
        ("alarm_cleared", label) for label in labels
    )
    assert len(fired) == 2 * len(labels)
