"""How many entities a choice of sites or organizations creates, against the per-entry cap."""

from collections.abc import Iterable

from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

from .api import Asset
from .api.it_expert.models import InventoryKind, InventoryObject, Sensor
from .facility_expert.descriptions import (
    SITE_BINARY_SENSORS,
    SITE_SENSORS,
    measurement_description,
)
from .it_expert.descriptions import (
    ALARM_EVENTS,
    ALARM_SENSORS,
    PROBLEM,
    STREAM,
    alarm_events_enabled,
    reading_description,
)

MAX_ENTITIES = MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

# The site's own entities: its sensors and binary sensors, and the alarm event entity.
_PER_SITE = (
    sum(d.entity_registry_enabled_default for d in (*SITE_SENSORS, *SITE_BINARY_SENSORS)) + 1
)


def enabled_entities(assets: Iterable[Asset]) -> int:
    """The entities enabled by default that one site with these assets creates.

    Counted with the very descriptions the platforms use, so the count cannot drift from
    what is created.
    """
    total = _PER_SITE
    for asset in assets:
        total += sum(
            measurement_description(m).entity_registry_enabled_default for m in asset.measurements
        )
        total += len(set(asset.alarm_types))
    return total


def it_expert_enabled_entities(
    objects: Iterable[InventoryObject], sensors: Iterable[Sensor]
) -> int:
    """The entities enabled by default that one IT Expert organization creates.

    Counted with the descriptions the platforms use: the stream sensor of the organization,
    the alarm entities of each device (events of composite parts are off), one sensor per
    device sensor.
    """
    per_device = sum(d.entity_registry_enabled_default for d in (PROBLEM, *ALARM_SENSORS))
    devices = [o for o in objects if o.kind == InventoryKind.DEVICE]
    device_ids = {o.id for o in devices}
    events = sum(
        ALARM_EVENTS.entity_registry_enabled_default and alarm_events_enabled(o) for o in devices
    )
    return (
        STREAM.entity_registry_enabled_default
        + per_device * len(device_ids)
        + events
        + sum(
            reading_description(sensor).entity_registry_enabled_default
            for sensor in sensors
            if sensor.device_id in device_ids
        )
    )
