"""Blueprint comfort_out_of_range.yaml: a room too warm (or too cold) for a while notifies."""

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer

from .conftest import (
    Advance,
    Control,
    add_automation,
    device_of,
    entity_of,
    set_up,
    state_of,
    wait_for,
)

pytestmark = pytest.mark.timeout(60)

BLUEPRINT = "comfort_out_of_range.yaml"


async def test_an_it_room_too_warm_for_longer_than_chosen_notifies_a_spike_does_not(
    hass: HomeAssistant,
    fast_streams: None,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, it_entry)
    it = simulator_server.simulator.it_expert
    org = it.organizations[0]
    monitor = next(d for d in org.devices.values() if d.type == "ENVIRONMENTAL_MONITOR")
    sensor = next(s for s in monitor.sensors if s.type == "TEMPERATURE")
    device = device_of(hass, f"it:{org.id}:{monitor.id}")
    area = ar.async_get(hass).async_get_or_create("Server room")
    dr.async_get(hass).async_update_device(device.id, area_id=area.id)
    temperature = entity_of(hass, device, "sensor", f"-sensor-{sensor.id}")
    now = it.clock.now()

    async def reading(value: float, second: int) -> None:
        """The monitor reports `value`, `second` seconds after the start; the sensor shows it."""
        await control(
            "POST",
            "/it/measurements",
            {
                "sensorId": sensor.id,
                "value": value,
                "timestamp": (now + timedelta(seconds=second)).isoformat(),
            },
        )
        await wait_for(lambda: state_of(hass, temperature) == f"{value}")

    await reading(22.0, 1)
    await add_automation(
        hass,
        BLUEPRINT,
        {
            "comfort_sensors": [temperature],
            "low": 18,
            "high": 27,
            "out_for": {"seconds": 1},
            "notify_action": "notify.test",
        },
    )
    # Above for a moment only: nothing.
    await reading(29.0, 2)
    await reading(23.0, 3)
    await asyncio.sleep(1.3)
    assert notifications == []

    await reading(31.5, 4)
    await wait_for(lambda: len(notifications) == 1)
    name = hass.states.get(temperature).attributes["friendly_name"]
    assert notifications[0].data == {
        "title": f"{name} too high",
        "message": f"{name} (Server room) is 31.5 °C, above 27 °C.",
    }

    await reading(12.0, 5)
    await wait_for(lambda: len(notifications) == 2)
    assert notifications[1].data["title"] == f"{name} too low"
    assert notifications[1].data["message"] == f"{name} (Server room) is 12.0 °C, below 18 °C."


async def test_a_facility_expert_room_out_of_range_for_longer_than_chosen_notifies(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    advance: Advance,
    notifications: list[ServiceCall],
) -> None:
    """A room's own comfort sensor, as the simulator's signal moves it over a threshold.

    The threshold is picked from the signal ahead (the simulator is deterministic): between
    what the sensor shows until some poll, and what it shows for the next 7 polls after it.
    """
    await set_up(hass, fe_entry)
    sim = simulator_server.simulator
    site = sim.sites[0]
    room, measurement = next(
        (asset, m)
        for asset in site.assets.values()
        for m in asset.measurements
        if m.quantity == "temperature" and asset.type == "comfort_sensor" and not m.silent
    )
    start = sim.clock.now().timestamp()
    shown = [
        measurement.reading(sim.last_sample(room.gateway_id, start + minute * 60))
        for minute in range(240)
    ]
    window = 7  # polls that must stay out of range: 5 minutes chosen, and a margin
    crossing = next(
        (
            (minute, direction)
            for minute in range(1, len(shown) - window)
            for direction in ("high", "low")
            if (direction == "high" and min(shown[minute : minute + window]) > max(shown[:minute]))
            or (direction == "low" and max(shown[minute : minute + window]) < min(shown[:minute]))
        ),
        None,
    )
    assert crossing is not None, "the signal never crosses a threshold for long: pick another"
    minute, direction = crossing
    after = shown[minute : minute + window]
    before = shown[:minute]
    if direction == "high":
        high, low = (max(before) + min(after)) / 2, -50.0
    else:
        high, low = 5000.0, (min(before) + max(after)) / 2
    device = device_of(hass, f"asset:{site.id}:{room.id}")
    temperature = entity_of(hass, device, "sensor", measurement.id)
    assert float(state_of(hass, temperature) or "nan") == shown[0]
    await add_automation(
        hass,
        BLUEPRINT,
        {
            "comfort_sensors": [temperature],
            "low": low,
            "high": high,
            "out_for": {"minutes": 5},
            "notify_action": "notify.test",
        },
    )

    await advance(timedelta(minutes=minute + 3))
    assert notifications == []  # out of range, not yet for 5 minutes
    await advance(timedelta(minutes=3))
    name = hass.states.get(temperature).attributes["friendly_name"]
    assert [call.data["title"] for call in notifications] == [
        f"{name} {'too high' if direction == 'high' else 'too low'}"
    ]
    shown_now = hass.states.get(temperature).state
    bound = f"above {high}" if direction == "high" else f"below {low}"
    assert notifications[0].data["message"].endswith(f" is {shown_now} °C, {bound} °C.")
