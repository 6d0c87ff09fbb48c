"""`Simulator.vary_values`: under a frozen clock, exactly the share asked for moves."""

import aiohttp
import pytest

from custom_components.ecostruxure.api.facility_expert import paths
from simulator import SimulatedClock, Simulator, SimulatorConfig, SimulatorServer


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return SimulatorConfig(seed=7, sites=2, assets_per_site=30)


async def latest(
    http: aiohttp.ClientSession, server: SimulatorServer, auth: dict[str, str]
) -> dict[tuple[str, str], float | None]:
    values: dict[tuple[str, str], float | None] = {}
    for site in server.simulator.sites:
        path = paths.LATEST_VALUES.format(site_id=site.id)
        async with http.get(server.base_url + path, headers=auth) as response:
            assert response.status == 200
            body = await response.json()
        values.update({(site.id, v["measurementId"]): v["value"] for v in body["values"]})
    return values


async def test_a_frozen_clock_holds_values_and_vary_moves_the_share_asked(
    http: aiohttp.ClientSession, simulator_server: SimulatorServer, auth: dict[str, str]
) -> None:
    sim = simulator_server.simulator
    before = await latest(http, simulator_server, auth)
    assert await latest(http, simulator_server, auth) == before  # nothing moves by itself

    reporting = [key for key, value in before.items() if value is not None]
    varied = sim.vary_values(0.05)
    assert len(varied) == round(0.05 * len(reporting))
    assert len(set(varied)) == len(varied)
    after = await latest(http, simulator_server, auth)
    changed = {key for key in before if after[key] != before[key]}
    assert changed == set(varied)
    # Up, never down: energy counters keep growing.
    assert all((after[key] or 0) > (before[key] or 0) for key in changed)

    # Another call picks another share; earlier changes stay.
    again = sim.vary_values(0.05)
    assert set(again) != set(varied)
    final = await latest(http, simulator_server, auth)
    assert {key for key in before if final[key] != before[key]} == set(varied) | set(again)


def test_vary_is_reproducible_and_bounded(simulator: Simulator) -> None:
    sim = simulator
    twin = Simulator(sim.config, SimulatedClock(sim.clock.now(), frozen=True))
    assert sim.vary_values(0.1) == twin.vary_values(0.1)
    assert sim.vary_values(0) == []
    with pytest.raises(ValueError, match="between 0 and 1"):
        sim.vary_values(1.5)
