"""Energy history in long-term statistics, checked against the simulator's own counters."""

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ecostruxure.facility_expert.statistics import (
    DEFAULT_HISTORY_DAYS,
    EnergyHistory,
    statistic_id,
)
from simulator import SimMeasurement, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .conftest import Advance

HOUR = timedelta(hours=1)


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Prepare the recorder's database before Home Assistant starts (plugin hook)."""


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """One site; gateways that never drop out unless a test says so."""
    return quiet(SimulatorConfig(seed=7, sites=1, assets_per_site=10))


def meter_energy(server: SimulatorServer) -> tuple[str, SimMeasurement]:
    site = server.simulator.sites[0]
    meter = next(a for a in site.assets.values() if a.type == "meter")
    energy = next(m for m in meter.measurements if m.quantity == "active_energy")
    return statistic_id(site.id, energy.id), energy


async def rows(hass: HomeAssistant, sid: str) -> list[dict[str, Any]]:
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    found = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=400),
        None,
        {sid},
        "hour",
        None,
        {"state", "sum"},
    )
    return list(found.get(sid, []))


def hour_of(row: dict[str, Any]) -> datetime:
    return dt_util.utc_from_timestamp(row["start"])


async def test_first_setup_imports_the_last_30_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, energy = meter_energy(simulator_server)
    imported = await rows(hass, sid)
    now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    first = now_hour - timedelta(days=DEFAULT_HISTORY_DAYS)
    assert len(imported) == DEFAULT_HISTORY_DAYS * 24
    assert hour_of(imported[0]) == first
    assert hour_of(imported[-1]) == now_hour - HOUR
    baseline = energy.reading(first.timestamp())
    for row in imported:
        end = (hour_of(row) + HOUR).timestamp()
        assert row["state"] == energy.reading(end)  # the counter at the hour's end
        assert row["sum"] == pytest.approx(energy.reading(end) - baseline, abs=1e-6)


async def test_the_first_import_goes_back_as_far_as_the_options_say(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "history_days": 2}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, _ = meter_energy(simulator_server)
    assert len(await rows(hass, sid)) == 2 * 24


async def test_a_replaced_meter_and_a_gap_keep_the_sums_right(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    sim = simulator_server.simulator
    sid, energy = meter_energy(simulator_server)
    now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    first = now_hour - timedelta(days=DEFAULT_HISTORY_DAYS)
    # Replaced half-way through an hour: the old meter's last reading is the hour before.
    last_hour_of_old_meter = now_hour - timedelta(days=10)
    before = energy.reading(last_hour_of_old_meter.timestamp())
    energy.replaced_at = (last_hour_of_old_meter + timedelta(minutes=30)).timestamp()
    # The gateway is offline for three hours five days ago: no values for those hours.
    down = (now_hour - timedelta(days=5)).timestamp()
    sim._outage = lambda gateway, day: (  # type: ignore[method-assign]
        (down, down + 3 * 3600) if day == int(down // 86_400) else None
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    imported = await rows(hass, sid)

    hours = [hour_of(row) for row in imported]
    missing = {first + HOUR * n for n in range(DEFAULT_HISTORY_DAYS * 24)} - set(hours)
    assert len(missing) == 3  # the gap stays a gap: no invented rows, no zeros
    sums = [row["sum"] for row in imported]
    assert sums == sorted(sums)  # never backwards, not even across the replacement
    baseline = _old_counter(energy).reading(first.timestamp())
    total = (before - baseline) + energy.reading(now_hour.timestamp())
    assert sums[-1] == pytest.approx(total, abs=1e-6)


def _old_counter(energy: SimMeasurement) -> SimMeasurement:
    """The counter as it read before it was replaced."""
    from dataclasses import replace

    return replace(energy, replaced_at=None)


async def test_hourly_import_fills_downtime_exactly_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, energy = meter_energy(simulator_server)
    first_run = await rows(hass, sid)
    await advance(timedelta(hours=5))  # Home Assistant was "down": five hours to fill
    await advance(timedelta(hours=1))
    later = await rows(hass, sid)
    assert len(later) == len(first_run) + 6
    # Running the import again adds nothing and counts nothing twice.
    await EnergyHistory(hass, config_entry.runtime_data).async_import()
    again = await rows(hass, sid)
    assert again == later
    now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    assert hour_of(again[-1]) == now_hour - HOUR
    baseline = energy.reading((hour_of(first_run[0])).timestamp())
    assert again[-1]["sum"] == pytest.approx(
        energy.reading(now_hour.timestamp()) - baseline, abs=1e-6
    )


async def test_removing_the_entry_removes_its_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, _ = meter_energy(simulator_server)
    assert await rows(hass, sid)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert await rows(hass, sid) == []


async def test_the_action_imports_a_site_again_for_the_days_asked(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    from homeassistant.helpers import device_registry as dr

    from custom_components.ecostruxure.facility_expert.coordinator import asset_device_id

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, energy = meter_energy(simulator_server)
    assert len(await rows(hass, sid)) == DEFAULT_HISTORY_DAYS * 24
    site = simulator_server.simulator.sites[0]
    meter = next(a for a in site.assets.values() if a.type == "meter")
    device = dr.async_get(hass).async_get_device_by_identifier(
        asset_device_id(site.id, meter.id), config_entry.entry_id
    )
    assert device is not None
    await hass.services.async_call(
        "ecostruxure", "import_history", {"device_id": device.id, "days": 3}, blocking=True
    )
    again = await rows(hass, sid)
    assert len(again) == 3 * 24
    first = hour_of(again[0])
    assert again[-1]["sum"] == pytest.approx(
        energy.reading((hour_of(again[-1]) + HOUR).timestamp()) - energy.reading(first.timestamp()),
        abs=1e-6,
    )


async def test_the_action_explains_what_is_wrong(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
    from homeassistant.helpers import device_registry as dr

    from custom_components.ecostruxure.facility_expert.coordinator import site_device_id

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "x")}, name="Lamp"
    )
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            "ecostruxure", "import_history", {"device_id": foreign.id}, blocking=True
        )
    assert caught.value.translation_key == "not_an_ecostruxure_device"
    assert caught.value.translation_placeholders == {"device": "Lamp"}
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "ecostruxure", "import_history", {"device_id": "nope"}, blocking=True
        )
    site = simulator_server.simulator.sites[0]
    device = dr.async_get(hass).async_get_device_by_identifier(
        site_device_id(site.id), config_entry.entry_id
    )
    assert device is not None
    with pytest.raises(vol.Invalid):  # 400 days: the schema refuses it
        await hass.services.async_call(
            "ecostruxure", "import_history", {"device_id": device.id, "days": 400}, blocking=True
        )
    simulator_server.simulator.faults.add(status=503, title="ServiceUnavailable", path="timeseries")
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            "ecostruxure", "import_history", {"device_id": device.id}, blocking=True
        )
    assert failed.value.translation_key == "import_failed"
    simulator_server.simulator.faults.clear()
    await hass.config_entries.async_unload(config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as unloaded:
        await hass.services.async_call(
            "ecostruxure", "import_history", {"device_id": device.id}, blocking=True
        )
    assert unloaded.value.translation_key == "entry_not_loaded"


async def test_hours_across_a_dst_change_are_each_there_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    from zoneinfo import ZoneInfo

    site = simulator_server.simulator.sites[0]
    zone = ZoneInfo(site.location.time_zone)  # Europe/Paris
    now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    # The most recent DST change of the site's time zone, whatever today's date.
    change = now_hour
    while (change - HOUR).astimezone(zone).utcoffset() == now_hour.astimezone(zone).utcoffset():
        change -= HOUR
    days = (now_hour - change).days + 2
    assert days <= 365
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "history_days": days}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    sid, _ = meter_energy(simulator_server)
    hours = [hour_of(row) for row in await rows(hass, sid)]
    assert len(hours) == len(set(hours)) == days * 24  # UTC hours: none twice, none missing
    assert all(later - earlier == HOUR for earlier, later in pairwise(hours))
    local_day = (change + HOUR).astimezone(zone).date()
    on_that_day = [h for h in hours if h.astimezone(zone).date() == local_day]
    assert len(on_that_day) in {23, 25}  # the short or the long local day, whole


