"""Fixtures of the API client tests: a client of the simulator on a plain aiohttp session."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from custom_components.ecostruxure.api import FacilityExpertClient
from simulator import Simulator, SimulatorServer


class RecordingSleep:
    """Stands in for asyncio.sleep in the client: records the delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def sim(simulator_server: SimulatorServer) -> Simulator:
    return simulator_server.simulator


@pytest.fixture
def make_client(
    session: aiohttp.ClientSession, simulator_server: SimulatorServer, sleep: RecordingSleep
) -> Callable[..., FacilityExpertClient]:
    """Build clients for the running simulator; keyword arguments override the defaults."""

    def make(**overrides: Any) -> FacilityExpertClient:
        config = simulator_server.simulator.config
        options = {
            "subscription_key": config.subscription_key,
            "technical_token": config.technical_token,
            "base_url": simulator_server.base_url,
            "sleep": sleep,
            **overrides,
        }
        return FacilityExpertClient(session, **options)

    return make


@pytest.fixture
def client(make_client: Callable[..., FacilityExpertClient]) -> FacilityExpertClient:
    return make_client()
