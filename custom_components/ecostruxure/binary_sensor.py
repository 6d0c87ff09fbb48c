"""The binary sensor platform: each entry's service adds its own entities (see registry.py)."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .registry import AnyEntry, async_setup_platform_entry

# Read-only entities fed by the coordinators: no request of their own.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant, entry: AnyEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the binary sensor entities of the entry's service."""
    await async_setup_platform_entry(Platform.BINARY_SENSOR, hass, entry, async_add_entities)
