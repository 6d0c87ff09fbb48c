"""Fixtures of the Home Assistant tests: a config entry for the simulator, time aligned."""

from collections import Counter
from datetime import timedelta
from typing import Any, Protocol

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ecostruxure.const import (
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_FACILITY_EXPERT,
)
from custom_components.ecostruxure.entity import ChangeOnlyEntity
from simulator import Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet, simulator_at_hass_now


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Two small sites: enough to show one failing while the other works."""
    return quiet(SimulatorConfig(seed=7, sites=2, assets_per_site=12))


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Simulator:
    """The simulator's clock stands at Home Assistant's now, until a test advances it."""
    return simulator_at_hass_now(simulator_config)


@pytest.fixture
def config_entry(simulator_server: SimulatorServer) -> MockConfigEntry:
    """An entry for the simulator's account with all its sites (not yet added)."""
    config = simulator_server.simulator.config
    return MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=simulator_server.simulator.sites[0].id,
        minor_version=2,
        data={
            CONF_SERVICE: SERVICE_FACILITY_EXPERT,
            CONF_SUBSCRIPTION_KEY: config.subscription_key,
            CONF_TECHNICAL_TOKEN: config.technical_token,
            CONF_BASE_URL: simulator_server.base_url,
        },
        options={
            CONF_SITES: [site.id for site in simulator_server.simulator.sites],
            CONF_SCAN_INTERVAL: 60,
        },
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry set up, every entity enabled by default in place."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


class Advance(Protocol):
    """Let time pass (see the fixture)."""

    async def __call__(self, delta: timedelta, *, service: bool = True) -> None: ...


@pytest.fixture
def advance(
    hass: HomeAssistant, simulator_server: SimulatorServer, freezer: FrozenDateTimeFactory
) -> Advance:
    """Let time pass for the service and for Home Assistant, and let the coordinator poll.

    `service=False` moves Home Assistant only: a poll with nothing new to tell.
    """

    async def move(delta: timedelta, *, service: bool = True) -> None:
        if service:
            simulator_server.simulator.clock.advance(delta)
        freezer.tick(delta)
        async_fire_time_changed(hass)
        # Scheduled refreshes run as background tasks: wait for them too.
        await hass.async_block_till_done(wait_background_tasks=True)

    return move


@pytest.fixture
def called(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each entity was called back by its coordinator (patched before setup)."""
    calls: Counter[str] = Counter()
    original = ChangeOnlyEntity._handle_coordinator_update

    def counting(self: ChangeOnlyEntity[Any]) -> None:
        calls[self.entity_id] += 1
        original(self)

    monkeypatch.setattr(ChangeOnlyEntity, "_handle_coordinator_update", counting)
    return calls
