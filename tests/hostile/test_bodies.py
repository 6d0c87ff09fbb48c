"""Answers too large to hold: read against a cap while they arrive, never whole."""

from collections.abc import AsyncIterator
import json

import aiohttp
from aiohttp import web
import pytest

from custom_components.ecostruxure.api import (
    FacilityExpertClient,
    InvalidRequestError,
    InvalidResponseError,
    ITExpertClient,
)

from .bombs import gzip_bomb, measure
from .server import Handler, HostileServer

GIB = 1024**3


def answer(body: bytes, *, status: int = 200, gzip: bool = False) -> Handler:
    headers = {"Content-Type": "application/json"}
    if gzip:
        headers["Content-Encoding"] = "gzip"

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers=headers)

    return handle


@pytest.fixture(scope="module")
def one_gib_bomb() -> bytes:
    return gzip_bomb(GIB, fill=b" ")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_body_over_the_cap_is_refused(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    big = json.dumps({"items": ["x" * 1000] * 3000}).encode()  # 3 MB, valid JSON
    hostile.on(r"/sites$", answer(big))
    hostile.on(r"/organizations$", answer(big))
    fe = FacilityExpertClient(session, "k", "t", base_url=hostile.base_url, max_body_bytes=2**20)
    with pytest.raises(InvalidResponseError, match="larger than 1 MiB"):
        await fe.list_sites()
    it = ITExpertClient(session, "key", base_url=hostile.base_url, max_body_bytes=2**20)
    with pytest.raises(InvalidResponseError, match="larger than 1 MiB"):
        await it.organizations()


async def test_a_gzip_bomb_stops_at_the_cap(
    hostile: HostileServer, session: aiohttp.ClientSession, one_gib_bomb: bytes
) -> None:
    """1 GiB of spaces, 1 MB on the wire: refused at 32 MiB, with little memory."""
    hostile.on(r"/sites$", answer(one_gib_bomb, gzip=True))
    client = FacilityExpertClient(session, "k", "t", base_url=hostile.base_url)
    cost, error = await measure(client.list_sites)
    assert isinstance(error, InvalidResponseError)
    assert "larger than 32 MiB" in str(error)
    assert cost.rss_growth_mib < 100  # the 32 MiB read, and what aiohttp buffers


async def test_a_ten_gib_bomb_raises_no_memory_error(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    hostile.on(r"/organizations$", answer(gzip_bomb(10 * GIB), gzip=True))
    client = ITExpertClient(session, "key", base_url=hostile.base_url)
    cost, error = await measure(client.organizations)
    assert isinstance(error, InvalidResponseError)
    assert cost.rss_growth_mib < 100


async def test_an_error_body_is_cut_short(
    hostile: HostileServer, session: aiohttp.ClientSession, one_gib_bomb: bytes
) -> None:
    """A problem is a few hundred bytes: only its first 64 KiB are read, the error stays."""
    hostile.on(r"/sites$", answer(one_gib_bomb, status=400, gzip=True))
    client = FacilityExpertClient(session, "k", "t", base_url=hostile.base_url)
    cost, error = await measure(client.list_sites)
    assert isinstance(error, InvalidRequestError)
    assert error.status == 400
    assert cost.rss_growth_mib < 20
