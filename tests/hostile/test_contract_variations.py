"""Facility Expert through Home Assistant, against services that answer differently but validly.

Each test runs under several contract variations of the simulator (simulator/variations.py):
what a user sees must not depend on how a conforming service chose to answer.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from simulator import Simulator, SimulatorConfig, SimulatorServer, Variations
from simulator.variations import EXTRA_DRAWS, PRESETS, unknown_measurement_id
from tests.simulator_fixtures import quiet

# The variations every test here runs under: each preset alone, all at once, and two drawn at
# random (reproducibly) to catch what only a combination shows; SIMULATOR_VARIATIONS_SEEDS=5,17
# adds draws.
FE_VARIATIONS = [
    "default",
    "small-pages",
    "bare-lists",
    "nulls",
    "missing",
    "unknown-enums",
    "odd-ids",
    "mixed-offsets",
    "shuffled",
    "all",
    "random:1",
    "random:2",
    *EXTRA_DRAWS,
]

type Advance = Callable[[timedelta], Awaitable[None]]


@pytest.fixture(params=FE_VARIATIONS)
def variations(request: pytest.FixtureRequest) -> Variations:
    """The simulator's contract variation for this run."""
    return Variations.parse(request.param)


@pytest.fixture
def simulator_config(variations: Variations) -> SimulatorConfig:
    """Five small sites (three pages of two when pages are small), no alarms of their own."""
    return quiet(SimulatorConfig(seed=7, sites=5, assets_per_site=10, variations=variations))


@pytest.fixture
async def loaded(hass: HomeAssistant, simulator_server: SimulatorServer) -> MockConfigEntry:
    """An entry with every site, set up."""
    sim = simulator_server.simulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=sim.sites[0].id,
        data={
            CONF_SUBSCRIPTION_KEY: sim.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.technical_token,
            CONF_BASE_URL: simulator_server.base_url,
        },
        options={CONF_SITES: [site.id for site in sim.sites], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.fixture
def advance(
    hass: HomeAssistant, simulator_server: SimulatorServer, freezer: FrozenDateTimeFactory
) -> Advance:
    """Let time pass for the service and Home Assistant, and let the coordinator poll."""

    async def move(delta: timedelta) -> None:
        simulator_server.simulator.clock.advance(delta)
        freezer.tick(delta)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    return move


def entity(registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, unique_id)
    assert found, unique_id
    return found


def state_of(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


def first(sim: Simulator, kind: str) -> Any:
    return next(a for a in sim.sites[0].assets.values() if a.type == kind)


async def test_the_flow_offers_every_site_and_sets_them_up(
    hass: HomeAssistant, simulator_server: SimulatorServer, entity_registry: er.EntityRegistry
) -> None:
    sim = simulator_server.simulator
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: sim.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.technical_token,
            CONF_ADVANCED: {CONF_BASE_URL: simulator_server.base_url},
        },
    )
    assert result["step_id"] == "sites", result
    options = result["data_schema"].schema[CONF_SITES].config["options"]
    assert [o["value"] for o in options] == [site.id for site in sim.sites]
    assert all(o["label"].startswith(site.name) for o, site in zip(options, sim.sites, strict=True))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: [site.id for site in sim.sites]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    for site in sim.sites:
        problem = entity(entity_registry, "binary_sensor", f"{site.id}-problem")
        assert state_of(hass, problem).state == "off", site.id


async def test_values_reach_the_entities(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    meter = first(sim, "meter")
    energy = next(m for m in meter.measurements if m.quantity == "active_energy" and not m.phase)
    sensor = entity(entity_registry, "sensor", f"{site.id}-{energy.id}")
    expected = energy.reading(sim.last_sample(meter.gateway_id, sim.now()))
    assert float(state_of(hass, sensor).state) == expected
    assert state_of(hass, sensor).attributes["unit_of_measurement"] == "kWh"
    await advance(timedelta(hours=1))
    assert float(state_of(hass, sensor).state) > expected
    if sim.variations.unknown_enums:
        unknown = entity(
            entity_registry,
            "sensor",
            f"{site.id}-{unknown_measurement_id(site.id, sim.variations)}",
        )
        assert float(state_of(hass, unknown).state) == 612.5


async def test_alarms_fire_once(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
    advance: Advance,
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    feeder = first(sim, "feeder")
    events = entity(entity_registry, "event", f"{site.id}-alarms")
    overload = entity(entity_registry, "binary_sensor", f"{site.id}-{feeder.id}-alarm-overload")
    fired: list[tuple[str, str]] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == events and new and "alarm_id" in new.attributes:
            fired.append((new.attributes["event_type"], new.attributes["alarm_id"]))

    hass.bus.async_listen("state_changed", record)
    # Older alarms first, so that the newest ones fill the first pages.
    others = [
        sim.raise_alarm(site.id, asset.id, kind)
        for asset in list(site.assets.values())[:4]
        for kind in asset.alarm_types[:1]
        if kind != "communication_loss"
    ]
    sim.clock.advance(timedelta(seconds=5))
    alarm = sim.raise_alarm(site.id, feeder.id, "overload")
    await advance(timedelta(seconds=60))
    assert state_of(hass, overload).state == "on"
    assert ("alarm_raised", alarm) in fired
    assert sorted(fired) == sorted(("alarm_raised", a) for a in [*others, alarm])
    sim.clear_alarm(alarm)
    await advance(timedelta(seconds=60))
    await advance(timedelta(seconds=60))
    assert state_of(hass, overload).state == "off"
    assert fired.count(("alarm_raised", alarm)) == 1
    assert fired.count(("alarm_cleared", alarm)) == 1
    assert len(fired) == len(others) + 2


def test_the_presets_run_here_exist() -> None:
    for name in FE_VARIATIONS:
        assert name.startswith("random:") or name in PRESETS
