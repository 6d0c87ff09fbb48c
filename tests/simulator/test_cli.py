"""`python -m simulator` serves the API until interrupted."""

import asyncio
from pathlib import Path
import signal
import sys

import aiohttp

from custom_components.ecostruxure.api.facility_expert import paths
from simulator.__main__ import main

ROOT = Path(__file__).parents[2]


async def test_the_command_serves_until_interrupted(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--sites",
        "2",
        "--assets",
        "10",
        "--technical-token",
        "cli-token",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        base_url = first.split(": ", 1)[1].strip()
        headers = {
            paths.HEADER_SUBSCRIPTION_KEY: "sim-subscription-key",
            paths.HEADER_TECHNICAL_TOKEN: "cli-token",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.get(base_url + paths.SITES, headers=headers) as response,
        ):
            assert response.status == 200
            assert (await response.json())["totalCount"] == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0  # a clean stop


def test_a_bad_fault_option_is_refused(capsys) -> None:
    assert main(["--fault", '{"status": 200}']) == 2
    assert "invalid --fault" in capsys.readouterr().err


def test_a_bad_variations_option_is_refused(capsys) -> None:
    assert main(["--variations", "small-pages,upside-down"]) == 2
    assert "invalid --variations" in capsys.readouterr().err


async def test_the_command_serves_the_variations_asked(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--sites",
        "3",
        "--variations",
        "bare-lists,page-cap=1",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        base_url = first.split(": ", 1)[1].strip()
        headers = {
            paths.HEADER_SUBSCRIPTION_KEY: "sim-subscription-key",
            paths.HEADER_TECHNICAL_TOKEN: "sim-technical-token",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.get(base_url + paths.SITES + "?limit=50", headers=headers) as response,
        ):
            assert response.status == 200
            sites = await response.json()
            assert isinstance(sites, list)  # bare
            assert len(sites) == 1  # capped
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
