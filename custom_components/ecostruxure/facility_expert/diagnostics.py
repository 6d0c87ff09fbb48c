"""Diagnostics of a Facility Expert entry and its devices (redacted by the caller)."""

from dataclasses import asdict
from typing import Any

from homeassistant.helpers import device_registry as dr

from .coordinator import EcoStruxureConfigEntry
from .data import SiteTopology, asset_device_id, site_device_id


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


def entry_diagnostics(entry: EcoStruxureConfigEntry) -> dict[str, Any]:
    """The state of each site."""
    coordinator = entry.runtime_data
    return {
        "last_update_success": coordinator.last_update_success,
        "sites": [_site(entry, t) for t in coordinator.topology.values()],
    }


def device_diagnostics(entry: EcoStruxureConfigEntry, device: dr.AnyDeviceEntry) -> dict[str, Any]:
    """The site or asset behind a device, with its latest values."""
    coordinator = entry.runtime_data
    for site_id, topology in coordinator.topology.items():
        if site_device_id(site_id) in device.identifiers:
            return _site(entry, topology)
        for asset in topology.assets.values():
            if asset_device_id(site_id, asset.id) not in device.identifiers:
                continue
            site_values = coordinator.data.sites.get(site_id) if coordinator.data else None
            latest = {
                m.id: asdict(site_values.values[m.id])
                for m in asset.measurements
                if site_values and m.id in site_values.values
            }
            return {
                "asset": asdict(asset),
                "latest_values": latest,
                "active_alarms": [asdict(a) for a in site_values.active_alarms(asset.id)]
                if site_values
                else None,
            }
    return {}
