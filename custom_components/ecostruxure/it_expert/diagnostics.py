"""Diagnostics of an IT Expert entry and its devices (redacted by the caller)."""

from dataclasses import asdict
from typing import Any

from homeassistant.helpers import device_registry as dr

from .coordinator import ITExpertConfigEntry
from .data import it_device_id


def entry_diagnostics(entry: ITExpertConfigEntry) -> dict[str, Any]:
    """The state of each organization."""
    return {
        "last_update_success": entry.runtime_data.last_update_success,
        "organizations": entry.runtime_data.diagnostics(),
    }


def device_diagnostics(entry: ITExpertConfigEntry, device: dr.AnyDeviceEntry) -> dict[str, Any]:
    """The organization, location or device behind a device, with its sensors' readings."""
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
