"""Fixtures of the blueprint tests: the blueprints in Home Assistant's config, the simulator.

The blueprints are copied where Home Assistant looks for them (a temporary config directory),
so an automation uses them as a user's would after importing them.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
import logging
from pathlib import Path
import shutil
from typing import Any, Protocol

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.ecostruxure.it_expert import const as it_const
from simulator import Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import simulator_at_hass_now, small_it_expert_config

ROOT = Path(__file__).parents[2]
BLUEPRINTS = ROOT / "blueprints" / "automation" / "ecostruxure"
DOMAIN = "ecostruxure"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config directory of the test's own, holding the repository's blueprints."""
    target = Path(hass_tmp_config_dir) / "blueprints" / "automation" / "ecostruxure"
    shutil.copytree(BLUEPRINTS, target)
    return hass_tmp_config_dir


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """One small site and two small IT customers; no random alarms (the tests raise them)."""
    return small_it_expert_config(2, assets_per_site=12)


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Simulator:
    """The simulator's clock stands at Home Assistant's now, until a test advances it."""
    return simulator_at_hass_now(simulator_config)


@pytest.fixture(autouse=True)
async def automations_off_at_the_end(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[None]:
    """Turn the automations off before the entries unload: no trigger waits past the test.

    And no automation made from a blueprint failed meanwhile (a template error, a bad input):
    a failing run notifies no one, which a test expecting silence would take for a pass.
    """
    yield
    failures = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.name.startswith("homeassistant.components.automation")
        and record.levelno >= logging.WARNING
    ]
    assert failures == []
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


@pytest.fixture
def notifications(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of notify.test, the notification action the automations are given."""
    return async_mock_service(hass, "notify", "test")


class Control(Protocol):
    """Calls the simulator's control API (see the fixture)."""

    async def __call__(self, method: str, path: str, body: Any = None) -> Any: ...


@pytest.fixture
async def control(simulator_server: SimulatorServer) -> Any:
    """The simulator's control API over HTTP, as the README tells developers to drive it."""
    async with aiohttp.ClientSession() as session:

        async def call(method: str, path: str, body: Any = None) -> Any:
            async with session.request(
                method, simulator_server.control_url + path, json=body
            ) as response:
                assert response.status == 200, await response.text()
                return await response.json()

        yield call


async def add_automation(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> None:
    """An automation made from one of the blueprints, as the UI makes it."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": f"From {blueprint}",
                "use_blueprint": {"path": f"ecostruxure/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    automations = hass.states.async_entity_ids("automation")
    assert len(automations) == 1
    assert hass.states.get(automations[0]).state == "on"  # its inputs were accepted


def device_of(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """The integration's device of that identifier (site:..., asset:..., it:...)."""
    found = dr.async_get(hass).async_get_devices(identifiers={(DOMAIN, identifier)})
    assert len(found) == 1, identifier
    return found[0]


def entity_of(hass: HomeAssistant, device: dr.DeviceEntry, domain: str, key: str) -> str:
    """The entity of a device whose unique id ends with `key` (e.g. -alarms)."""
    found = [
        entry.entity_id
        for entry in er.async_entries_for_device(er.async_get(hass), device.id)
        if entry.domain == domain and entry.unique_id.endswith(key)
    ]
    assert len(found) == 1, (device.name, domain, key, found)
    return found[0]


@pytest.fixture
def fe_entry(simulator_server: SimulatorServer) -> MockConfigEntry:
    """A Facility Expert entry for the simulator's site, polling every minute."""
    sim = simulator_server.simulator
    return MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=sim.sites[0].id,
        data={
            "subscription_key": sim.config.subscription_key,
            "technical_token": sim.config.technical_token,
            "base_url": simulator_server.base_url,
        },
        options={"sites": [site.id for site in sim.sites], "scan_interval": 60},
    )


@pytest.fixture
def it_entry(simulator_server: SimulatorServer) -> MockConfigEntry:
    """An IT Expert entry with the partner key and the simulator's customer."""
    it = simulator_server.simulator.it_expert
    organizations = [org.id for org in it.organizations]
    return MockConfigEntry(
        domain=DOMAIN,
        title="IT Expert",
        unique_id=f"it_expert:{organizations[0]}",
        data={
            "service": "it_expert",
            "api_key": it.config.partner_all_key,
            "base_url": simulator_server.it_base_url,
        },
        options={"organizations": organizations, "scan_interval": 60},
    )


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


class Advance(Protocol):
    """Let time pass (see the fixture)."""

    async def __call__(self, delta: timedelta) -> None: ...


@pytest.fixture
def advance(
    hass: HomeAssistant, simulator_server: SimulatorServer, freezer: FrozenDateTimeFactory
) -> Advance:
    """Move the service's clock and Home Assistant's by `delta`, minute by minute.

    Each step fires what was due (the coordinator's poll, an automation's `for`), then waits
    for it, background tasks included: no step waits on anything the simulator's clock holds.
    """

    async def move(delta: timedelta) -> None:
        left = delta
        while left > timedelta(0):
            step = min(left, timedelta(minutes=1))
            simulator_server.simulator.clock.advance(step)
            freezer.tick(step)
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
            left -= step

    return move


async def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the event loop run (IT Expert streams are real connections) until `condition`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def fast_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """IT Expert stream timings in real seconds, shrunk so that reconnects happen in a test."""
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.01)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_INITIAL", 0.05)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_MAX", 0.2)
    # The stream sensor turns off once a drop outlasts this grace (2 minutes in real use).
    monkeypatch.setattr(it_const, "STREAM_GRACE", timedelta(seconds=0.2))


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The entity's state, None when it has none."""
    state = hass.states.get(entity_id)
    return state.state if state else None
