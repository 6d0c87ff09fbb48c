"""The IT Expert simulator speaks the contract: keys and consent, inventory, changes, alarms."""

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
import signal
import sys
from typing import Any

import aiohttp
import pytest

from custom_components.ecostruxure.api.it_expert import paths as it_paths
from simulator import (
    ITExpertConfig,
    ITExpertSimulator,
    KeyKind,
    SimulatedClock,
    SimulatorConfig,
    SimulatorServer,
)
from tests.simulator_fixtures import SIMULATED_NOW

ROOT = Path(__file__).parents[2]


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A small Facility Expert side; IT Expert pages of five changes."""
    return SimulatorConfig(
        seed=7,
        sites=1,
        assets_per_site=8,
        it_expert=ITExpertConfig(seed=7, changes_page_size=5, heartbeat_seconds=0.2),
    )


@pytest.fixture
def it(simulator_server: SimulatorServer) -> ITExpertSimulator:
    return simulator_server.simulator.it_expert


def bearer(key: str, scheme: str = "bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"}


async def call(
    http: aiohttp.ClientSession,
    server: SimulatorServer,
    path: str,
    key: str | None,
    **params: str,
) -> tuple[int, Any]:
    headers = bearer(key) if key is not None else {}
    async with http.get(server.it_base_url + path, headers=headers, params=params) as response:
        if response.content_type in ("application/json", "application/problem+json"):
            return response.status, await response.json()
        return response.status, await response.text()


async def changes(
    http: aiohttp.ClientSession,
    server: SimulatorServer,
    template: str,
    organization_id: str,
    key: str,
    offset: int,
    items: str,
) -> tuple[int, list[dict[str, Any]], int]:
    """Every change after `offset` (page after page), the new offset and the pages asked."""
    found: list[dict[str, Any]] = []
    pages = 0
    while True:
        path = template.format(organization_id=organization_id, offset=offset)
        status, body = await call(http, server, path, key)
        assert status == 200, body
        pages += 1
        found += body[items]
        if body["offset"] == offset:
            return offset, found, pages
        offset = body["offset"]


def test_same_seed_same_organizations_other_seed_other_ids() -> None:
    clock = SimulatedClock(SIMULATED_NOW, frozen=True)
    one, two = ITExpertSimulator(clock=clock), ITExpertSimulator(clock=clock)
    other = ITExpertSimulator(ITExpertConfig(seed=2), clock)
    assert [o.id for o in one.organizations] == [o.id for o in two.organizations]
    assert [list(o.devices) for o in one.organizations] == [
        list(o.devices) for o in two.organizations
    ]
    assert {o.id for o in one.organizations}.isdisjoint(o.id for o in other.organizations)
    labels = [o.label for o in ITExpertSimulator(ITExpertConfig(organizations=10)).organizations]
    assert labels[:3] == ["Flamingo Inc.", "Nordlys Datacenter AS", "Société Générale des Données"]
    assert len(set(labels)) == 10
    assert any(not label.isascii() for label in labels)
    with pytest.raises(ValueError, match="indexes"):
        ITExpertConfig(organizations=1)  # the partner-specific key names customer 1


def test_values_are_plausible_and_energy_only_grows() -> None:
    it = ITExpertSimulator(ITExpertConfig(), SimulatedClock(SIMULATED_NOW, frozen=True))
    start = SIMULATED_NOW.timestamp()
    bounds = {
        "LOAD": (0, 100),
        "BATTERY_CHARGE": (0, 100),
        "HUMIDITY": (20, 80),
        "VOLTAGE": (0, 240),
        "FAN_SPEED": (20, 100),
        "TEMPERATURE": (10, 40),
        "DEW_POINT": (-10, 25),
    }
    for sensor in it.organizations[0].sensors():
        readings = [sensor.value(start + hour * 1800) for hour in range(2 * 24 * 7)]
        if sensor.value_type == "STRING":
            assert {type(r) for r in readings} == {str}
            continue
        numbers = [float(r) for r in readings]
        low, high = bounds.get(sensor.type, (0, 1e9))
        assert low <= min(numbers), (sensor.label, sensor.type)
        assert max(numbers) <= high, (sensor.label, sensor.type)
        if sensor.type == "ENERGY":
            assert numbers == sorted(numbers)


async def test_each_key_lists_what_it_covers(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    customers = [org.id for org in it.organizations]
    expected = {
        KeyKind.CUSTOMER: customers[:1],
        KeyKind.PARTNER_ALL: customers,
        KeyKind.PARTNER_SPECIFIC: customers[1:2],
        KeyKind.DEMO: [it.demo_organization.id],
    }
    for kind, ids in expected.items():
        status, body = await call(
            http, simulator_server, it_paths.ORGANIZATIONS, it.config.key(kind)
        )
        assert (status, body) == (200, ids), kind
    # The scheme is matched case-insensitively; the key (it holds slashes) is sent as issued.
    for scheme in ("Bearer", "BEARER"):
        headers = bearer(it.config.customer_key, scheme)
        async with http.get(simulator_server.it_base_url + "/organizations", headers=headers) as r:
            assert r.status == 200
    assert "/" in it.config.customer_key


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "nope"}, bearer("AK1/unknown/key"), bearer("", "bearer")],
)
async def test_missing_or_unknown_keys_get_401(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, headers: dict[str, str]
) -> None:
    org = simulator_server.simulator.it_expert.organizations[0].id
    for path in (it_paths.ORGANIZATIONS, it_paths.INVENTORY.format(organization_id=org)):
        async with http.get(simulator_server.it_base_url + path, headers=headers) as response:
            assert response.status == 401
            assert response.content_type == "application/problem+json"
            body = await response.json()
            assert (body["status"], body["title"]) == (401, "Unauthorized")


async def test_consent_and_keys_decide_access(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    first, second, _ = (org.id for org in it.organizations)
    cfg = it.config
    inventory = it_paths.INVENTORY.format(organization_id=second)
    assert (await call(http, simulator_server, inventory, cfg.partner_all_key))[0] == 200
    # A key that does not cover the organization, or an organization that does not exist.
    assert (await call(http, simulator_server, inventory, cfg.customer_key))[0] == 403
    assert (await call(http, simulator_server, inventory, cfg.demo_key))[0] == 403
    unknown = it_paths.ALARMS.format(organization_id="00000000-0000-4000-8000-000000000000")
    status, body = await call(http, simulator_server, unknown, cfg.partner_all_key)
    assert (status, body["title"]) == (403, "Forbidden")

    it.revoke_consent(second)
    status, ids = await call(http, simulator_server, it_paths.ORGANIZATIONS, cfg.partner_all_key)
    assert second not in ids
    status, ids = await call(
        http, simulator_server, it_paths.ORGANIZATIONS, cfg.partner_specific_key
    )
    assert ids == []
    assert (await call(http, simulator_server, inventory, cfg.partner_all_key))[0] == 403
    assert (await call(http, simulator_server, inventory, cfg.partner_specific_key))[0] == 403
    it.restore_consent(second)
    assert (await call(http, simulator_server, inventory, cfg.partner_specific_key))[0] == 200

    # Consent is about partners: the customer's own key keeps working.
    it.revoke_consent(first)
    own = it_paths.SENSORS.format(organization_id=first)
    assert (await call(http, simulator_server, own, cfg.customer_key))[0] == 200
    assert (await call(http, simulator_server, own, cfg.partner_all_key))[0] == 403
    it.restore_consent(first)

    it.revoke_key(cfg.partner_all_key)
    status, body = await call(http, simulator_server, it_paths.ORGANIZATIONS, cfg.partner_all_key)
    assert (status, body["detail"]) == (401, "The API key has been revoked.")
    assert (await call(http, simulator_server, inventory, cfg.partner_all_key))[0] == 401
    it.restore_key(cfg.partner_all_key)
    assert (await call(http, simulator_server, inventory, cfg.partner_all_key))[0] == 200
    with pytest.raises(KeyError):
        it.revoke_key("AK1/never/issued")


async def test_inventory_tree(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    key = it.config.partner_all_key
    trees = []
    for org in it.organizations:
        status, body = await call(
            http, simulator_server, it_paths.INVENTORY.format(organization_id=org.id), key
        )
        assert status == 200
        assert isinstance(body["offset"], int)
        trees.append(body["inventoryObjects"])
    objects = trees[0]
    kinds = Counter(o["inventoryObjectType"] for o in objects)
    assert kinds["Organization"] == 1
    assert objects[0] == {
        "inventoryObjectType": "Organization",
        "id": it.organizations[0].id,
        "label": "Flamingo Inc.",
        "address": "Silcon Alle 1, 6000 Kolding, Denmark",
    }
    locations = {o["id"]: o for o in objects if o["inventoryObjectType"] == "Location"}
    devices = {o["id"]: o for o in objects if o["inventoryObjectType"] == "Device"}
    # The first organization has no building level, the second one has.
    assert Counter(loc["type"] for loc in locations.values()) == {"SITE": 1, "ROOM": 2, "RACK": 4}
    assert {o["type"] for o in trees[1] if o["inventoryObjectType"] == "Location"} == {
        "SITE",
        "BUILDING",
        "ROOM",
        "RACK",
    }
    for location in locations.values():
        assert (location["parentId"] is None) == (location["type"] == "SITE")
    types = Counter(d["type"] for d in devices.values())
    assert types == {
        "UPS": 5,
        "RPDU": 4,
        "PDU_BANK": 8,
        "OUTLET": 32,
        "COOLING": 2,
        "ENVIRONMENTAL_MONITOR": 2,
    }
    # A composite PDU: banks under the PDU, outlets under a bank, all in the PDU's rack.
    for device in devices.values():
        if device["type"] == "PDU_BANK":
            pdu = devices[device["parentId"]]
            assert pdu["type"] == "RPDU"
            assert device["locationId"] == pdu["locationId"]
        if device["type"] == "OUTLET":
            assert devices[device["parentId"]]["type"] == "PDU_BANK"
            assert "modelName" not in device
        if device["type"] in ("UPS", "RPDU") and device["locationId"]:
            assert locations[device["locationId"]]["type"] == "RACK"
        assert "serialNumber" in device
        assert isinstance(device["gatewayIds"], list)
    unplaced = [d for d in devices.values() if d["locationId"] is None and d["parentId"] is None]
    assert len(unplaced) == 1
    assert unplaced[0]["gatewayIds"] == []
    assert any(d.get("serialNumber") is None and "modelName" in d for t in trees for d in t)


async def test_sensors_and_device_ancestors(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[0]
    key = it.config.customer_key
    _, body = await call(
        http, simulator_server, it_paths.SENSORS.format(organization_id=org.id), key
    )
    sensors = body["sensors"]
    assert {s["deviceId"] for s in sensors} <= set(org.devices)
    by_type = {(s["type"], s["unit"], s["valueType"]) for s in sensors}
    for expected in (
        ("LOAD", "%", "NUMERIC"),
        ("BATTERY_CHARGE", "%", "NUMERIC"),
        ("RUNTIME", "min", "NUMERIC"),
        ("POWER", "W", "NUMERIC"),
        ("VOLTAGE", "V", "NUMERIC"),
        ("STATUS", None, "STRING"),
        ("CURRENT", "A", "NUMERIC"),
        ("ENERGY", "kWh", "NUMERIC"),
        ("OUTLET_STATE", None, "STRING"),
        ("TEMPERATURE", "°C", "NUMERIC"),
        ("FAN_SPEED", "%", "NUMERIC"),
        ("HUMIDITY", "%", "NUMERIC"),
        ("DEW_POINT", "°C", "NUMERIC"),
        ("AIRFLOW", "m³/h", "NUMERIC"),
    ):
        assert expected in by_type
    assert len({s["id"] for s in sensors}) == len(sensors)

    outlet = next(d for d in org.devices.values() if d.type == "OUTLET")
    path = it_paths.DEVICE.format(organization_id=org.id, device_id=outlet.id)
    status, body = await call(http, simulator_server, path, key)
    assert status == 200
    assert body["device"]["id"] == outlet.id
    chain = [(a["inventoryObjectType"], a.get("type")) for a in body["ancestors"]]
    assert chain == [
        ("Device", "PDU_BANK"),
        ("Device", "RPDU"),
        ("Location", "RACK"),
        ("Location", "ROOM"),
        ("Location", "SITE"),
        ("Organization", None),
    ]
    unplaced = next(d for d in org.devices.values() if d.location_id is None)
    path = it_paths.DEVICE.format(organization_id=org.id, device_id=unplaced.id)
    _, body = await call(http, simulator_server, path, key)
    assert [a["inventoryObjectType"] for a in body["ancestors"]] == ["Organization"]
    path = it_paths.DEVICE.format(organization_id=org.id, device_id="no-such-device")
    status, body = await call(http, simulator_server, path, key)
    assert (status, body["title"]) == (404, "Not Found")


async def test_inventory_and_sensor_changes_page_and_delete(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[0]
    key = it.config.customer_key
    _, snapshot = await call(
        http, simulator_server, it_paths.INVENTORY.format(organization_id=org.id), key
    )
    _, sensor_snapshot = await call(
        http, simulator_server, it_paths.SENSORS.format(organization_id=org.id), key
    )
    start, sensors_start = snapshot["offset"], sensor_snapshot["offset"]
    # Nothing happened: the same offset comes back.
    assert await changes(
        http,
        simulator_server,
        it_paths.INVENTORY_CHANGES,
        org.id,
        key,
        start,
        "inventoryObjectChanges",
    ) == (start, [], 1)

    ups = next(d for d in org.devices.values() if d.type == "UPS")
    it.rename_device(ups.id, "UPS – salle serveurs")
    rack = next(loc for loc in org.locations.values() if loc.type == "RACK")
    added = it.add_device(org.id, "RPDU", location_id=rack.id, label="New PDU")
    assert [d.type for d in added] == ["RPDU", "PDU_BANK", "PDU_BANK", *["OUTLET"] * 8]
    offset, found, pages = await changes(
        http,
        simulator_server,
        it_paths.INVENTORY_CHANGES,
        org.id,
        key,
        start,
        "inventoryObjectChanges",
    )
    assert (offset, pages) == (start + 12, 4)  # 12 changes, five a page, then caught up
    assert found[0]["inventoryObject"]["label"] == "UPS – salle serveurs"
    assert [c["inventoryObject"]["id"] for c in found[1:]] == [d.id for d in added]

    sensors_added = sum(len(d.sensors) for d in added)
    offset, sensor_found, _ = await changes(
        http, simulator_server, it_paths.SENSOR_CHANGES, org.id, key, sensors_start, "sensorChanges"
    )
    assert len(sensor_found) == sensors_added == 2 + 2 + 8 * 3
    assert all("sensor" in c for c in sensor_found)

    removed = it.remove_device(added[0].id)
    assert set(removed) == {d.id for d in added}
    assert removed[-1] == added[0].id  # children first
    _, found, _ = await changes(
        http,
        simulator_server,
        it_paths.INVENTORY_CHANGES,
        org.id,
        key,
        start + 12,
        "inventoryObjectChanges",
    )
    assert found == [{"inventoryObjectId": device_id} for device_id in removed]
    extra = it.add_sensor(ups.id, "Inlet temperature", "TEMPERATURE", "°C")
    it.remove_sensor(extra.id)
    _, sensor_found, _ = await changes(
        http, simulator_server, it_paths.SENSOR_CHANGES, org.id, key, offset, "sensorChanges"
    )
    assert len(sensor_found) == sensors_added + 2
    assert sensor_found[-2]["sensor"]["id"] == extra.id
    assert sensor_found[-1] == {"sensorId": extra.id}
    # The snapshot agrees with what the changes said.
    _, body = await call(
        http, simulator_server, it_paths.SENSORS.format(organization_id=org.id), key
    )
    assert len(body["sensors"]) == len(sensor_snapshot["sensors"])

    bad = it_paths.ALARM_CHANGES.format(organization_id=org.id, offset="-1")
    status, problem = await call(http, simulator_server, bad, key)
    assert (status, problem["title"]) == (400, "Bad Request")
    ahead = it_paths.ALARM_CHANGES.format(organization_id=org.id, offset=10**12)
    assert (await call(http, simulator_server, ahead, key))[1] == {"offset": 10**12, "alarms": []}


async def test_changes_older_than_a_day_are_gone(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[0]
    key = it.config.customer_key
    start = it.state(org.id).inventory.offset
    device = next(iter(org.devices.values()))
    it.rename_device(device.id, "Renamed")
    it.advance(timedelta(hours=23))
    it.rename_device(device.id, "Renamed again")
    it.advance(timedelta(hours=2))
    offset, found, _ = await changes(
        http,
        simulator_server,
        it_paths.INVENTORY_CHANGES,
        org.id,
        key,
        start,
        "inventoryObjectChanges",
    )
    # The first rename is older than the retention: an old offset silently misses it.
    assert [c["inventoryObject"]["label"] for c in found] == ["Renamed again"]
    assert offset == start + 2


async def test_repeated_changes_apply_idempotently(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[2]
    key = it.config.partner_all_key
    inventory_path = it_paths.INVENTORY.format(organization_id=org.id)
    _, snapshot = await call(http, simulator_server, inventory_path, key)
    local = {o["id"]: o for o in snapshot["inventoryObjects"]}
    it.repeat_changes = True
    pdu = it.add_device(org.id, "RPDU")[0]
    it.remove_device(pdu.id)
    it.rename_device(next(iter(org.devices)), "Renamed")
    offset, pages, seen = snapshot["offset"], 0, 0
    last: dict[str, Any] = {}
    while True:
        path = it_paths.INVENTORY_CHANGES.format(organization_id=org.id, offset=offset)
        _, body = await call(http, simulator_server, path, key)
        page = body["inventoryObjectChanges"]
        if pages:
            assert page[0] == last  # the last change of the previous page, again
        for change in page:
            seen += 1
            if "inventoryObject" in change:
                local[change["inventoryObject"]["id"]] = change["inventoryObject"]
            else:
                local.pop(change["inventoryObjectId"], None)
            last = change
        pages += 1
        if body["offset"] == offset:
            break
        offset = body["offset"]
    _, after = await call(http, simulator_server, inventory_path, key)
    assert local == {o["id"]: o for o in after["inventoryObjects"]}
    assert offset == snapshot["offset"] + 11 + 11 + 1
    assert seen == 23 + pages - 1  # every page after the first repeated one change


async def test_eventual_consistency(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[1]
    key = it.config.partner_specific_key
    start = it.state(org.id).inventory.offset
    room = next(loc for loc in org.locations.values() if loc.type == "ROOM")
    device = it.add_device(
        org.id, "COOLING", location_id=room.id, listed_after=timedelta(minutes=10)
    )[0]
    alarm_id = it.raise_alarm(org.id, device.id, severity="CRITICAL", label="Fan failure")
    _, alarms = await call(
        http, simulator_server, it_paths.ALARMS.format(organization_id=org.id), key
    )
    alarm = next(a for a in alarms["alarms"] if a["id"] == alarm_id)
    assert alarm["deviceId"] == device.id
    assert device.id not in org.devices  # named by an alarm, not listed yet
    path = it_paths.DEVICE.format(organization_id=org.id, device_id=device.id)
    assert (await call(http, simulator_server, path, key))[0] == 404

    it.advance(timedelta(minutes=10))
    assert (await call(http, simulator_server, path, key))[0] == 200
    _, found, _ = await changes(
        http,
        simulator_server,
        it_paths.INVENTORY_CHANGES,
        org.id,
        key,
        start,
        "inventoryObjectChanges",
    )
    assert [c["inventoryObject"]["id"] for c in found] == [device.id]


async def test_alarms_evolve_with_the_clock(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    org = it.organizations[0]
    key = it.config.customer_key
    alarms_path = it_paths.ALARMS.format(organization_id=org.id)
    _, first = await call(http, simulator_server, alarms_path, key)
    now = it.now()
    assert first["alarms"]
    for alarm in first["alarms"]:
        assert alarm["deviceId"] in org.devices
        assert alarm["severity"] in {"INFO", "WARNING", "ERROR", "CRITICAL", "FAIL"}
        assert alarm["activatedTime"].endswith("Z")
    active = [a for a in first["alarms"] if a["clearedTime"] is None]
    assert len(active) < 6  # a few at a time; the rest cleared within the week

    local = {a["id"]: a for a in first["alarms"]}
    it.advance(timedelta(hours=6))
    offset, found, _ = await changes(
        http, simulator_server, it_paths.ALARM_CHANGES, org.id, key, first["offset"], "alarms"
    )
    raised = [a for a in found if a["id"] not in local]
    assert len(raised) >= 4  # about two an hour
    assert any(a["clearedTime"] is not None for a in found)
    for alarm in found:
        local[alarm["id"]] = alarm
    _, second = await call(http, simulator_server, alarms_path, key)
    assert second["offset"] == offset
    for alarm in second["alarms"]:
        assert local[alarm["id"]] == alarm  # the snapshot agrees with the changes

    manual = it.raise_alarm(org.id, next(iter(org.devices)), severity="WARNING", message="Hot")
    it.clear_alarm(manual)
    it.clear_alarm(manual)  # already cleared: no second change
    _, found, _ = await changes(
        http, simulator_server, it_paths.ALARM_CHANGES, org.id, key, offset, "alarms"
    )
    assert [(a["id"], a["clearedTime"] is None) for a in found] == [(manual, True), (manual, False)]

    # A week and a day later the first snapshot's alarms have aged out (never deleted).
    it.advance(timedelta(days=8))
    _, third = await call(http, simulator_server, alarms_path, key)
    assert not {a["id"] for a in third["alarms"]} & set(local)
    assert all(a["clearedTime"] is None or a["clearedTime"] > "2026-06-" for a in third["alarms"])
    assert it.now() - now > 8 * 86_400


async def test_faults_on_it_paths(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    key = it.config.customer_key
    url = simulator_server.it_base_url + it_paths.ORGANIZATIONS
    it.faults.add(status=429, retry_after="7", path="/rest/v1/organizations$", count=1)
    # Faults apply before the key is checked, like the service's gateway.
    async with http.get(url) as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "7")
        assert (await response.json())["title"] == "Too Many Requests"
    it.faults.add(status=503, path="/rest/v1/", count=1)
    async with http.get(url, headers=bearer(key)) as response:
        assert response.status == 503
        assert "Retry-After" not in response.headers
    it.faults.add(body="non_json", path="organizations", count=1)
    async with http.get(url, headers=bearer(key)) as response:
        assert (response.status, response.content_type) == (200, "text/html")
    it.faults.add(body="truncated", path="organizations", count=1)
    async with http.get(url, headers=bearer(key)) as response:
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            await response.json()
    it.faults.add(body="drop", path="organizations")  # the client's retry is dropped too
    with pytest.raises(aiohttp.ClientError):
        async with http.get(url, headers=bearer(key)) as response:
            await response.read()
    it.faults.clear()
    # A rule for IT paths leaves the Facility Expert API alone, and the other way round.
    it.faults.add(status=500, path="^/rest/")
    sim = simulator_server.simulator
    fe_auth = {
        "Authorization": sim.config.subscription_key,
        "apikey": sim.config.technical_token,
    }
    async with http.get(simulator_server.base_url + "/sites", headers=fe_auth) as response:
        assert response.status == 200
    async with http.get(url, headers=bearer(key)) as response:
        assert response.status == 500
    it.faults.clear()
    async with http.get(url, headers=bearer(key)) as response:
        assert response.status == 200
    assert it.stats.requests >= 8
    assert sim.stats.requests == 1  # the Facility Expert side saw only its own request


async def test_control_routes(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    control = simulator_server.control_url + "/it"
    org = it.organizations[0]
    key = it.config.customer_key
    async with http.get(control) as response:
        state = await response.json()
    assert [o["label"] for o in state["organizations"]][:1] == ["Flamingo Inc."]
    assert state["organizations"][-1]["demo"] is True
    assert {k["kind"] for k in state["keys"]} == {kind.value for kind in KeyKind}
    assert it.config.customer_key not in str(state)  # no secret on the control endpoint

    async with http.post(f"{control}/keys/customer/revoke") as response:
        assert (await response.json()) == {"kind": "customer", "revoked": True}
    assert (await call(http, simulator_server, it_paths.ORGANIZATIONS, key))[0] == 401
    async with http.post(f"{control}/keys/customer/restore") as response:
        assert response.status == 200
    async with http.post(f"{control}/keys/nobody/restore") as response:
        assert response.status == 400
    async with http.post(f"{control}/organizations/{org.id}/consent/revoke") as response:
        assert (await response.json())["consent"] is False
    _, ids = await call(http, simulator_server, it_paths.ORGANIZATIONS, it.config.partner_all_key)
    assert org.id not in ids
    async with http.post(f"{control}/organizations/{org.id}/consent/restore") as response:
        assert response.status == 200
    async with http.post(f"{control}/organizations/unknown/consent/revoke") as response:
        assert response.status == 404

    rack = next(loc for loc in org.locations.values() if loc.type == "RACK")
    async with http.post(
        f"{control}/organizations/{org.id}/devices", json={"type": "UPS", "locationId": rack.id}
    ) as response:
        device = (await response.json())["devices"][0]
    assert device["id"] in org.devices
    assert len(device["sensors"]) == 6
    async with http.post(f"{control}/organizations/{org.id}/devices", json={"type": "X"}) as r:
        assert r.status == 400
    async with http.patch(f"{control}/devices/{device['id']}", json={"label": "Renamed"}) as r:
        assert r.status == 200
    assert org.devices[device["id"]].label == "Renamed"
    async with http.post(
        f"{control}/devices/{device['id']}/sensors",
        json={"label": "Mode", "type": "MODE", "unit": None, "valueType": "STRING"},
    ) as response:
        sensor = await response.json()
    assert sensor["valueType"] == "STRING"
    async with http.delete(f"{control}/sensors/{sensor['id']}") as response:
        assert response.status == 200
    async with http.delete(f"{control}/sensors/{sensor['id']}") as response:
        assert response.status == 404
    async with http.post(
        f"{control}/organizations/{org.id}/alarms",
        json={"deviceId": device["id"], "severity": "ERROR", "label": "Overload"},
    ) as response:
        alarm_id = (await response.json())["id"]
    assert any(a.id == alarm_id and a.severity == "ERROR" for a in it.alarms(org.id))
    async with http.delete(f"{control}/alarms/{alarm_id}") as response:
        assert response.status == 200
    async with http.post(f"{control}/organizations/{org.id}/alarms", json={}) as response:
        assert response.status == 400  # deviceId is required
    async with http.delete(f"{control}/devices/{device['id']}") as response:
        assert (await response.json())["removed"] == [device["id"]]
    async with http.post(
        f"{control}/measurements",
        json={
            "sensorId": "sen-x",
            "value": 1.5,
            "organizationId": org.id,
            "timestamp": "2026-06-15T09:00:00Z",
        },
    ) as response:
        assert (await response.json())["line"] == it.state(org.id).measurements.last
    async with http.post(f"{control}/measurements", json={"sensorId": "sen-x", "value": 1}) as r:
        assert r.status == 404  # an unknown sensor needs its organization
    async with http.post(f"{control}/streams/drop", json={"midLine": True}) as response:
        assert (await response.json()) == {"dropped": 0}
    async with http.post(f"{control}/streams/rate-limit", json={}) as response:
        assert (await response.json()) == {"rateLimited": 0}
    async with http.post(f"{control}/changes", json={"repeat": True}) as response:
        assert (await response.json()) == {"repeat": True}
    assert it.repeat_changes is True
    async with http.get(control) as response:
        state = await response.json()
    assert state["stats"]["byOperation"] == {"listOrganizations": 2}


async def test_the_command_serves_it_expert(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--sites",
        "1",
        "--assets",
        "8",
        "--it-organizations",
        "2",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl-C"):
            lines.append((await asyncio.wait_for(process.stdout.readline(), 30)).decode())
        base_url = next(line for line in lines if line.startswith("IT Expert API:")).split()[-1]
        key_line = next(line for line in lines if "partner-all key:" in line)
        key = key_line.split("key: ", 1)[1].split("  (", 1)[0]
        async with (
            aiohttp.ClientSession() as session,
            session.get(base_url + it_paths.ORGANIZATIONS, headers=bearer(key)) as response,
        ):
            assert response.status == 200
            assert len(await response.json()) == 2
        assert sum("organization " in line for line in lines) == 3  # and the demo one
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
