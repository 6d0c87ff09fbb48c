"""The simulator speaks the documented protocol: auth headers, RFC 7807, limits, validation."""

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.ecostruxure.api.facility_expert import paths
from simulator import Simulator, SimulatorServer


async def get(
    http: aiohttp.ClientSession,
    server: SimulatorServer,
    path: str,
    headers: dict[str, str],
    **params: Any,
) -> tuple[int, str, dict[str, Any], aiohttp.ClientResponse]:
    async with http.get(server.base_url + path, headers=headers, params=params) as response:
        return response.status, response.content_type, await response.json(), response


async def test_both_headers_are_checked(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    status, content_type, body, _ = await get(http, simulator_server, paths.SITES, auth)
    assert status == 200
    assert body["totalCount"] == 3
    for missing in auth:
        headers = {name: value for name, value in auth.items() if name != missing}
        status, content_type, body, _ = await get(http, simulator_server, paths.SITES, headers)
        assert (status, content_type, body["title"]) == (
            401,
            "application/problem+json",
            "APIKeyMissing",
        )
        assert body["status"] == 401
        assert body["type"].startswith("https://")
        wrong = {**auth, missing: "nope"}
        status, _, body, _ = await get(http, simulator_server, paths.SITES, wrong)
        assert (status, body["title"]) == (401, "APIKeyInvalid")
    # Sent with a "Bearer" prefix the key is wrong: the service wants it raw.
    prefixed = {**auth, "Authorization": "Bearer " + auth["Authorization"]}
    status, _, _, _ = await get(http, simulator_server, paths.SITES, prefixed)
    assert status == 401


async def test_account_states(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim = simulator_server.simulator
    sim.disable_account()
    status, _, body, _ = await get(http, simulator_server, paths.SITES, auth)
    assert (status, body["title"]) == (403, "UserDisabled")
    sim.disable_account(False)
    sim.set_wrong_datacenter()
    status, _, body, _ = await get(http, simulator_server, paths.SITES, auth)
    assert (status, body["title"]) == (403, "WrongDatacenter")


async def test_the_eleventh_simultaneous_connection_is_refused(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim = simulator_server.simulator
    sim.faults.add(latency=0.3)
    connector = aiohttp.TCPConnector(limit=20)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await asyncio.gather(
            *(get(session, simulator_server, paths.SITES, auth) for _ in range(11))
        )
    statuses = sorted(status for status, *_ in results)
    assert statuses == [200] * 10 + [429]
    refused = next(r for status, _, _, r in results if status == 429)
    assert refused.headers["Retry-After"] == "1"
    assert sim.stats.peak_in_flight == 10
    assert sim.stats.rejected_busy == 1


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"limit": "0"}, {"limit"}),
        ({"limit": "201", "offset": "-1"}, {"limit", "offset"}),
        ({"offset": "x"}, {"offset"}),
    ],
)
async def test_bad_paging_parameters(
    http: aiohttp.ClientSession,
    simulator_server: SimulatorServer,
    auth: dict[str, str],
    params: dict[str, str],
    names: set[str],
) -> None:
    status, content_type, body, _ = await get(http, simulator_server, paths.SITES, auth, **params)
    assert (status, content_type) == (400, "application/problem+json")
    assert {error["name"] for error in body["errors"]} == names


