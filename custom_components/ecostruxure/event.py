"""The event platform: each entry's service adds its own entities (see registry.py)."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .registry import AnyEntry, async_setup_platform_entry

# Read-only entities fed by the coordinators: no request of their own.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant, entry: AnyEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the event entities of the entry's service."""
    await async_setup_platform_entry(Platform.EVENT, hass, entry, async_add_entities)
