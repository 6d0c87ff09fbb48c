"""Fixtures that serve the simulator over real loopback HTTP."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

from homeassistant.util import dt as dt_util
import pytest

from simulator import (
    ITExpertConfig,
    SimulatedClock,
    Simulator,
    SimulatorConfig,
    SimulatorServer,
    Variations,
)

# Tests run at a fixed simulated instant so that every value and alarm is reproducible.
SIMULATED_NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def quiet(config: SimulatorConfig) -> SimulatorConfig:
    """`config` with nothing going wrong by chance: no random alarms, no gateway outages.

    Tests raise the alarms and outages they need. At a clock standing at the real now
    (`simulator_at_hass_now`) a random outage would fail a site at some hours of the day only.
    """
    return replace(config, alarms_per_site_per_hour=0, outage_probability=0)


def simulator_at_hass_now(config: SimulatorConfig) -> Simulator:
    """A simulator whose frozen clock stands at Home Assistant's (test) now.

    For tests whose timestamps must be near now, as the parsers' sanity window wants them.
    That instant is the day's real one: a config that must stay quiet is made `quiet`.
    """
    now = dt_util.utcnow().replace(microsecond=0)
    return Simulator(config, SimulatedClock(now, frozen=True))


def small_it_expert_config(
    organizations: int, assets_per_site: int = 8, variations: Variations | None = None
) -> SimulatorConfig:
    """One small Facility Expert site and small IT Expert customers (a rack each).

    Quiet (tests raise alarms and outages); heartbeats, polls and offsets fast enough for tests.
    """
    return quiet(
        SimulatorConfig(
            seed=7,
            sites=1,
            assets_per_site=assets_per_site,
            it_expert=ITExpertConfig(
                organizations=organizations,
                rooms_per_organization=1,
                racks_per_room=1,
                outlets_per_pdu=2,
                alarms_per_organization_per_hour=0,
                heartbeat_seconds=0.2,
                poll_seconds=0.02,
                offset_every=1,
            ),
            variations=variations or Variations(),
        )
    )


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three sites of 30 assets; override in a module for other sizes."""
    return SimulatorConfig(seed=7, sites=3, assets_per_site=30)


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Simulator:
    """A simulator whose clock stands still until a test advances it."""
    return Simulator(simulator_config, SimulatedClock(SIMULATED_NOW, frozen=True))


@pytest.fixture
async def simulator_server(
    simulator: Simulator, socket_enabled: None
) -> AsyncIterator[SimulatorServer]:
    """The simulator listening on a free loopback port (the only socket tests may open)."""
    async with SimulatorServer(simulator) as server:
        yield server
