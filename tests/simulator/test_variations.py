"""Contract variations: each knob makes the simulator answer differently, and still validly."""

from collections.abc import AsyncIterator
from datetime import datetime
import json
import re
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from custom_components.ecostruxure.api.facility_expert import paths
from custom_components.ecostruxure.api.it_expert import paths as it_paths
from simulator import (
    ITExpertConfig,
    SimulatedClock,
    Simulator,
    SimulatorConfig,
    SimulatorServer,
    Variations,
)
from simulator.variations import (
    FE_OPTIONAL_FIELDS,
    PRESETS,
    UNKNOWN_ASSET_TYPE,
    UNKNOWN_IT_SENSOR_TYPE,
    UNKNOWN_QUANTITY,
    UNKNOWN_SEVERITY,
)

from ..simulator_fixtures import SIMULATED_NOW


class Service:
    """A simulator with some variations, and a way to GET its JSON."""

    def __init__(self, server: SimulatorServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.sim = server.simulator
        self.session = session

    async def fe(self, path: str, **query: str) -> Any:
        headers = {
            paths.HEADER_SUBSCRIPTION_KEY: self.sim.subscription_key,
            paths.HEADER_TECHNICAL_TOKEN: self.sim.technical_token,
        }
        async with self.session.get(
            self.server.base_url + path, params=query, headers=headers
        ) as answer:
            assert answer.status == 200, await answer.text()
            return await answer.json()

    async def it(self, path: str) -> Any:
        key = self.sim.it_expert.config.partner_all_key
        headers = {"Authorization": f"Bearer {key}"}
        async with self.session.get(self.server.it_base_url + path, headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            return await answer.json()

    def site_path(self, template: str, index: int = 0) -> str:
        return template.format(site_id=quote(self.sim.sites[index].id, safe=""))


@pytest.fixture
async def serve(socket_enabled: None) -> AsyncIterator[Any]:
    async with aiohttp.ClientSession() as session:
        servers: list[SimulatorServer] = []

        async def start(variations: Variations) -> Service:
            config = SimulatorConfig(
                seed=7,
                sites=3,
                assets_per_site=12,
                alarms_per_site_per_hour=0,
                it_expert=ITExpertConfig(organizations=2, rooms_per_organization=1),
                variations=variations,
            )
            server = SimulatorServer(Simulator(config, SimulatedClock(SIMULATED_NOW, frozen=True)))
            await server.start()
            servers.append(server)
            return Service(server, session)

        yield start
        for server in servers:
            await server.stop()


def objects(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found.extend(objects(item))
    return found


async def test_pages_are_capped_whatever_the_limit(serve: Any) -> None:
    service = await serve(Variations(page_cap=2))
    page = await service.fe(paths.SITES, limit="50", offset="0")
    assert len(page["sites"]) == 2
    assert page["totalCount"] == 3
    assert page["limit"] == 2
    last = await service.fe(paths.SITES, limit="50", offset="2")
    assert len(last["sites"]) == 1


async def test_it_change_pages_are_capped_too(serve: Any) -> None:
    service = await serve(Variations(page_cap=1))
    org = service.sim.it_expert.organizations[0]
    device = next(iter(service.sim.it_expert.state(org.id).org.devices.values()))
    service.sim.it_expert.rename_device(device.id, "one")
    service.sim.it_expert.rename_device(device.id, "two")
    changes = await service.it(it_paths.INVENTORY_CHANGES.format(organization_id=org.id, offset=0))
    assert len(changes["inventoryObjectChanges"]) == 1


async def test_bare_lists_have_no_wrapper_and_it_organizations_are_wrapped(serve: Any) -> None:
    service = await serve(Variations(bare_lists=True))
    assert isinstance(await service.fe(paths.SITES), list)
    assert isinstance(await service.fe(service.site_path(paths.ASSETS)), list)
    assert isinstance(await service.fe(service.site_path(paths.LATEST_VALUES)), list)
    assert isinstance(await service.fe(service.site_path(paths.ALARMS)), list)
    organizations = await service.it(it_paths.ORGANIZATIONS)
    assert isinstance(organizations, dict)
    assert {"id": service.sim.it_expert.organizations[0].id} in organizations["organizations"]


@pytest.mark.parametrize(("knob", "expected"), [("nulls", None), ("missing", "absent")])
async def test_optional_fields_null_or_missing(serve: Any, knob: str, expected: Any) -> None:
    service = await serve(Variations(**{knob: True}))
    plain = await serve(Variations())
    for path in (paths.SITES, service.site_path(paths.SITE), service.site_path(paths.ASSETS)):
        varied, original = await service.fe(path), await plain.fe(path)
        optional = [o for o in objects(original) if FE_OPTIONAL_FIELDS & set(o)]
        assert optional, path
        for obj in objects(varied):
            for name in FE_OPTIONAL_FIELDS & set(obj):
                assert obj[name] is None
            if knob == "missing":
                assert not FE_OPTIONAL_FIELDS & set(obj)
        assert len(objects(varied)) <= len(objects(original))
    sensors = await service.it(
        it_paths.INVENTORY.format(organization_id=service.sim.it_expert.organizations[0].id)
    )
    assert all(o.get("serialNumber") is None for o in objects(sensors))


async def test_unknown_enum_values_appear(serve: Any) -> None:
    service = await serve(Variations(unknown_enums=True))
    site = service.sim.sites[0]
    assets = (await service.fe(service.site_path(paths.ASSETS)))["assets"]
    unknown = [a for a in assets if a["type"] == UNKNOWN_ASSET_TYPE]
    assert len(unknown) == 1
    assert unknown[0]["measurements"][0]["quantity"] == UNKNOWN_QUANTITY
    values = (await service.fe(service.site_path(paths.LATEST_VALUES)))["values"]
    assert unknown[0]["measurements"][0]["id"] in {v["measurementId"] for v in values}
    service.sim.raise_alarm(site.id, next(iter(site.assets)), "overload")
    alarms = (await service.fe(service.site_path(paths.ALARMS)))["alarms"]
    assert [a["severity"] for a in alarms] == [UNKNOWN_SEVERITY]
    org = service.sim.it_expert.organizations[0]
    sensors = await service.it(it_paths.SENSORS.format(organization_id=org.id))
    assert {s["type"] for s in sensors["sensors"]} == {UNKNOWN_IT_SENSOR_TYPE}


async def test_odd_ids_are_served_on_their_paths(serve: Any) -> None:
    service = await serve(Variations(odd_ids=True))
    sites = (await service.fe(paths.SITES))["sites"]
    for site in sites:
        assert all(character in site["id"] for character in "/+=:?ü")
    detail = await service.fe(service.site_path(paths.SITE))
    assert detail["id"] == sites[0]["id"]
    assets = (await service.fe(service.site_path(paths.ASSETS)))["assets"]
    assert all("/" in a["id"] for a in assets)
    assert all(a["parentId"] is None or "/" in a["parentId"] for a in assets)
    measurement = next(m["id"] for a in assets for m in a["measurements"])
    series = await service.fe(
        service.site_path(paths.TIME_SERIES),
        measurementId=measurement,
        **{"from": "2026-06-14T00:00:00Z", "to": "2026-06-15T00:00:00Z"},
    )
    assert series["series"][0]["measurementId"] == measurement


async def test_mixed_offsets_keep_the_instants(serve: Any) -> None:
    service = await serve(Variations(mixed_offsets=True))
    plain = await serve(Variations())
    varied = (await service.fe(service.site_path(paths.LATEST_VALUES)))["values"]
    original = (await plain.fe(plain.site_path(paths.LATEST_VALUES)))["values"]
    stamps = [v["timestamp"] for v in varied]
    assert len({re.sub(r"^.{19}", "", s) for s in stamps}) > 2  # several offsets
    assert [datetime.fromisoformat(s) for s in stamps] == [
        datetime.fromisoformat(v["timestamp"]) for v in original
    ]


async def test_shuffled_fields_change_the_order_only(serve: Any) -> None:
    service = await serve(Variations(shuffled_fields=True))
    plain = await serve(Variations())
    varied, original = await service.fe(paths.SITES), await plain.fe(paths.SITES)
    assert varied == original
    assert [list(s) for s in varied["sites"]] != [list(s) for s in original["sites"]]


async def test_it_sensors_without_a_type(serve: Any) -> None:
    service = await serve(Variations(it_sensors_untyped=True))
    org = service.sim.it_expert.organizations[0]
    sensors = (await service.it(it_paths.SENSORS.format(organization_id=org.id)))["sensors"]
    assert sensors
    assert all("type" not in s and s["valueType"] for s in sensors)


def test_names_presets_and_random_choices() -> None:
    assert Variations.parse("default") == Variations()
    assert Variations.parse("small-pages, odd_ids") == Variations(page_cap=2, odd_ids=True)
    assert Variations.parse("page-cap=5,seed=3") == Variations(page_cap=5, seed=3)
    assert Variations.parse("all") == PRESETS["all"]
    assert Variations.random(4) == Variations.parse("random:4")
    assert len({Variations.random(seed) for seed in range(20)}) > 10
    assert not Variations().active
    assert Variations(nulls=True).active
    with pytest.raises(ValueError, match="Unknown variation"):
        Variations.parse("sideways")
    with pytest.raises(ValueError, match="page_cap"):
        Variations(page_cap=0)


async def test_odd_it_ids_are_served_on_their_paths_and_streams(serve: Any) -> None:
    service = await serve(Variations(odd_ids=True))
    it = service.sim.it_expert
    org = it.organizations[0]
    sensors = (await service.it(it_paths.SENSORS.format(organization_id=org.id)))["sensors"]
    assert sensors
    assert all("/" in s["id"] and "ü" in s["id"] and "?" in s["deviceId"] for s in sensors)
    device = sensors[0]["deviceId"]
    path = it_paths.DEVICE.format(organization_id=org.id, device_id=quote(device, safe=""))
    assert (await service.it(path))["device"]["id"] == device


async def test_stream_lines_vary_too(serve: Any) -> None:
    service = await serve(Variations(mixed_offsets=True, shuffled_fields=True, seed=2))
    it = service.sim.it_expert
    state = it.state(it.organizations[0].id)
    start = SIMULATED_NOW.timestamp()
    lines = [json.loads(it.line(state, "s1", start + 60 * n, 1.5)) for n in range(12)]
    stamps = [line["timestamp"] for line in lines]
    assert len({stamp[-6:] for stamp in stamps}) > 2  # several offsets
    assert [datetime.fromisoformat(s).timestamp() for s in stamps] == [
        start + 60 * n for n in range(12)
    ]
    assert {tuple(line) for line in lines} != {("sensorId", "timestamp", "numericValue")}
