"""Fixtures of the IT Expert tests: an entry for the simulator's partner key, fast streams."""

import asyncio
from collections.abc import Callable

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
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
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import small_it_expert_config


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """One small Facility Expert site, and two small IT Expert customers (a rack each)."""
    return small_it_expert_config(2)


@pytest.fixture(autouse=True)
def fast_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream timings in real seconds, shrunk so that reconnects happen within a test."""
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.01)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_INITIAL", 0.05)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_MAX", 0.2)


@pytest.fixture
def it_entry(simulator_server: SimulatorServer) -> MockConfigEntry:
    """An IT Expert entry with the partner key and both customers (not yet added)."""
    it = simulator_server.simulator.it_expert
    organizations = [org.id for org in it.organizations]
    return MockConfigEntry(
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


@pytest.fixture
async def it_loaded(hass: HomeAssistant, it_entry: MockConfigEntry) -> MockConfigEntry:
    """The IT Expert entry set up, its streams connected."""
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    coordinator: ITExpertCoordinator = it_entry.runtime_data
    await wait_for(lambda: all(s.connected for s in coordinator.streams.values()))
    return it_entry


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the event loop run (streams are real loopback connections) until `condition`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
