"""Blueprint alarm_notification.yaml: an alarm raised (and cleared) on either service notifies.

The simulator raises and clears the alarms through its control API; the integration sees
them at its next poll and fires its Alarms event entity; the automation made from the
blueprint calls notify.test.
"""

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer

from .conftest import Advance, Control, add_automation, device_of, set_up, wait_for

pytestmark = pytest.mark.timeout(60)

BLUEPRINT = "alarm_notification.yaml"
POLL = timedelta(seconds=60)


def local_time(moment: datetime) -> str:
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")


def inputs(**chosen: Any) -> dict[str, Any]:
    return {"notify_action": "notify.test", **chosen}


async def test_facility_expert_alarm_raised_and_cleared_notify_with_asset_and_severity(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    advance: Advance,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, fe_entry)
    await add_automation(hass, BLUEPRINT, inputs(notify_cleared=True, minimum_severity="medium"))
    site = simulator_server.simulator.sites[0]
    site_name = device_of(hass, f"site:{site.id}").name

    # Below the minimum severity: nothing.
    low = await control("POST", "/alarms", {"type": "overload", "severity": "low"})
    await advance(POLL)
    assert notifications == []

    raised_at = simulator_server.simulator.clock.now()
    raised = await control(
        "POST",
        "/alarms",
        {"type": "overload", "severity": "high", "message": "Feeder at 112 % of its rating"},
    )
    await advance(POLL)
    asset_name = site.assets[raised["assetId"]].name
    # The service's label (it names the asset), where it is, severity and message, since when.
    label = f"Overload – {asset_name}"
    assert [call.data["title"] for call in notifications] == [f"Alarm: {label}"]
    assert notifications[0].data["message"] == (
        f"{asset_name} ({site_name}), severity high: Feeder at 112 % of its rating. "
        f"Since {local_time(raised_at)}."
    )

    await advance(timedelta(minutes=5))
    cleared_at = simulator_server.simulator.clock.now()
    await control("DELETE", f"/alarms/{raised['id']}")
    await control("DELETE", f"/alarms/{low['id']}")  # below the minimum: no clear either
    await advance(POLL)
    assert [call.data["title"] for call in notifications] == [
        f"Alarm: {label}",
        f"Alarm cleared: {label}",
    ]
    assert notifications[1].data["message"] == (
        f"{asset_name} ({site_name}), severity high: Feeder at 112 % of its rating. "
        f"Cleared at {local_time(cleared_at)}."
    )


async def test_facility_expert_alarms_of_another_asset_than_the_chosen_one_are_left_out(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    advance: Advance,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, fe_entry)
    site = simulator_server.simulator.sites[0]
    overloadable = [a for a in site.assets.values() if "overload" in a.alarm_types]
    chosen, other = overloadable[0], overloadable[1]
    chosen_device = device_of(hass, f"asset:{site.id}:{chosen.id}")
    # Not notified when cleared: the default.
    await add_automation(hass, BLUEPRINT, inputs(devices=[chosen_device.id]))

    elsewhere = await control("POST", "/alarms", {"type": "overload", "assetId": other.id})
    await advance(POLL)
    assert notifications == []
    here = await control("POST", "/alarms", {"type": "overload", "assetId": chosen.id})
    await advance(POLL)
    assert len(notifications) == 1
    assert notifications[0].data["message"].startswith(f"{chosen.name} (")
    await control("DELETE", f"/alarms/{here['id']}")
    await control("DELETE", f"/alarms/{elsewhere['id']}")
    await advance(POLL)
    assert len(notifications) == 1


async def test_it_expert_alarms_of_a_chosen_area_notify_from_the_minimum_severity(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    control: Control,
    notifications: list[ServiceCall],
) -> None:
    await set_up(hass, it_entry)
    org = simulator_server.simulator.it_expert.organizations[0]
    ups = next(d for d in org.devices.values() if d.type == "UPS")
    cooling = next(d for d in org.devices.values() if d.type == "COOLING")
    ups_device = device_of(hass, f"it:{org.id}:{ups.id}")
    area = ar.async_get(hass).async_get_or_create("UPS room")
    dr.async_get(hass).async_update_device(ups_device.id, area_id=area.id)
    await add_automation(
        hass, BLUEPRINT, inputs(areas=[area.id], minimum_severity="high", notify_cleared=True)
    )
    coordinator = it_entry.runtime_data
    path = f"/it/organizations/{org.id}/alarms"

    # A warning is below "high"; the cooling unit is not in the area.
    await control("POST", path, {"deviceId": ups.id, "severity": "WARNING", "label": "Fan"})
    await control("POST", path, {"deviceId": cooling.id, "severity": "CRITICAL", "label": "Leak"})
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert notifications == []

    raised = await control(
        "POST",
        path,
        {
            "deviceId": ups.id,
            "severity": "CRITICAL",
            "label": "On battery",
            "message": "Mains lost",
        },
    )
    await coordinator.async_refresh()
    await wait_for(lambda: len(notifications) == 1)
    assert notifications[0].data["title"] == "Alarm: On battery"
    assert (
        notifications[0]
        .data["message"]
        .startswith(f"{ups_device.name}, severity CRITICAL: Mains lost. Since ")
    )

    await control("DELETE", f"/it/alarms/{raised['id']}")
    await coordinator.async_refresh()
    await wait_for(lambda: len(notifications) == 2)
    assert notifications[1].data["title"] == "Alarm cleared: On battery"


async def test_an_alarm_told_before_a_reload_is_not_told_again(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    control: Control,
    advance: Advance,
    notifications: list[ServiceCall],
) -> None:
    """The event entity comes back with its last event: that is no new alarm."""
    await set_up(hass, fe_entry)
    await add_automation(hass, BLUEPRINT, inputs())
    await control("POST", "/alarms", {"type": "overload", "severity": "critical"})
    await advance(POLL)
    assert len(notifications) == 1

    assert await hass.config_entries.async_reload(fe_entry.entry_id)
    await hass.async_block_till_done()
    await advance(POLL)
    assert len(notifications) == 1
    # A new alarm after the reload is told as usual.
    await control("POST", "/alarms", {"type": "trip", "severity": "critical"})
    await advance(POLL)
    assert len(notifications) == 2


async def test_alarm_events_of_other_integrations_are_left_out(
    hass: HomeAssistant,
    fe_entry: MockConfigEntry,
    notifications: list[ServiceCall],
) -> None:
    """Only the EcoStruxure Alarms entities count, whatever another entity's event says."""
    await set_up(hass, fe_entry)
    await add_automation(hass, BLUEPRINT, inputs())
    attributes = {
        "event_type": "alarm_raised",
        "label": "Intruder",
        "severity": "critical",
        "activated_at": "2026-12-02T10:00:00+00:00",
    }
    hass.states.async_set("event.other_alarms", "2026-12-02T10:00:00.000+00:00", attributes)
    hass.states.async_set("event.other_alarms", "2026-12-02T10:01:00.000+00:00", attributes)
    await hass.async_block_till_done()
    assert notifications == []
