"""The hostile server itself: rules first, then the simulator behind it."""

import aiohttp
from aiohttp import web

from simulator import SimulatorServer

from .server import HostileServer


async def test_rules_answer_first_then_the_simulator(
    hostile_proxy: HostileServer, simulator_server: SimulatorServer
) -> None:
    async def teapot(request: web.Request) -> web.Response:
        return web.Response(status=418, text="teapot")

    hostile_proxy.on(r"/sites$", teapot)
    config = simulator_server.simulator.config
    headers = {"Authorization": config.subscription_key, "apikey": config.technical_token}
    async with aiohttp.ClientSession() as session:
        async with session.get(hostile_proxy.base_url + "/sites", headers=headers) as answer:
            assert answer.status == 418
        site = simulator_server.simulator.sites[0].id
        async with session.get(hostile_proxy.base_url + f"/sites/{site}", headers=headers) as r:
            assert r.status == 200
            assert (await r.json())["id"] == site
    assert [seen.path.rsplit("/", 1)[-1] for seen in hostile_proxy.seen] == ["sites", site]
    assert hostile_proxy.seen[0].headers["apikey"] == config.technical_token


async def test_without_upstream_unknown_paths_are_404(hostile: HostileServer) -> None:
    async with aiohttp.ClientSession() as session, session.get(hostile.base_url + "/x") as r:
        assert r.status == 404
