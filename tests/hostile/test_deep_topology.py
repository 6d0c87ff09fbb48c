"""Deep and looping trees: a 10,000-deep parent chain must not stall Home Assistant, and a
loop in the parents must not hang it. Topology work is linear in the number of items.
"""

import asyncio
from collections.abc import Callable
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.facility_expert.models import Asset
from custom_components.ecostruxure.api.it_expert.models import InventoryKind, InventoryObject
from custom_components.ecostruxure.const import (
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from custom_components.ecostruxure.facility_expert.data import SiteTopology
from custom_components.ecostruxure.it_expert.data import Organization
from custom_components.ecostruxure.topology import nearest_matching, parents_first
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .server import HostileServer
from .test_fe_bounds import rewrite

DEPTH = 10_000


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return quiet(SimulatorConfig(seed=7, sites=1, assets_per_site=8))


class Counted:
    """A parent function that counts its calls."""

    def __init__(self, parent: Callable[[Any], str | None]) -> None:
        self.parent = parent
        self.calls = 0

    def __call__(self, item: Any) -> str | None:
        self.calls += 1
        return self.parent(item)


def _chain(depth: int) -> dict[str, Asset]:
    """A chain of assets, each the parent of the next; the deepest listed first."""
    assets = [
        Asset(id=f"a{n}", name=f"A{n}", type="load", parent_id=f"a{n - 1}" if n else None)
        for n in range(depth)
    ]
    return {asset.id: asset for asset in reversed(assets)}


def test_parents_first_and_nearest_are_linear_on_a_deep_chain() -> None:
    assets = _chain(DEPTH)
    parent = Counted(lambda asset: asset.parent_id)
    ordered = parents_first(assets.values(), key=lambda a: a.id, parent=parent)
    assert [a.id for a in ordered] == [f"a{n}" for n in range(DEPTH)]
    assert parent.calls <= 2 * DEPTH
    parent.calls = 0
    nearest = nearest_matching(assets, parent=parent, match=lambda a: a.id == "a0")
    assert set(nearest.values()) == {"a0"}
    assert parent.calls <= 2 * DEPTH


def test_area_of_every_asset_of_a_deep_chain_is_quick() -> None:
    assets = _chain(DEPTH)
    assets["a0"] = Asset(id="a0", name="Plant room", type="room")
    topology = SiteTopology(site=None, gateways=(), assets=assets)  # type: ignore[arg-type]
    started = time.perf_counter()
    areas = {topology.area_of(asset) for asset in assets.values()}
    # The old walk per asset took 10 s or more here; linear work takes milliseconds.
    assert time.perf_counter() - started < 1.0
    assert areas == {"Plant room"}


def test_loops_in_the_parents_are_cut_each_item_once() -> None:
    # a0 -> a1 -> a2 -> a0, and a3 under the loop; a4 is its own parent.
    parents = {"a0": "a2", "a1": "a0", "a2": "a1", "a3": "a2", "a4": "a4"}
    assets = {
        key: Asset(id=key, name=key, type="load", parent_id=up) for key, up in parents.items()
    }
    ordered = parents_first(assets.values(), key=lambda a: a.id, parent=lambda a: a.parent_id)
    assert sorted(a.id for a in ordered) == sorted(parents)
    topology = SiteTopology(site=None, gateways=(), assets=assets)  # type: ignore[arg-type]
    assert all(topology.area_of(asset) is None for asset in assets.values())
    assets["a1"] = Asset(id="a1", name="Loop room", type="room", parent_id="a0")
    topology = SiteTopology(site=None, gateways=(), assets=assets)  # type: ignore[arg-type]
    assert topology.area_of(assets["a3"]) == "Loop room"


def test_rooms_of_a_deep_it_inventory_are_linear() -> None:
    org = Organization("org")
    org.objects["org"] = InventoryObject(id="org", kind=InventoryKind.ORGANIZATION)
    org.objects["room"] = InventoryObject(
        id="room", kind=InventoryKind.LOCATION, type="ROOM", label="Room 1", parent_id="org"
    )
    for n in range(DEPTH):
        org.objects[f"d{n}"] = InventoryObject(
            id=f"d{n}", kind=InventoryKind.DEVICE, parent_id=f"d{n - 1}" if n else "room"
        )
    # A loop of devices that are their parents' parents.
    org.objects["x"] = InventoryObject(id="x", kind=InventoryKind.DEVICE, parent_id="y")
    org.objects["y"] = InventoryObject(id="y", kind=InventoryKind.DEVICE, parent_id="x")
    started = time.perf_counter()
    rooms = org.rooms()
    ordered = org.ordered_objects()
    assert time.perf_counter() - started < 1.0
    assert rooms["d9999"] == "Room 1"
    assert rooms["x"] is None
    assert len(ordered) == len(org.objects) - 1  # all but the organization, each once


async def test_setup_with_a_10000_deep_asset_chain_does_not_stall(
    hass: HomeAssistant, hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0].id

    def deep(body: Any) -> Any:
        chain = [
            {"id": f"deep-{n}", "name": f"D{n}", "type": "load", "parentId": f"deep-{n - 1}"}
            for n in range(1, DEPTH)
        ]
        chain.append({"id": "deep-0", "name": "D0", "type": "load", "parentId": "deep-9999"})
        body["assets"].extend(reversed(chain))  # the deepest first, and a loop at the top
        return body

    hostile_proxy.on(rf"/sites/{site}/assets$", rewrite(hostile_proxy, deep))
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_SUBSCRIPTION_KEY: sim.config.subscription_key,
            CONF_TECHNICAL_TOKEN: sim.config.technical_token,
            CONF_BASE_URL: hostile_proxy.base_url,
        },
        options={CONF_SITES: [site], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    # A ticker measures the longest the event loop was held during setup.
    longest = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    task = asyncio.create_task(ticker())
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    stop.set()
    await task
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert sum(device.name is not None and device.name[0] == "D" for device in devices) == DEPTH
    print(f"longest loop stall: {longest:.2f} s")  # noqa: T201
    assert longest < 3.0
