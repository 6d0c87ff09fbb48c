"""Blueprint connectivity_lost.yaml: a site or an IT organization offline for long notifies."""

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant, ServiceCall
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

BLUEPRINT = "connectivity_lost.yaml"


async def test_a_site_offline_longer_than_chosen_notifies_once_then_back(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    advance: Advance,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, fe_entry)
    site = simulator_server.simulator.sites[0]
    site_device = device_of(hass, f"site:{site.id}")
    connectivity = entity_of(hass, site_device, "binary_sensor", "connectivity")
    assert state_of(hass, connectivity) == "on"
    await add_automation(
        hass,
        BLUEPRINT,
        {
            "connectivity_sensors": [connectivity],
            "offline_for": {"minutes": 10},
            "notify_back": True,
            "notify_action": "notify.test",
        },
    )

    # A gateway reports the communication loss: the site is offline from the next poll.
    lost = await control("POST", "/alarms", {"type": "communication_loss"})
    await advance(timedelta(minutes=1))
    assert state_of(hass, connectivity) == "off"
    await advance(timedelta(minutes=8))
    assert notifications == []  # not yet for as long as chosen
    await advance(timedelta(minutes=3))
    assert [call.data["title"] for call in notifications] == [f"{site_device.name} is offline"]
    assert (
        notifications[0].data["message"].startswith(f"{site_device.name} has been offline since ")
    )
    await advance(timedelta(minutes=10))
    assert len(notifications) == 1  # told once per outage

    await control("DELETE", f"/alarms/{lost['id']}")
    await advance(timedelta(minutes=1))
    assert state_of(hass, connectivity) == "on"
    assert [call.data["title"] for call in notifications][1:] == [
        f"{site_device.name} is back online"
    ]
    assert notifications[1].data["message"] == f"{site_device.name} is back online after 22 min."


async def test_an_it_organization_whose_stream_stays_down_notifies_a_short_drop_does_not(
    hass: HomeAssistant,
    fast_streams: None,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, it_entry)
    org = simulator_server.simulator.it_expert.organizations[0]
    org_device = device_of(hass, f"it:{org.id}:{org.id}")
    stream = entity_of(hass, org_device, "binary_sensor", "-stream")
    await wait_for(lambda: state_of(hass, stream) == "on")
    await add_automation(
        hass,
        BLUEPRINT,
        {
            "connectivity_sensors": [stream],
            "offline_for": {"seconds": 1},
            "notify_back": True,
            "notify_action": "notify.test",
        },
    )

    # Refused for a moment, then back: shorter than chosen, nothing said.
    faults = simulator_server.simulator.faults
    faults.add(status=503, path=f"/{org.id}/measurements/live$")
    await control("POST", "/it/streams/drop", {"organizationId": org.id})
    await wait_for(lambda: state_of(hass, stream) == "off")
    faults.clear()
    await wait_for(lambda: state_of(hass, stream) == "on")
    await asyncio.sleep(1.3)  # past the chosen second
    assert notifications == []

    # Refused from now on: down past the chosen second.
    faults.add(status=503, path=f"/{org.id}/measurements/live$")
    await control("POST", "/it/streams/drop", {"organizationId": org.id})
    await wait_for(lambda: len(notifications) == 1)
    assert notifications[0].data["title"] == f"{org_device.name} is offline"

    faults.clear()
    await wait_for(lambda: len(notifications) == 2)
    assert notifications[1].data["title"] == f"{org_device.name} is back online"
