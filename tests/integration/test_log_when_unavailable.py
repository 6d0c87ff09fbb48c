"""A site that stops answering is logged once at info, and once when it is back."""

from datetime import timedelta
import logging
import re

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer

from .conftest import Advance

CYCLE = timedelta(seconds=60)


def lines(caplog: pytest.LogCaptureFixture, pattern: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.ecostruxure")
        and record.levelno == logging.INFO
        and re.search(pattern, record.getMessage())
    ]


async def test_one_failing_site_is_logged_once_down_and_once_back(
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.ecostruxure")
    failing, working = simulator_server.simulator.sites
    fault = simulator_server.simulator.faults.add(
        status=503, title="ServiceUnavailable", path=f"/sites/{failing.id}/measurements"
    )
    for _ in range(4):
        await advance(CYCLE)
    assert loaded_entry.runtime_data.last_update_success  # the other site answers
    down = lines(caplog, f"Site {re.escape(failing.name)} is unavailable")
    assert len(down) == 1
    assert "503" in down[0] or "ServiceUnavailable" in down[0]
    assert not lines(caplog, re.escape(working.name))
    assert not lines(caplog, "available again")

    simulator_server.simulator.faults.clear()
    del fault
    for _ in range(3):
        await advance(CYCLE)
    assert lines(caplog, f"Site {re.escape(failing.name)} is available again") == [
        f"Site {failing.name} is available again"
    ]
    assert len(lines(caplog, "is unavailable")) == 1
