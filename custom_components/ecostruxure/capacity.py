"""How many entities a selection of sites creates, against Home Assistant's per-entry cap."""

from collections.abc import Iterable

from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY

from .api import Asset
from .binary_sensor import SITE_BINARY_SENSORS
from .sensor import SITE_SENSORS, measurement_description

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
