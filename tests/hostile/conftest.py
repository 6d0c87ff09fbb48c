"""Fixtures of the hostile-service tests: servers that answer what the test tells them."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from simulator import Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import simulator_at_hass_now

from .server import HostileServer

type MakeServer = Callable[..., Awaitable[HostileServer]]


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Simulator:
    """Behind a hostile server, the simulator's clock stands at Home Assistant's now."""
    return simulator_at_hass_now(simulator_config)


@pytest.fixture
async def make_hostile(socket_enabled: None) -> AsyncIterator[MakeServer]:
    """Start hostile servers (`upstream=`, `prefix=` as HostileServer takes them)."""
    async with AsyncExitStack() as stack:

        async def make(upstream: str | None = None, prefix: str = "") -> HostileServer:
            return await stack.enter_async_context(HostileServer(upstream, prefix))

        yield make


@pytest.fixture
async def hostile(make_hostile: MakeServer) -> HostileServer:
    """A server with no upstream: every path answers 404 until a rule says otherwise."""
    return await make_hostile()


@pytest.fixture
async def hostile_proxy(
    make_hostile: MakeServer, simulator_server: SimulatorServer
) -> HostileServer:
    """A server in front of the simulator: the simulator answers unless a rule takes over.

    Its `base_url` is the Facility Expert API's; the IT Expert API is at the same root.
    """
    prefix = simulator_server.base_url.removeprefix(simulator_server.root_url)
    return await make_hostile(upstream=simulator_server.root_url, prefix=prefix)
