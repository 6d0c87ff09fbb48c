"""Energy history when an import fails, when nothing is new, and across gaps in readings."""

from datetime import UTC, datetime, timedelta
import logging

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.facility_expert.statistics import (
    DEFAULT_HISTORY_DAYS,
    EnergyHistory,
    hourly_rows,
)
from simulator import SimulatorServer

from .conftest import Advance
from .test_statistics import (  # noqa: F401 (fixtures)
    hour_of,
    meter_energy,
    mock_recorder_before_hass,
    rows,
    simulator_config,
)

HOUR = timedelta(hours=1)


def test_an_hour_without_a_reading_is_a_gap_not_a_zero() -> None:
    at = datetime(2026, 6, 15, tzinfo=UTC)
    points = [(at, 100.0), (at + HOUR, None), (at + 2 * HOUR, 130.0), (at + 3 * HOUR, 135.0)]
    imported = hourly_rows(points, at, None, 0.0)
    # The first reading sets the baseline; the missing hour adds no row and loses nothing.
    assert [(r["start"], r["state"], r["sum"]) for r in imported] == [
        (at + 2 * HOUR, 130.0, 30.0),
        (at + 3 * HOUR, 135.0, 35.0),
    ]


async def test_a_failed_import_is_resumed_by_the_next_hourly_run(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = simulator_server.simulator
    fault = sim.faults.add(status=503, title="ServiceUnavailable", path="/timeseries")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, _ = meter_energy(simulator_server)
    assert await rows(hass, sid) == []
    site = sim.sites[0]
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "not imported yet" in r.getMessage()
    ]
    assert len(warned) == 1
    assert warned[0].startswith(f"History of {site.name} not imported yet: ")
    sim.faults.clear()
    del fault
    await advance(HOUR)
    imported = await rows(hass, sid)
    # The whole window is there, not only the last hour.
    now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    assert len(imported) == DEFAULT_HISTORY_DAYS * 24
    assert hour_of(imported[0]) == now_hour - timedelta(days=DEFAULT_HISTORY_DAYS)
    assert hour_of(imported[-1]) == now_hour - HOUR


async def test_a_second_import_in_the_same_hour_asks_the_service_nothing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        options={**config_entry.options, "history_days": 1, "measurement_statistics": True},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, _ = meter_energy(simulator_server)
    before = await rows(hass, sid)
    assert before
    stats = simulator_server.simulator.stats
    requests = stats.requests
    await EnergyHistory(hass, config_entry.runtime_data, with_means=True).async_import()
    assert await rows(hass, sid) == before
    assert stats.requests == requests
