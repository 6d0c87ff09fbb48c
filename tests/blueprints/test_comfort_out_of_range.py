"""Blueprint comfort_out_of_range.yaml: a room too warm (or too cold) for a while notifies."""

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer

from .conftest import Control, add_automation, device_of, entity_of, set_up, state_of, wait_for

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
