"""Paged lists from services that page differently: short pages, no total, ignored offsets.

Any service may cap `limit`; a client that advances by the size it asked for loses every item
after the first page. These tests put a proxy in front of the simulator that answers fewer
items per page than asked (or misbehaves outright) and check what a user would see.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.ecostruxure.api import (
    FacilityExpertClient,
    InvalidResponseError,
    ITExpertClient,
)
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from simulator import Simulator, SimulatorConfig
from tests.simulator_fixtures import quiet

from .server import HostileServer

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HOP_BY_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Twelve small sites, no alarms of their own: a list of six pages of two."""
    return quiet(SimulatorConfig(seed=7, sites=12, assets_per_site=8))


def capped(proxy: HostileServer, cap: int) -> Handler:
    """Forward to the simulator with `limit` lowered to `cap`: short pages, true totals."""

    async def handler(request: web.Request) -> web.Response:
        query = dict(request.query)
        query["limit"] = str(min(int(query.get("limit", "50")), cap))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        # The raw path: an id holding an encoded "/" must reach the simulator as it came.
        upstream = URL(f"{proxy.upstream}{request.rel_url.raw_path}", encoded=True)
        async with (
            aiohttp.ClientSession() as session,
            session.get(upstream, params=query, headers=headers) as up,
        ):
            return web.Response(
                status=up.status, body=await up.read(), content_type=up.content_type
            )

    return handler


