"""Fixtures of the simulator's own tests: raw HTTP, no client in between."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.ecostruxure.api.facility_expert import paths
from simulator import SimulatorServer


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def auth(simulator_server: SimulatorServer) -> dict[str, str]:
    """The headers the simulator accepts."""
    config = simulator_server.simulator.config
    return {
        paths.HEADER_SUBSCRIPTION_KEY: config.subscription_key,
        paths.HEADER_TECHNICAL_TOKEN: config.technical_token,
    }
