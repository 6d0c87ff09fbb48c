"""Serve each bomb of issue 13 on loopback and print what it costs the client.

Not a test: figures for the README's "Security and limits". Each bomb runs in a process of
its own (a fresh peak RSS, and a MemoryError cannot take the others down): a hostile server
and the client share its event loop, with a ticker measuring the longest stall.
    scripts/hostile_probe [--only NAME ...]
"""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
import gzip
import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
from aiohttp import web

from custom_components.ecostruxure.api import FacilityExpertClient, ITExpertClient
from custom_components.ecostruxure.api.pacing import MAX_RETRY_AFTER
from custom_components.ecostruxure.api.redact import MAX_TEXT
from custom_components.ecostruxure.api.transport import (
    DEFAULT_MAX_BODY_BYTES,
    MAX_ERROR_BODY_BYTES,
    STREAM_MAX_BYTES_PER_SECOND,
    STREAM_MAX_LINE,
    STREAM_YIELD_BYTES,
    STREAM_YIELD_LINES,
)
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from custom_components.ecostruxure.topology import parents_first
from tests.hostile.bombs import Cost, gzip_bomb, measure
from tests.hostile.server import HostileServer

MIB = 1024 * 1024
GIB = 1024 * MIB
ORG = "org"
TIMEOUT = 300.0

type Body = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(body: bytes, *, gzipped: bool = False) -> Body:
    headers = {"Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers=headers)

    return handle


def _stream(body: bytes, *, gzipped: bool) -> Body:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        await response.prepare(request)
        for start in range(0, len(body), MIB):
            await response.write(body[start : start + MIB])
        return response

    return handle


async def _drain(readings: Any) -> None:
    async for _ in readings:
        pass


async def _bomb(name: str) -> Cost:
    """Serve bomb `name`, run the client against it, and measure."""
    async with HostileServer() as server, aiohttp.ClientSession() as session:
        fe = FacilityExpertClient(
            session, "probe-subscription", "probe-token", base_url=server.base_url
        )
        it = ITExpertClient(session, "AK1/probe-key", base_url=server.base_url)
        run: Callable[[], Awaitable[object]]
        if name in ("gzip-1GiB", "gzip-10GiB"):
            size = GIB if name == "gzip-1GiB" else 10 * GIB
            server.on(r"/sites$", _answer(gzip_bomb(size, fill=b" "), gzipped=True))
            run = fe.list_sites
        elif name == "page-5M-items":
            items = b",".join(b'{"id":"s%d"}' % i for i in range(5_000_000))
            page = b'{"sites":[' + items + b'],"totalCount":5000000}'
            server.on(r"/sites$", _answer(gzip.compress(page, 1), gzipped=True))
            del items, page
            run = fe.list_sites
        elif name == "stream-16M-empty-lines":
            server.on(r"/live$", _stream(gzip.compress(b"\n" * (16 * MIB), 9), gzipped=True))
            run = lambda: _drain(it.live_measurements(ORG))  # noqa: E731
        elif name == "deep-chain-10000":
            depth = 10_000
            chain = [
                {"id": f"l{i}", "type": "ROOM" if i == 0 else "FLOOR", "label": f"L{i}"}
                | ({"parentId": f"l{i - 1}"} if i else {})
                for i in reversed(range(depth))
            ]
            inventory = {"offset": 1, "inventoryObjects": chain}
            server.on(r"/inventory$", _answer(json.dumps(inventory).encode()))

            async def topology() -> None:
                snapshot = await it.inventory(ORG)
                objects = {o.id: o for o in snapshot.items}

                def parent(item: Any) -> str | None:
                    return item.parent_id if item.parent_id in objects else None

                ordered = parents_first(objects.values(), key=lambda o: o.id, parent=parent)
                for item in ordered:  # what room_of/area_of do for every entity
                    current: Any = item
                    seen: set[str] = set()
                    while current is not None and current.id not in seen:
                        seen.add(current.id)
                        current = objects.get(parent(current) or "")
                    await asyncio.sleep(0)

            run = topology
        elif name == "site-name-10MB":
            site = {"id": "s1", "name": "N" * (10 * 1000 * 1000), "connectionStatus": "ok"}
            server.on(r"/sites$", _answer(json.dumps({"sites": [site], "totalCount": 1}).encode()))
            run = fe.list_sites
        elif name == "unknown-sensors-4000x256KB":
            now = datetime.now(UTC).isoformat()
            text = "t" * (256 * 1024)
            lines = b"".join(
                json.dumps({"sensorId": f"x{i}", "timestamp": now, "stringValue": text}).encode()
                + b"\n"
                for i in range(4000)
            )
            server.on(r"/live$", _stream(gzip.compress(lines, 1), gzipped=True))
            del lines
            # 1 GiB at the stream's rate bound would take minutes: lifted to see the memory.
            it._transport._stream_rate = float("inf")  # noqa: SLF001
            loop = asyncio.get_running_loop()
            hass = SimpleNamespace(loop=loop, async_create_background_task=loop.create_task)
            stream = MeasurementStream(cast(Any, hass), it, ORG)

            async def keep() -> None:
                await stream.live.read_until_dropped()
                stream.live.stop()

            run = keep
        else:
            raise SystemExit(f"unknown bomb {name}")

        async def bounded() -> object:
            async with asyncio.timeout(TIMEOUT):
                return await run()

        cost, _ = await measure(bounded)
        return cost


BOMBS = (
    "gzip-1GiB",
    "gzip-10GiB",
    "page-5M-items",
    "stream-16M-empty-lines",
    "deep-chain-10000",
    "site-name-10MB",
    "unknown-sensors-4000x256KB",
)


def main() -> None:
    """Run every bomb (or those named) in its own process; print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=BOMBS, default=list(BOMBS))
    parser.add_argument("--bomb", choices=BOMBS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bomb:
        print(json.dumps(asdict(asyncio.run(_bomb(args.bomb)))))
        return
    print("Caps:")
    print(f"  REST body (decoded)      {DEFAULT_MAX_BODY_BYTES // MIB} MiB")
    print(f"  error body read          {MAX_ERROR_BODY_BYTES // 1024} KiB")
    print(f"  text from an answer      {MAX_TEXT} characters (secrets redacted)")
    print(f"  Retry-After              {MAX_RETRY_AFTER:g} s")
    print(f"  stream line              {STREAM_MAX_LINE // MIB} MiB")
    print(f"  stream rate (decoded)    {STREAM_MAX_BYTES_PER_SECOND / MIB:g} MiB/s")
    print(
        f"  stream yields every      {STREAM_YIELD_LINES} lines or {STREAM_YIELD_BYTES // 1024} KiB"
    )
    print()
    print(f"{'bomb':30} {'outcome':24} {'peak RSS +MiB':>14} {'longest stall ms':>17}")
    for name in args.only:
        done = subprocess.run(
            [sys.executable, "-m", "scripts.hostile_probe", "--bomb", name],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            cost = Cost(**json.loads(done.stdout.strip().splitlines()[-1]))
        except IndexError, ValueError:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{name:30} {'crashed: ' + tail[:60]}")
            continue
        print(
            f"{name:30} {cost.outcome:24} {cost.rss_growth_mib:14.1f} {cost.longest_stall_ms:17.0f}"
        )


if __name__ == "__main__":
    main()
