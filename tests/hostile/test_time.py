"""A service asking to wait for years: polling and streams wait an hour at most."""

from collections.abc import AsyncIterator
import logging

import aiohttp
from aiohttp import web
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api import (
    FacilityExpertClient,
    ITExpertClient,
    RateLimitedError,
)
from custom_components.ecostruxure.api.it_expert.live import LiveMeasurements
from custom_components.ecostruxure.api.pacing import MAX_RETRY_AFTER
from custom_components.ecostruxure.const import (
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from simulator import SimulatorServer

from .server import Handler, HostileServer

FOREVER = ["99999999", "Fri, 31 Dec 9999 23:59:59 GMT"]


def too_many(retry_after: str) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response(
            {"title": "TooManyRequests", "status": 429},
            status=429,
            headers={"Retry-After": retry_after},
        )

    return handle


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("retry_after", FOREVER)
async def test_a_rest_wait_is_clamped_and_logged(
    hostile: HostileServer,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    retry_after: str,
) -> None:
    hostile.on(r"/sites$", too_many(retry_after))
    client = FacilityExpertClient(session, "key-1234", "token-1234", base_url=hostile.base_url)
    with caplog.at_level(logging.INFO), pytest.raises(RateLimitedError) as caught:
        await client.list_sites()
    assert caught.value.retry_after == MAX_RETRY_AFTER == 3600
    assert len(hostile.seen) == 1  # an hour is not waited for inside a call
    assert "waiting 3600 s instead" in caplog.text


@pytest.mark.parametrize("retry_after", FOREVER)
async def test_the_next_poll_is_within_the_hour(
    hass: HomeAssistant,
    hostile_proxy: HostileServer,
    simulator_server: SimulatorServer,
    retry_after: str,
) -> None:
    sim = simulator_server.simulator
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=sim.sites[0].id,
        data={
            CONF_SUBSCRIPTION_KEY: sim.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.technical_token,
            CONF_BASE_URL: hostile_proxy.base_url,
        },
        options={CONF_SITES: [site.id for site in sim.sites], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data

    hostile_proxy.on(r"/measurements/latest$", too_many(retry_after))
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    # The coordinator's next refresh, as scheduled on the loop.
    next_poll = coordinator._unsub_refresh.__self__.when() - hass.loop.time()
    assert MAX_RETRY_AFTER - 5 < next_poll <= MAX_RETRY_AFTER + 1
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("retry_after", FOREVER)
async def test_the_stream_waits_an_hour_at_most(
    hass: HomeAssistant,
    hostile: HostileServer,
    session: aiohttp.ClientSession,
    retry_after: str,
) -> None:
    hostile.on(r"/measurements/live$", too_many(retry_after))
    client = ITExpertClient(session, "AK1/key-1234", base_url=hostile.base_url)
    live = LiveMeasurements(client, "org", on_reading=lambda _: None)
    # What run() then sleeps (with ±20 % jitter) before it reconnects.
    assert await live.read_until_dropped() == MAX_RETRY_AFTER
