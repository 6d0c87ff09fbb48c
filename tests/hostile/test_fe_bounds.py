"""Facility Expert answers out of bounds: huge names, numbers beyond any float, timestamps of
year 1 or 9999, ids too long. Each costs one item (or one field) at most: the rest of the
answer, the other sites and the config flow keep working.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import STATE_OFF, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api import FacilityExpertClient
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from simulator import Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .server import HostileServer

type Mutate = Callable[[Any], Any]


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Two small sites: one is spoiled, the other must not notice."""
    return quiet(SimulatorConfig(seed=7, sites=2, assets_per_site=8))


def rewrite(server: HostileServer, mutate: Mutate) -> Callable[[web.Request], Awaitable[Any]]:
    """A rule's handler: the simulator's answer, changed by `mutate` (JSON in, JSON out)."""

    async def handler(request: web.Request) -> web.Response:
        headers = {
            k: request.headers[k] for k in ("Authorization", "apikey") if k in request.headers
        }
        assert server.upstream is not None
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.upstream + request.path_qs, headers=headers) as answer,
        ):
            body = await answer.json()
        # json.dumps writes integers of any size: a 400-digit one stays an integer.
        return web.Response(text=json.dumps(mutate(body)), content_type="application/json")

    return handler


def _entry(hass: HomeAssistant, server: HostileServer, sim: Simulator) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=sim.sites[0].id,
        data={
            CONF_SUBSCRIPTION_KEY: sim.config.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.config.technical_token,
            CONF_BASE_URL: server.base_url,
        },
        options={CONF_SITES: [site.id for site in sim.sites], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    return entry


def _state(hass: HomeAssistant, unique_id: str, domain: str = "sensor") -> str:
    entity_id = er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def test_one_huge_number_costs_one_value_not_the_sites(
    hass: HomeAssistant, hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    spoiled, other = sim.sites[0].id, sim.sites[1].id
    entry = _entry(hass, hostile_proxy, sim)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    shown = {
        e.unique_id: e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "sensor" and hass.states.get(e.entity_id) is not None
    }
    victims: list[str] = []

    def bomb(body: Any) -> Any:
        values = [
            v
            for v in body["values"]
            if v["value"] is not None and f"{spoiled}-{v['measurementId']}" in shown
        ]
        values[0]["value"] = 10**400  # beyond any float
        values[1]["value"] = "1e999"  # a numeric string that is infinite
        victims[:] = [f"{spoiled}-{v['measurementId']}" for v in values[:2]]
        return body

    hostile_proxy.on(rf"/sites/{spoiled}/measurements/latest$", rewrite(hostile_proxy, bomb))
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()

    assert len(victims) == 2
    for unique_id in victims:
        assert _state(hass, unique_id) in {STATE_UNKNOWN, STATE_UNAVAILABLE}
    for site in (spoiled, other):
        states = [
            _state(hass, unique_id)
            for unique_id in shown
            if unique_id.startswith(f"{site}-") and unique_id not in victims
        ]
        assert sum(_is_number(state) for state in states) >= 3, site


async def test_timestamps_of_year_1_and_9999_are_ignored(
    hass: HomeAssistant, hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id
    stale = (dt_util.utcnow() - timedelta(hours=3)).isoformat()
    victims: list[str] = []

    def stamps(body: Any) -> Any:
        values = body["values"]
        for value in values:
            value["timestamp"] = stale  # the gateway went quiet hours ago...
        values[0]["timestamp"] = "9999-12-31T23:59:59Z"  # ...whatever this one says
        values[1]["timestamp"] = "0001-01-01T00:00:00+05:00"
        victims[:] = [values[0]["measurementId"], values[1]["measurementId"]]
        return body

    hostile_proxy.on(rf"/sites/{site}/measurements/latest$", rewrite(hostile_proxy, stamps))
    entry = _entry(hass, hostile_proxy, sim)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert _state(hass, f"{site}-connectivity", "binary_sensor") == STATE_OFF
    for measurement_id in victims:  # added, without a value
        assert _state(hass, f"{site}-{measurement_id}") in {STATE_UNKNOWN, STATE_UNAVAILABLE}
    other = sim.sites[1].id
    assert _state(hass, f"{other}-connectivity", "binary_sensor") == "on"


async def test_huge_names_are_cut_and_long_ids_skipped(
    hass: HomeAssistant, hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id

    def names(body: Any) -> Any:
        assets = body["assets"]
        assets[0]["name"] = "Main\x00\r\n\u202e board " + "N" * 10_000_000
        for measurement in assets[0].get("measurements", []):
            measurement["unit"] = "kWh" * 1000
        assets.append({"id": "a" * 2000, "name": "Too long an id", "type": "cabinet"})
        return body

    hostile_proxy.on(rf"/sites/{site}/assets$", rewrite(hostile_proxy, names))
    entry = _entry(hass, hostile_proxy, sim)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    device_names = [device.name or "" for device in devices]
    assert any(name.startswith("Main") and "board" in name for name in device_names)
    assert all(len(name) <= 255 for name in device_names)
    assert not any(ch in name for name in device_names for ch in "\x00\r\n\u202e")
    assert not any("a" * 1025 in str(device.identifiers) for device in devices)
    for state in hass.states.async_all():
        assert len(str(state.attributes.get("friendly_name", ""))) <= 2 * 255 + 1
        assert len(str(state.attributes.get("unit_of_measurement", ""))) <= 32


async def test_a_latitude_bomb_does_not_break_the_config_flow(
    hass: HomeAssistant, hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator

    def latitude(body: Any) -> Any:
        sites = body["sites"] if isinstance(body, dict) else body
        sites[0]["latitude"] = 10**400
        sites[0]["longitude"] = "nan"
        return body

    hostile_proxy.on(r"/sites$", rewrite(hostile_proxy, latitude))
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: sim.config.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.config.technical_token,
            CONF_ADVANCED: {CONF_BASE_URL: hostile_proxy.base_url},
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sites"
    assert not result["errors"]


async def test_client_keeps_the_rest_of_an_answer(
    hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id

    def spoil(body: Any) -> Any:
        values = body["values"]
        values[0]["value"] = 10**400
        values[1]["timestamp"] = "9999-01-01T00:00:00Z"
        values[2]["measurementId"] = "m" * 5000
        return body

    hostile_proxy.on(rf"/sites/{site}/measurements/latest$", rewrite(hostile_proxy, spoil))
    hostile_proxy.on(
        r"/sites$",
        rewrite(hostile_proxy, _spoil_sites),
    )
    async with aiohttp.ClientSession() as session:
        client = FacilityExpertClient(
            session,
            subscription_key=sim.config.subscription_key,
            technical_token=sim.config.technical_token,
            base_url=hostile_proxy.base_url,
        )
        upstream = FacilityExpertClient(
            session,
            subscription_key=sim.config.subscription_key,
            technical_token=sim.config.technical_token,
            base_url=simulator_server.base_url,
        )
        values = await client.get_latest_values(site)
        genuine = await upstream.get_latest_values(site)
        sites = await client.list_sites()
    assert len(values) == len(genuine) - 2  # the bad stamp and the bad id: skipped
    assert values[0].value is None  # the number beyond any float: missing
    assert all(v.value is None or abs(v.value) < 1e300 for v in values)
    assert len(sites) == len(sim.sites)
    assert sites[0].latitude is None
    assert sites[0].name.startswith("Site")
    assert len(sites[0].name) == 255


def _spoil_sites(body: Any) -> Any:
    sites = body["sites"] if isinstance(body, dict) else body
    sites[0]["latitude"] = 10**400
    sites[0]["name"] = "Site\x07" + "s" * 1_000_000
    return body
