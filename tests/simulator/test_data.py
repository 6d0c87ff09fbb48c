"""The simulated buildings are realistic, reproducible, and consistent over time."""

from collections import Counter
from datetime import datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from custom_components.ecostruxure.api import AlarmType, Quantity
from custom_components.ecostruxure.api.facility_expert import paths
from simulator import SimulatedClock, Simulator, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import SIMULATED_NOW

PLAUSIBLE = {
    ("temperature", "room"): (15, 28),
    ("humidity", "room"): (20, 70),
    ("co2", "room"): (300, 1500),
    ("voltage", None): (210, 420),
    ("frequency", None): (49.8, 50.2),
    ("power_factor", None): (0.7, 1.0),
}


def frozen(config: SimulatorConfig, at: datetime = SIMULATED_NOW) -> Simulator:
    return Simulator(config, SimulatedClock(at, frozen=True))


async def fetch(
    http: aiohttp.ClientSession,
    server: SimulatorServer,
    auth: dict[str, str],
    path: str,
    params: list[tuple[str, str]],
) -> dict[str, Any]:
    async with http.get(server.base_url + path, headers=auth, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def test_same_seed_same_buildings_other_seed_other_ids() -> None:
    config = SimulatorConfig(seed=3, sites=2)
    one, two = frozen(config), frozen(config)
    other = frozen(SimulatorConfig(seed=4, sites=2))
    assert [s.id for s in one.sites] == [s.id for s in two.sites]
    assert [list(s.assets) for s in one.sites] == [list(s.assets) for s in two.sites]
    assert {s.id for s in one.sites}.isdisjoint(s.id for s in other.sites)


def test_sites_span_countries_time_zones_and_alphabets() -> None:
    sim = frozen(SimulatorConfig(sites=12, assets_per_site=8))
    assert len({site.location.country for site in sim.sites}) >= 8
    assert len({site.location.time_zone for site in sim.sites}) >= 8
    assert len({site.name for site in sim.sites}) == 12  # names stay unique past the list
    assert any(not site.name.isascii() for site in sim.sites)


def test_every_known_quantity_and_alarm_type_is_used() -> None:
    sim = frozen(SimulatorConfig(sites=1, assets_per_site=30))
    assets = list(sim.sites[0].assets.values())
    assert {m.quantity for a in assets for m in a.measurements} == set(Quantity)
    assert {t for a in assets for t in a.alarm_types} == set(AlarmType)
    parents = {a.id for a in assets}
    assert all(a.parent_id in parents for a in assets if a.parent_id)


def test_size_is_configurable_and_gateways_scale() -> None:
    sim = frozen(SimulatorConfig(sites=2, assets_per_site=120))
    for site in sim.sites:
        assert len(site.assets) == 120
        assert len(site.gateways) == 3
        assert Counter(a.type for a in site.assets.values())["gateway"] == 3
    with pytest.raises(ValueError, match="at least"):
        Simulator(SimulatorConfig(assets_per_site=3))


def test_values_stay_plausible_for_a_week() -> None:
    sim = frozen(SimulatorConfig(sites=2, assets_per_site=40))
    start = SIMULATED_NOW.timestamp()
    for site in sim.sites:
        for asset in site.assets.values():
            for m in asset.measurements:
                readings = [m.reading(start + hour * 3600) for hour in range(24 * 7)]
                key = (
                    m.quantity,
                    m.context if m.quantity in {"temperature", "humidity", "co2"} else None,
                )
                if key in PLAUSIBLE:
                    low, high = PLAUSIBLE[key]
                    assert low <= min(readings), (m.name, key)
                    assert max(readings) <= high, (m.name, key)
                if m.quantity in {"active_power", "current", "apparent_power"}:
                    assert min(readings) > 0
                if m.cumulative:
                    assert readings == sorted(readings)
                    # A plausible consumption: between 0.5 and 60 kW on average.
                    average_kw = (readings[-1] - readings[0]) / (24 * 7 - 1)
                    assert 0.5 < average_kw < 400, m.name


def test_energy_counter_is_the_integral_of_power() -> None:
    sim = frozen(SimulatorConfig(sites=1))
    feeder = next(a for a in sim.sites[0].assets.values() if a.type == "feeder")
    energy = next(m for m in feeder.measurements if m.quantity == "active_energy")
    power = next(m for m in feeder.measurements if m.quantity == "active_power")
    start = SIMULATED_NOW.timestamp()
    steps = [start + minute * 60 for minute in range(24 * 60 + 1)]
    riemann = sum(power.signal.value(t) for t in steps[:-1]) / 60  # kWh
    assert energy.reading(steps[-1]) - energy.reading(start) == pytest.approx(riemann, rel=1e-3)


def test_alarms_come_and_go_and_gateways_drop_out() -> None:
    config = SimulatorConfig(sites=1, assets_per_site=30, alarms_per_site_per_hour=4)
    sim = frozen(config)
    site = sim.sites[0]
    seen_active: set[str] = set()
    for _ in range(48):
        sim.clock.advance(timedelta(hours=1))
        seen_active |= {a.id for a in sim.alarms(site, "active", None, None)}
    cleared = {a.id for a in sim.alarms(site, "cleared", None, None)}
    assert len(seen_active) >= 5
    assert seen_active & cleared  # raised, then cleared by themselves
    gateway = site.gateways[0].id
    now = sim.now()
    down = [t for t in range(int(now - 30 * 86_400), int(now), 300) if sim.outage_at(gateway, t)]
    assert down  # some outage in a month
    assert len(down) < 0.05 * 30 * 288  # but rarely


async def test_series_agree_with_latest_values_and_reach_back_90_days(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    path = paths.TIME_SERIES.format(site_id=site.id)
    meter = next(a for a in site.assets.values() if a.type == "meter")
    energy = next(m for m in meter.measurements if m.quantity == "active_energy")
    voltage = next(m for m in meter.measurements if m.quantity == "voltage")
    now = sim.clock.now()
    hour_end = now.replace(minute=0, second=0, microsecond=0)
    window = [
        ("from", (hour_end - timedelta(days=91)).isoformat()),
        ("to", hour_end.isoformat()),
        ("interval", "day"),
    ]
    body = await fetch(http, simulator_server, auth, path, [("measurementId", energy.id), *window])
    days = body["series"][0]["values"]
    assert len(days) >= 88  # 90 days, less the odd outage day
    readings = [p["value"] for p in days]
    assert readings == sorted(readings)

    # The last complete hour's point is the counter read at the end of that hour.
    hourly = await fetch(
        http,
        simulator_server,
        auth,
        path,
        [
            ("measurementId", energy.id),
            ("measurementId", voltage.id),
            ("from", (hour_end - timedelta(hours=3)).isoformat()),
            ("to", now.isoformat()),
        ],
    )
    by_id = {s["measurementId"]: s for s in hourly["series"]}
    last = by_id[energy.id]["values"][-1]
    assert datetime.fromisoformat(last["timestamp"]) == hour_end - timedelta(hours=1)
    assert last["value"] == energy.reading(hour_end.timestamp())
    assert by_id[voltage.id]["unit"] == "V"
    assert len(by_id[voltage.id]["values"]) == 3

    # A raw point is what the latest-values call said at that instant.
    latest = await fetch(
        http, simulator_server, auth, paths.LATEST_VALUES.format(site_id=site.id), []
    )
    current = next(v for v in latest["values"] if v["measurementId"] == energy.id)
    raw = await fetch(
        http,
        simulator_server,
        auth,
        path,
        [
            ("measurementId", energy.id),
            ("from", (now - timedelta(minutes=30)).isoformat()),
            ("to", (now + timedelta(minutes=1)).isoformat()),
            ("interval", "raw"),
        ],
    )
    assert raw["series"][0]["values"][-1] == {
        "timestamp": current["timestamp"],
        "value": current["value"],
    }


async def test_series_pages_join_without_loss(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim = simulator_server.simulator
    site = sim.sites[0]
    ids = [m.id for a in site.assets.values() for m in a.measurements][:5]
    hour_end = sim.clock.now().replace(minute=0, second=0, microsecond=0)
    base = [("measurementId", i) for i in ids] + [
        ("from", (hour_end - timedelta(days=3)).isoformat()),
        ("to", hour_end.isoformat()),
    ]
    whole = await fetch(
        http, simulator_server, auth, paths.TIME_SERIES.format(site_id=site.id), base
    )
    assert whole["nextCursor"] is None
    small = Simulator(
        SimulatorConfig(seed=7, sites=3, assets_per_site=30, series_page_points=50),
        SimulatedClock(SIMULATED_NOW, frozen=True),
    )
    async with SimulatorServer(small) as server:
        joined: dict[str, list[Any]] = {}
        cursor, pages = None, 0
        while True:
            params = base + ([("cursor", cursor)] if cursor else [])
            page = await fetch(
                http, server, auth, paths.TIME_SERIES.format(site_id=site.id), params
            )
            pages += 1
            assert sum(len(s["values"]) for s in page["series"]) <= 50
            for part in page["series"]:
                joined.setdefault(part["measurementId"], []).extend(part["values"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
    assert pages >= 5 * 72 // 50
    assert joined == {s["measurementId"]: s["values"] for s in whole["series"]}
    assert json.dumps(joined)  # plain JSON all the way