async def test_time_series_parameters_are_validated(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    site_id = simulator_server.simulator.sites[0].id
    path = paths.TIME_SERIES.format(site_id=site_id)
    status, _, body, _ = await get(
        http, simulator_server, path, auth, **{"from": "2026-01-01T00:00:00", "interval": "week"}
    )
    assert status == 400
    assert {e["name"] for e in body["errors"]} == {"measurementId", "from", "to", "interval"}
    too_many = [("measurementId", str(n)) for n in range(21)]
    async with http.get(
        simulator_server.base_url + path,
        headers=auth,
        params=[*too_many, ("from", "2026-01-01T00:00:00Z"), ("to", "2026-01-02T00:00:00Z")],
    ) as response:
        assert response.status == 400


async def test_unknown_ids_paths_and_methods(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    site_id = simulator_server.simulator.sites[0].id
    for path in (
        paths.SITE.format(site_id="unknown"),
        paths.LATEST_VALUES.format(site_id=site_id) + "?assetId=unknown",
        "/no/such/path",
    ):
        async with http.get(simulator_server.base_url + path, headers=auth) as response:
            assert response.status == 404
            assert (await response.json())["title"] == "ResourceNotFound"
    async with http.post(simulator_server.base_url + paths.SITES, headers=auth) as response:
        assert response.status == 405
        assert response.content_type == "application/problem+json"
        assert (await response.json())["title"] == "MethodNotAllowed"


async def test_sites_are_paged(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    _, _, first, _ = await get(http, simulator_server, paths.SITES, auth, limit="2")
    _, _, second, _ = await get(http, simulator_server, paths.SITES, auth, limit="2", offset="2")
    assert (first["totalCount"], first["limit"], second["offset"]) == (3, 2, 2)
    ids = [s["id"] for s in first["sites"] + second["sites"]]
    assert ids == [site.id for site in simulator_server.simulator.sites]


async def test_control_endpoint(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim: Simulator = simulator_server.simulator
    control = simulator_server.control_url
    site_id = sim.sites[0].id
    alarms_path = paths.ALARMS.format(site_id=site_id)

    async with http.post(control + "/alarms", json={"type": "trip"}) as response:
        raised = await response.json()
    _, _, body, _ = await get(http, simulator_server, alarms_path, auth)
    assert raised["id"] in {alarm["id"] for alarm in body["alarms"]}
    async with http.delete(f"{control}/alarms/{raised['id']}") as response:
        assert response.status == 200
    _, _, body, _ = await get(http, simulator_server, alarms_path, auth)
    assert raised["id"] not in {alarm["id"] for alarm in body["alarms"]}

    async with http.post(control + "/faults", json={"status": 500, "count": 1}) as response:
        assert response.status == 200
    status, *_ = await get(http, simulator_server, paths.SITES, auth)
    assert status == 500
    async with http.post(control + "/faults", json={"status": 200}) as response:
        assert response.status == 400  # not an error status
    async with http.post(control + "/faults", json={"latency": 1}) as response:
        assert response.status == 200
    async with http.delete(control + "/faults") as response:
        assert (await response.json()) == {"faults": []}

    async with http.post(control + "/credentials", json={"technicalToken": "new"}) as response:
        assert (await response.json())["technicalToken"] == "new"
    status, *_ = await get(http, simulator_server, paths.SITES, auth)
    assert status == 401
    auth = {**auth, paths.HEADER_TECHNICAL_TOKEN: "new"}

    async with http.post(control + "/account", json={"disabled": True}) as response:
        assert (await response.json())["accountDisabled"] is True
    status, *_ = await get(http, simulator_server, paths.SITES, auth)
    assert status == 403
    async with http.post(control + "/account", json={"disabled": False}) as response:
        assert response.status == 200

    async with http.post(f"{control}/sites/{site_id}/remove") as response:
        assert response.status == 200
    _, _, body, _ = await get(http, simulator_server, paths.SITES, auth)
    assert body["totalCount"] == 2
    async with http.post(f"{control}/sites/{site_id}/restore") as response:
        assert response.status == 200
    async with http.post(f"{control}/sites/unknown/restore") as response:
        assert response.status == 404

    async with http.post(f"{control}/sites/{site_id}/assets", json={"kind": "room"}) as response:
        added = await response.json()
    _, _, body, _ = await get(http, simulator_server, paths.ASSETS.format(site_id=site_id), auth)
    assert added["id"] in {asset["id"] for asset in body["assets"]}
    async with http.post(f"{control}/sites/{site_id}/assets", json={"kind": "rocket"}) as r:
        assert r.status == 400

    before = sim.clock.now()
    async with http.post(control + "/clock", json={"advanceSeconds": 3600}) as response:
        assert response.status == 200
    assert sim.clock.now() - before == timedelta(hours=1)
    async with http.post(control + "/clock", data=b"not json") as response:
        assert response.status == 400

    async with http.get(control) as response:
        state = await response.json()
    assert state["frozen"] is True
    assert len(state["sites"]) == 3
    assert state["stats"]["requests"] == 7
    assert "sim-subscription-key" not in str(state)  # the control endpoint shows no secret