def answer(payload: Any) -> Handler:
    """Always the same JSON, whatever the offset."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(payload)

    return handler


def client(server: HostileServer, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
    return FacilityExpertClient(
        session, "sim-subscription-key", "sim-technical-token", base_url=server.base_url, **kwargs
    )


def pages_asked(server: HostileServer, suffix: str) -> list[str]:
    return [seen.query for seen in server.seen if seen.path.endswith(suffix)]


# --- the client -------------------------------------------------------------------------


async def test_short_pages_still_give_every_site(
    hostile_proxy: HostileServer, simulator: Simulator
) -> None:
    hostile_proxy.on(r"/sites$", capped(hostile_proxy, 2))
    async with aiohttp.ClientSession() as session:
        sites = await client(hostile_proxy, session).list_sites()
    assert [site.id for site in sites] == [site.id for site in simulator.sites]
    assert len(sites) == 12
    offsets = [q.split("offset=")[1].split("&")[0] for q in pages_asked(hostile_proxy, "/sites")]
    assert offsets == ["0", "2", "4", "6", "8", "10"]  # advanced by what came back


async def test_without_a_total_pages_go_on_until_an_empty_one(hostile: HostileServer) -> None:
    sites = [{"id": f"s{i}", "name": f"Site {i}"} for i in range(5)]

    async def bare(request: web.Request) -> web.Response:
        offset = int(request.query["offset"])
        return web.json_response(sites[offset : offset + 2])  # a bare list: no total

    hostile.on(r"/sites$", bare)
    async with aiohttp.ClientSession() as session:
        found = await client(hostile, session).list_sites()
    assert [site.id for site in found] == [f"s{i}" for i in range(5)]
    assert len(pages_asked(hostile, "/sites")) == 4  # 2 + 2 + 1, then the empty page


async def test_a_malformed_item_still_counts_towards_the_offset(hostile: HostileServer) -> None:
    sites: list[Any] = [{"id": "s0"}, {"name": "no id"}, {"id": "s2"}, {"id": "s3"}]

    async def paged(request: web.Request) -> web.Response:
        offset = int(request.query["offset"])
        return web.json_response({"sites": sites[offset : offset + 2], "totalCount": 4})

    hostile.on(r"/sites$", paged)
    async with aiohttp.ClientSession() as session:
        found = await client(hostile, session, page_size=2).list_sites()
    assert [site.id for site in found] == ["s0", "s2", "s3"]  # none twice, none lost
    assert len(pages_asked(hostile, "/sites")) == 2


async def test_an_item_repeated_by_a_list_that_moved_is_kept_once(
    hostile: HostileServer,
) -> None:
    alarms = [
        {"id": f"al{i}", "assetId": "as1", "type": "trip", "activatedAt": "2026-06-15T09:00:00Z"}
        for i in range(4)
    ]

    async def moving(request: web.Request) -> web.Response:
        offset = int(request.query["offset"])
        # A new alarm came first between the two pages: al1 moves to page 2.
        listed = [{**alarms[0], "id": "new"}, *alarms] if offset else alarms
        return web.json_response({"alarms": listed[offset : offset + 2], "totalCount": len(listed)})

    hostile.on(r"/alarms$", moving)
    async with aiohttp.ClientSession() as session:
        found = await client(hostile, session, page_size=2).list_alarms("s1")
    assert [alarm.id for alarm in found] == ["al0", "al1", "al2", "al3"]


async def test_a_page_over_the_limit_is_refused(hostile: HostileServer) -> None:
    hostile.on(r"/sites$", answer({"sites": [{"id": f"s{i}"} for i in range(3)]}))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidResponseError, match="3 items for a page of at most 2"):
            await client(hostile, session, page_size=2).list_sites()


async def test_a_repeated_page_without_a_total_ends_the_list(hostile: HostileServer) -> None:
    # A service that does not page at all: the same whole list whatever the offset.
    hostile.on(r"/sites$", answer([{"id": "s0"}, {"id": "s1"}]))
    async with aiohttp.ClientSession() as session:
        found = await client(hostile, session).list_sites()
    assert [site.id for site in found] == ["s0", "s1"]  # each once
    assert len(pages_asked(hostile, "/sites")) == 2


async def test_a_repeated_page_short_of_the_total_is_an_error(hostile: HostileServer) -> None:
    hostile.on(r"/alarms$", answer({"alarms": [], "totalCount": 0}))
    hostile.on(
        r"/sites$", answer({"sites": [{"id": "s0"}, {"id": "s1"}], "totalCount": 40})
    )  # ignores the offset: sites 2 to 39 can never be read
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidResponseError, match="same page again at offset 2 of 40"):
            await client(hostile, session).list_sites()
    assert len(pages_asked(hostile, "/sites")) == 2


async def test_pages_that_never_end_are_bounded(hostile: HostileServer) -> None:
    served = 0

    async def endless(request: web.Request) -> web.Response:
        nonlocal served
        served += 1
        return web.json_response([{"id": f"s{served}"}])  # always new, never a total

    hostile.on(r"/sites$", endless)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(InvalidResponseError, match="did not end within 1000 pages"):
            await client(hostile, session).list_sites()
    assert served == 1000


async def test_it_changes_that_never_catch_up_are_bounded(hostile: HostileServer) -> None:
    served = 0

    async def moving(request: web.Request) -> web.Response:
        nonlocal served
        served += 1
        return web.json_response({"offset": served * 10, "alarms": []})

    hostile.on(r"/alarm-changes/", moving)
    async with aiohttp.ClientSession() as session:
        it = ITExpertClient(session, "key", base_url=hostile.base_url, max_change_pages=5)
        changes = await it.alarm_changes("org", 0)
    assert served == 5
    assert not changes.caught_up
    assert changes.offset == 50  # the next call goes on from there


# --- through Home Assistant -------------------------------------------------------------


async def test_the_flow_offers_and_sets_up_every_site_of_short_pages(
    hass: HomeAssistant,
    hostile_proxy: HostileServer,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
) -> None:
    hostile_proxy.on(r"/sites$", capped(hostile_proxy, 2))
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: simulator.subscription_key,
            CONF_TECHNICAL_TOKEN: simulator.technical_token,
            CONF_ADVANCED: {CONF_BASE_URL: hostile_proxy.base_url},
        },
    )
    assert result["step_id"] == "sites"
    options = result["data_schema"].schema[CONF_SITES].config["options"]
    assert [o["value"] for o in options] == [site.id for site in simulator.sites]  # all 12
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: [site.id for site in simulator.sites]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    for site in simulator.sites:
        problem = entity_registry.async_get_entity_id("binary_sensor", DOMAIN, f"{site.id}-problem")
        assert problem is not None, site.id
        assert hass.states.get(problem).state != "unavailable"  # type: ignore[union-attr]


async def test_the_oldest_active_alarm_on_page_three_is_seen(
    hass: HomeAssistant,
    hostile_proxy: HostileServer,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
) -> None:
    hostile_proxy.on(r"/alarms$", capped(hostile_proxy, 2))
    site = simulator.sites[0]
    raisers = [
        (asset, kind)
        for asset in site.assets.values()
        for kind in asset.alarm_types
        if kind != "communication_loss"
    ][:5]
    assert len(raisers) == 5
    for asset, kind in raisers:  # the first raised is the oldest: last of five, on page 3
        simulator.raise_alarm(site.id, asset.id, kind)
        simulator.clock.advance(timedelta(seconds=30))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=site.id,
        data={
            CONF_SUBSCRIPTION_KEY: simulator.subscription_key,
            CONF_TECHNICAL_TOKEN: simulator.technical_token,
            CONF_BASE_URL: hostile_proxy.base_url,
        },
        options={CONF_SITES: [site.id], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    oldest_asset, oldest_kind = raisers[0]
    oldest = entity_registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"{site.id}-{oldest_asset.id}-alarm-{oldest_kind}"
    )
    assert oldest is not None
    assert hass.states.get(oldest).state == "on"  # type: ignore[union-attr]
    count = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{site.id}-active_alarms")
    assert count is not None
    assert hass.states.get(count).state == "5"  # type: ignore[union-attr]
    assert len(pages_asked(hostile_proxy, "/alarms")) == 3


async def test_a_service_that_ignores_the_offset_is_told_in_the_flow(
    hass: HomeAssistant, hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    hostile.on(r"/sites$", answer({"sites": [{"id": "s0"}, {"id": "s1"}], "totalCount": 40}))
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: "sim-subscription-key",
            CONF_TECHNICAL_TOKEN: "sim-technical-token",
            CONF_ADVANCED: {CONF_BASE_URL: hostile.base_url},
        },
    )
    assert result["type"] is FlowResultType.FORM  # the form again, not an endless wait
    assert result["errors"] == {"base": "unknown"}
    assert "same page again at offset 2 of 40" in caplog.text
    assert len(pages_asked(hostile, "/sites")) == 2
