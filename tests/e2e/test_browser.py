"""A person sets up and uses the integration in a real browser, on real Home Assistant 2026.11.

Debian's Chromium, driven by Playwright, against a `hass` process and the simulator, all on
loopback. Screenshots of each step go to artifacts/screenshots/.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
import re
import socket

import aiohttp
from playwright.async_api import Browser, Page, async_playwright, expect
import pytest

from scripts.demo import (
    PASSWORD,
    USERNAME,
    HomeAssistantDemo,
    ensure_environment,
    prepare_config,
)
from simulator import Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

ROOT = Path(__file__).parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# What this machine's closed network needs (see the workplace notes): no background calls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
POLL = 75  # seconds: the default polling interval of 60 s and some slack

# Installing Home Assistant 2026.11 the first time and two polling intervals take minutes.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@dataclass
class Stack:
    """Everything the browser test runs against."""

    hass: HomeAssistantDemo
    simulator: SimulatorServer
    session: aiohttp.ClientSession


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def stack(tmp_path: Path, socket_enabled: None) -> AsyncIterator[Stack]:
    """Home Assistant 2026.11.0 (onboarded, with a user) and the simulator, both on loopback."""
    python = await asyncio.to_thread(ensure_environment)
    config = quiet(SimulatorConfig(seed=3, sites=1, assets_per_site=10))
    port = free_port()
    prepare_config(tmp_path / "config", port)
    async with SimulatorServer(Simulator(config)) as simulator, aiohttp.ClientSession() as session:
        hass = HomeAssistantDemo(tmp_path / "config", port, python)
        hass.start()
        try:
            await hass.wait_ready(session)
            await hass.onboard(session)
            yield Stack(hass, simulator, session)
        finally:
            await asyncio.to_thread(hass.stop)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")


async def test_a_person_adds_and_uses_the_integration(stack: Stack, browser: Browser) -> None:
    hass, simulator = stack.hass, stack.simulator
    sim = simulator.simulator
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)

    # 1. Log in, add the integration: a wrong token first, then the right secrets.
    await page.goto(hass.url)
    await page.get_by_label("Username").fill(USERNAME)
    await page.locator("input[type=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_text("Settings")).to_be_visible()
    await page.goto(f"{hass.url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_placeholder("Search for a brand name").fill("EcoStruxure")
    await page.get_by_text("Schneider Electric EcoStruxure").click()
    await expect(page.get_by_text("Choose the EcoStruxure service")).to_be_visible()
    await page.get_by_text("Facility Expert (buildings: energy, comfort, electrical)").click()
    await expect(page.get_by_text("Connect to EcoStruxure Facility Expert")).to_be_visible()
    await page.get_by_role("textbox", name="Subscription key").fill(sim.subscription_key)
    await page.get_by_role("textbox", name="Technical token").fill("not-the-token")
    await page.get_by_role("button", name="Advanced settings").click()
    await page.get_by_role("textbox", name="Base URL").fill(simulator.base_url)
    await shoot(page, "1-config-flow")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("The technical token was rejected")).to_be_visible()
    await shoot(page, "2-wrong-token")
    await page.get_by_role("textbox", name="Technical token").fill(sim.technical_token)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("Choose the sites")).to_be_visible()
    await expect(page.get_by_text(sim.sites[0].name)).to_be_visible()
    await shoot(page, "3-sites")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("Name and assign")).to_be_visible()
    await shoot(page, "4-created")
    await page.get_by_role("button", name="Finish").click()

    # 2. The integration's page and a feeder's device page: values with units, alarms.
    site = sim.sites[0]
    feeder = next(a for a in site.assets.values() if a.type == "feeder")
    await page.goto(f"{hass.url}/config/integrations/integration/ecostruxure")
    await expect(page.get_by_text(site.name).first).to_be_visible()
    await shoot(page, "5-integration")
    (devices,) = await hass.websocket(stack.session, {"type": "config/device_registry/list"})
    device_id = next(d["id"] for d in devices if d["name"] == feeder.name)
    await page.goto(f"{hass.url}/config/devices/device/{device_id}")
    await expect(page.get_by_text(feeder.name).first).to_be_visible()
    await expect(page.get_by_text("Active energy", exact=True)).to_be_visible()
    energy = page.get_by_text("kWh").first
    await expect(energy).to_be_visible()
    assert re.fullmatch(r"[\d,.]+\s*kWh", await energy.inner_text())  # a value with its unit
    await expect(page.get_by_text("Overload", exact=True)).to_be_visible()
    await expect(page.get_by_text("Problem", exact=True)).to_have_count(0)
    await shoot(page, "6-device")

    # 3. The simulator raises an overload: the alarm shows within one polling interval.
    async with stack.session.post(
        f"{simulator.control_url}/alarms",
        json={"siteId": site.id, "assetId": feeder.id, "type": "overload"},
    ) as response:
        assert response.status == 200
    await expect(page.get_by_text("Problem", exact=True).first).to_be_visible(timeout=POLL * 1000)
    await shoot(page, "7-alarm")

    # The start and the normal run logged no warning or error of the integration.
    ours = [
        line
        for line in hass.log_file.read_text().splitlines()
        if "custom_components.ecostruxure" in line and (" WARNING " in line or " ERROR " in line)
    ]
    assert ours == []

    # 4. The key is revoked: Home Assistant asks for the secrets again; entities recover.
    async with stack.session.post(
        f"{simulator.control_url}/credentials", json={"subscriptionKey": "rotated-key"}
    ) as response:
        assert response.status == 200
    await page.goto(f"{hass.url}/config/integrations/dashboard")
    reconfigure = page.get_by_role("button", name="Reconfigure")
    await expect(reconfigure).to_be_visible(timeout=POLL * 1000)
    await shoot(page, "8-reauth")
    await reconfigure.click()
    await expect(page.get_by_text("Re-enter the Facility Expert secrets")).to_be_visible()
    await page.get_by_role("textbox", name="Subscription key").fill("rotated-key")
    await page.get_by_role("textbox", name="Technical token").fill(sim.technical_token)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("Re-authentication was successful")).to_be_visible()
    await shoot(page, "9-reauth-done")
    await page.goto(f"{hass.url}/config/devices/device/{device_id}")
    await expect(page.get_by_text("Problem", exact=True).first).to_be_visible()  # still on
    energy = page.get_by_text("kWh").first
    await expect(energy).to_be_visible()
    assert re.fullmatch(r"[\d,.]+\s*kWh", await energy.inner_text())
    await shoot(page, "10-recovered")
    entities, states = await hass.websocket(
        stack.session, {"type": "config/entity_registry/list"}, {"type": "get_states"}
    )
    ours = {e["entity_id"] for e in entities if e["platform"] == "ecostruxure"}
    unavailable = [
        s["entity_id"] for s in states if s["entity_id"] in ours and s["state"] == "unavailable"
    ]
    assert ours
    assert unavailable == []
