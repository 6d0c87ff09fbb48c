"""Diagnostics: what the integration knows, without secrets or where the sites are."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_API_KEY, CONF_SUBSCRIPTION_KEY, CONF_TECHNICAL_TOKEN
from .coordinator import EcoStruxureConfigEntry, SiteTopology, asset_device_id, site_device_id
from .it_expert.coordinator import ITExpertConfigEntry, is_it_expert, it_device_id

TO_REDACT = {
    CONF_API_KEY,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    "address",
    "latitude",
    "longitude",
    "serial_number",
    "gateway_ids",
}


def _site(entry: EcoStruxureConfigEntry, topology: SiteTopology) -> dict[str, Any]:
    data = entry.runtime_data.data
    values = data.sites.get(topology.site.id) if data else None
    return {
        "site": asdict(topology.site),
        "gateways": [asdict(gateway) for gateway in topology.gateways],
        "asset_count": len(topology.assets),
        "measurement_count": sum(len(a.measurements) for a in topology.assets.values()),
        "values_received": None if values is None else len(values.values),
        "active_alarms": None if values is None else [asdict(a) for a in values.active_alarms()],
        "failure": data.failed.get(topology.site.id) if data else None,
    }


def _it_expert_device(entry: ITExpertConfigEntry, device: dr.DeviceEntry) -> dict[str, Any]:
    coordinator = entry.runtime_data
    for org in coordinator.organizations.values():
        for object_id in (org.id, *org.objects):
            if it_device_id(org.id, object_id) not in device.identifiers:
                continue
            stream = coordinator.streams[org.id]
            sensors = [s for s in org.sensors.values() if s.device_id == object_id]
            return {
                "object": asdict(org.objects[object_id]) if object_id in org.objects else None,
                "sensors": [
                    {
                        **asdict(sensor),
                        "reading": asdict(r) if (r := stream.readings.get(sensor.id)) else None,
                    }
                    for sensor in sensors
                ],
                "active_alarms": [asdict(a) for a in org.active_by_device.get(object_id, ())],
            }
    return {}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EcoStruxureConfigEntry | ITExpertConfigEntry
) -> dict[str, Any]:
    """The entry, its options and the state of each site or organization."""
    if is_it_expert(entry):
        return async_redact_data(
            {
                "entry": {"data": dict(entry.data), "options": dict(entry.options)},
                "last_update_success": entry.runtime_data.last_update_success,
                "organizations": entry.runtime_data.diagnostics(),
            },
            TO_REDACT,
        )
    coordinator = entry.runtime_data
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "last_update_success": coordinator.last_update_success,
            "sites": [_site(entry, t) for t in coordinator.topology.values()],
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant,
    entry: EcoStruxureConfigEntry | ITExpertConfigEntry,
    device: dr.DeviceEntry,
) -> dict[str, Any]:
    """The site, asset or IT Expert object behind a device, with its latest values."""
    if is_it_expert(entry):
        return async_redact_data(_it_expert_device(entry, device), TO_REDACT)
    coordinator = entry.runtime_data
    for site_id, topology in coordinator.topology.items():
        if site_device_id(site_id) in device.identifiers:
            return async_redact_data(_site(entry, topology), TO_REDACT)
        for asset in topology.assets.values():
            if asset_device_id(site_id, asset.id) not in device.identifiers:
                continue
            site_values = coordinator.data.sites.get(site_id) if coordinator.data else None
            latest = {
                m.id: asdict(site_values.values[m.id])
                for m in asset.measurements
                if site_values and m.id in site_values.values
            }
            return async_redact_data(
                {
                    "asset": asdict(asset),
                    "latest_values": latest,
                    "active_alarms": [asdict(a) for a in site_values.active_alarms(asset.id)]
                    if site_values
                    else None,
                },
                TO_REDACT,
            )
    return {}
