"""Fixtures that serve the simulator over real loopback HTTP."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from homeassistant.util import dt as dt_util
import pytest

from simulator import SimulatedClock, Simulator, SimulatorConfig, SimulatorServer

# Tests run at a fixed simulated instant so that every value and alarm is reproducible.
SIMULATED_NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def simulator_at_hass_now(config: SimulatorConfig) -> Simulator:
    """A simulator whose frozen clock stands at Home Assistant's (test) now.

    For tests whose timestamps must be near now, as the parsers' sanity window wants them.
    """
    now = dt_util.utcnow().replace(microsecond=0)
    return Simulator(config, SimulatedClock(now, frozen=True))


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
