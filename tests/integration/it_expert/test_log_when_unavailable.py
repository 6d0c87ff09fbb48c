"""An IT organization or stream that goes down is logged once at info, and once when back."""

import asyncio
from datetime import timedelta
import logging
import re

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.it_expert import const as it_const
from simulator import SimulatorServer

from .conftest import wait_for
from .test_entities import coordinator_of, org_of


def lines(caplog: pytest.LogCaptureFixture, pattern: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.ecostruxure")
        and record.levelno == logging.INFO
        and re.search(pattern, record.getMessage())
    ]


async def test_one_failing_organization_is_logged_once_down_and_once_back(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.ecostruxure")
    sim = simulator_server.simulator
    failing, working = org_of(simulator_server, 0), org_of(simulator_server, 1)
    coordinator = coordinator_of(it_loaded)
    sim.faults.add(status=503, title="ServiceUnavailable", path=f"/{failing.id}/.*-changes/")
    for _ in range(4):
        await coordinator.async_refresh()
    assert coordinator.last_update_success  # the other organization answers
    down = lines(caplog, f"Organization {re.escape(failing.label)} is unavailable")
    assert len(down) == 1
    assert "503" in down[0] or "ServiceUnavailable" in down[0]
    assert not lines(caplog, re.escape(working.label))

    sim.faults.clear()
    for _ in range(3):
        await coordinator.async_refresh()
    assert lines(caplog, "available again") == [f"Organization {failing.label} is available again"]
    assert len(lines(caplog, "is unavailable")) == 1


async def test_a_stream_down_past_its_grace_is_logged_once_down_and_once_back(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(it_const, "STREAM_GRACE", timedelta(seconds=0.2))
    caplog.set_level(logging.INFO, logger="custom_components.ecostruxure")
    sim = simulator_server.simulator
    org = org_of(simulator_server)
    stream = coordinator_of(it_loaded).streams[org.id]
    # A drop followed by a quick reconnect is not worth a line.
    connections = stream.counters["connections"]
    sim.it_expert.drop_streams(org.id)
    await wait_for(lambda: stream.counters["connections"] > connections and stream.connected)
    await asyncio.sleep(0.3)
    assert not lines(caplog, "stream")

    sim.faults.add(status=503, path=f"/{org.id}/measurements/live$")
    sim.it_expert.drop_streams(org.id)
    await wait_for(lambda: not stream.fresh)
    # Reconnect attempts keep failing meanwhile (backoff up to 0.2 s): still one line.
    await asyncio.sleep(0.8)
    assert len(lines(caplog, f"stream of {re.escape(org.id)} down for more than")) == 1

    sim.faults.clear()
    await wait_for(lambda: stream.connected)
    await wait_for(lambda: bool(lines(caplog, "is back")))
    assert lines(caplog, "is back") == [f"Measurement stream of {org.id} is back"]
    assert len(lines(caplog, "down for more than")) == 1