async def test_a_long_import_is_logged_not_a_repair(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Progress is no repair (there is nothing to repair): log lines at start and end."""
    import asyncio
    import logging

    from homeassistant.helpers import issue_registry as ir

    site = simulator_server.simulator.sites[0]
    simulator_server.simulator.faults.add(latency=0.5, path="timeseries", count=1)
    caplog.set_level(logging.INFO, logger="custom_components.ecostruxure")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    issues = ir.async_get(hass)
    for _ in range(50):
        if f"Importing the energy history of {site.name}" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert f"Importing the energy history of {site.name}" in caplog.text
    assert "(30 days" in caplog.text
    assert not [i for (domain, _), i in issues.issues.items() if domain == "ecostruxure"]
    sid, _ = meter_energy(simulator_server)
    assert await rows(hass, sid)  # waits for the import
    await hass.async_block_till_done(wait_background_tasks=True)
    assert f"Imported the energy history of {site.name}" in caplog.text
    assert not [i for (domain, _), i in issues.issues.items() if domain == "ecostruxure"]


async def test_comfort_and_electrical_means_when_asked(
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
    site = simulator_server.simulator.sites[0]
    room = next(a for a in site.assets.values() if a.type == "room")
    temperature = next(m for m in room.measurements if m.quantity == "temperature")
    sid = statistic_id(site.id, temperature.id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    found = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        dt_util.utcnow() - timedelta(days=2),
        None,
        {sid},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    hourly = found[sid]
    assert len(hourly) == 24
    for row in hourly:
        begin = row["start"]
        quarters = [temperature.aggregate(begin + 900 * q, begin + 900 * (q + 1)) for q in range(4)]
        assert row["mean"] == pytest.approx(sum(quarters) / 4, abs=1e-6)
        assert row["min"] == min(quarters)
        assert row["max"] == max(quarters)
    energy_id, _ = meter_energy(simulator_server)
    assert len(await rows(hass, energy_id)) == 24  # counters as before


async def test_means_are_off_by_default(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    site = simulator_server.simulator.sites[0]
    room = next(a for a in site.assets.values() if a.type == "room")
    temperature = next(m for m in room.measurements if m.quantity == "temperature")
    assert await rows(hass, statistic_id(site.id, temperature.id)) == []
