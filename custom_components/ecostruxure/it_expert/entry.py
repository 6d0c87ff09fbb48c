"""Setting an IT Expert entry up and down: its client, coordinator and streams."""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ..alarm_memory import forget_alarm_memory
from ..api.it_expert.client import ITExpertClient
from ..api.urls import normalize_base_url
from ..const import CONF_API_KEY, CONF_BASE_URL, CONF_ORGANIZATIONS, IT_UNIQUE_ID
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .data import it_device_id
from .storage import ITExpertStorage, async_remove_storage


def it_expert_client_for(hass: HomeAssistant, data: Mapping[str, Any]) -> ITExpertClient:
    """A client of the IT Expert key in `data`, on Home Assistant's shared session.

    Raises BaseUrlError for a base URL that must not be used.
    """
    return ITExpertClient(
        async_get_clientsession(hass),
        data[CONF_API_KEY],
        base_url=normalize_base_url(data[CONF_BASE_URL]),
    )


def anchors(entry: ITExpertConfigEntry) -> list[str]:
    """The unique ids the entry may have: one per organization, in order."""
    return [IT_UNIQUE_ID.format(o) for o in entry.options.get(CONF_ORGANIZATIONS, ())]


async def async_setup_entry(hass: HomeAssistant, entry: ITExpertConfigEntry) -> None:
    """Sync the organizations once, going on from what was stored before a restart."""
    storage = ITExpertStorage(hass, entry.entry_id)
    await storage.async_load()
    coordinator = ITExpertCoordinator(hass, entry, it_expert_client_for(hass, entry.data), storage)
    entry.async_on_unload(storage.async_flush)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator


@callback
def async_start(hass: HomeAssistant, entry: ITExpertConfigEntry) -> None:
    """With the entities in place, open the measurement streams."""
    entry.runtime_data.async_start_streams()


async def async_remove_entry(hass: HomeAssistant, entry: ITExpertConfigEntry) -> None:
    """Forget the entry's alarms, and delete what it stored."""
    forget_alarm_memory(hass, entry.entry_id)
    await async_remove_storage(hass, entry.entry_id)


def device_removable(entry: ITExpertConfigEntry, device: dr.AnyDeviceEntry) -> bool:
    """Whether the service no longer reports (or no longer shares) the object behind `device`."""
    coordinator = entry.runtime_data
    revoked = coordinator.data.revoked if coordinator.data else set()
    current = {
        it_device_id(org.id, object_id)
        for org in coordinator.organizations.values()
        if org.id not in revoked
        for object_id in (org.id, *org.objects)
    }
    return not device.identifiers & current
