"""orjson decodes answers when installed: what it refuses reads as the standard library reads it."""

from collections.abc import Awaitable, Callable
import json
import sys
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ecostruxure.api import (
    FacilityExpertClient,
    InvalidResponseError,
    LatestValue,
    json_reading,
)
from simulator import SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .server import HostileServer


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """One small site."""
    return quiet(SimulatorConfig(seed=7, sites=1, assets_per_site=8))


def raw(
    server: HostileServer, spoil: Callable[[Any], str]
) -> Callable[[web.Request], Awaitable[Any]]:
    """A rule's handler: the simulator's answer, written back as text by `spoil`."""

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
        return web.Response(text=spoil(body), content_type="application/json")

    return handler


def _spoil(body: Any) -> str:
    """NaN, infinity, integers past 64 bits (value, id), a lone surrogate: none orjson takes."""
    values = body["values"]
    values[0]["value"] = float("nan")
    values[1]["value"] = float("inf")
    values[2]["value"] = 10**25  # past 64 bits, within a double
    values[3]["measurementId"] = 2**64 + 1  # an id no reader takes, integer or float
    values[4]["assetId"] = "\ud800"
    # json.dumps writes NaN and Infinity as the bare words, and the surrogate as \ud800.
    return json.dumps(body)


async def _read(server: HostileServer, sim: SimulatorServer) -> list[LatestValue]:
    async with aiohttp.ClientSession() as session:
        client = FacilityExpertClient(
            session,
            subscription_key=sim.simulator.config.subscription_key,
            technical_token=sim.simulator.config.technical_token,
            base_url=server.base_url,
        )
        return await client.get_latest_values(sim.simulator.sites[0].id)


async def test_what_orjson_refuses_reads_as_without_it(
    hostile_proxy: HostileServer,
    simulator_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert json_reading._FAST_LOADS is not None  # orjson ships with Home Assistant
    site = simulator_server.simulator.sites[0].id
    hostile_proxy.on(rf"/sites/{site}/measurements/latest$", raw(hostile_proxy, _spoil))
    genuine = await _read(hostile_proxy, simulator_server)
    monkeypatch.setattr(json_reading, "_FAST_LOADS", None)
    standard = await _read(hostile_proxy, simulator_server)
    assert genuine == standard
    by_id = {v.measurement_id: v for v in genuine}
    assert len(genuine) > 5
    assert genuine[0].value is None  # NaN: missing, the rest of the answer kept
    assert genuine[1].value is None  # infinite: missing
    assert genuine[2].value == 1e25
    assert len(by_id) == len(genuine)  # the item with the huge id: skipped
    assert genuine[3].asset_id == "\ud800"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1] x",
        "[" * 100_000 + "]" * 100_000,  # too deep for either decoder
    ],
)
async def test_a_body_that_is_not_json_is_refused_as_before(
    hostile_proxy: HostileServer, simulator_server: SimulatorServer, text: str
) -> None:
    site = simulator_server.simulator.sites[0].id
    hostile_proxy.on(rf"/sites/{site}/measurements/latest$", raw(hostile_proxy, lambda _: text))
    with pytest.raises(InvalidResponseError, match="not JSON"):
        await _read(hostile_proxy, simulator_server)


def test_without_orjson_the_standard_library_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # import fails
    assert json_reading._fast_loads() is None
    monkeypatch.setattr(json_reading, "_FAST_LOADS", None)
    assert json_reading.decode_json(b'{"a": NaN, "a": 1}') == {"a": 1}
