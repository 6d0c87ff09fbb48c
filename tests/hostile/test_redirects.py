"""A service that redirects: nothing is followed, nothing reaches the other host."""

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.ecostruxure.api import (
    FacilityExpertClient,
    ITExpertClient,
    RedirectError,
)
from custom_components.ecostruxure.api.it_expert.live import LiveMeasurements, LiveTimings
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)

from .conftest import MakeServer
from .server import Handler, HostileServer


def redirect_to(target: HostileServer, status: int) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": target.root_url + request.path})

    return handle


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def elsewhere(make_hostile: MakeServer) -> HostileServer:
    """Where the redirects point: it must never hear from the client."""
    return await make_hostile()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_facility_expert_does_not_follow(
    hostile: HostileServer,
    elsewhere: HostileServer,
    session: aiohttp.ClientSession,
    status: int,
) -> None:
    hostile.on(r"/sites$", redirect_to(elsewhere, status))
    client = FacilityExpertClient(session, "subscription", "token", base_url=hostile.base_url)
    with pytest.raises(RedirectError) as caught:
        await client.list_sites()
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert len(hostile.seen) == 1  # not retried either
    assert elsewhere.seen == []


@pytest.mark.parametrize("status", [302, 307])
async def test_it_expert_does_not_follow(
    hostile: HostileServer,
    elsewhere: HostileServer,
    session: aiohttp.ClientSession,
    status: int,
) -> None:
    hostile.on(r"/organizations$", redirect_to(elsewhere, status))
    hostile.on(r"/measurements/live$", redirect_to(elsewhere, status))
    client = ITExpertClient(session, "AK1/key", base_url=hostile.base_url)
    with pytest.raises(RedirectError, match=f"HTTP {status}"):
        await client.organizations()
    with pytest.raises(RedirectError, match=f"HTTP {status}"):
        async for _ in client.live_measurements("org"):
            pass
    assert len(hostile.seen) == 2
    assert elsewhere.seen == []


async def test_a_redirected_replay_is_not_retried(
    hass: HomeAssistant,
    hostile: HostileServer,
    elsewhere: HostileServer,
    session: aiohttp.ClientSession,
) -> None:
    """Like an expired offset, a redirect cannot succeed on a second try."""
    hostile.on(r"/measurements/replay$", redirect_to(elsewhere, 302))
    client = ITExpertClient(session, "AK1/key", base_url=hostile.base_url)
    live = LiveMeasurements(
        client, "org", on_reading=lambda _: None, timings=LiveTimings(backoff_initial=0.01)
    )
    await live.replay("1", "9")
    assert len(hostile.seen) == 1
    assert elsewhere.seen == []


async def test_the_config_flow_names_the_redirect(
    hass: HomeAssistant, hostile: HostileServer, elsewhere: HostileServer
) -> None:
    hostile.on(r".*", redirect_to(elsewhere, 301))
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: "subscription",
            CONF_TECHNICAL_TOKEN: "token",
            CONF_ADVANCED: {CONF_BASE_URL: hostile.base_url},
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "redirected"}
    assert elsewhere.seen == []
