"""The Schneider Electric EcoStruxure integration: Facility Expert and IT Expert entries.

Each entry reads one service; registry.py hands it to that service's package.
"""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .api.urls import BaseUrlError, InsecureBaseUrlError, normalize_base_url
from .const import (
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SERVICE,
    CONF_SITES,
    DOMAIN,
    OPERATIONS,
    operation_disabled_issue_id,
)
from .registry import AnyEntry, parts_of, service_of
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; entries are set up from the UI."""
    async_setup_services(hass)
    return True


def _check_base_url(entry: AnyEntry) -> None:
    """Refuse to set up an entry whose stored base URL is unsafe (edited by hand, say)."""
    try:
        normalize_base_url(entry.data[CONF_BASE_URL])
    except BaseUrlError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key=(
                "insecure_base_url" if isinstance(err, InsecureBaseUrlError) else "invalid_base_url"
            ),
        ) from None  # the chained error would add nothing to the reason


def entry_anchors(entry: AnyEntry) -> list[str]:
    """The unique ids the entry may have, in order: one per site or organization it holds."""
    return parts_of(entry).anchors(entry)


@callback
def async_reanchor(hass: HomeAssistant, entry: AnyEntry, anchors: list[str] | None = None) -> None:
    """Point the entry's unique id at a site (organization) it holds, or is about to hold.

    The unique id names the entry by its first site; once the options move that site out,
    the id would block adding the site anywhere else. It moves to the first site the entry
    holds (`anchors`, when its options are changing) that is no other entry's unique id.
    """
    if anchors is None:
        anchors = entry_anchors(entry)
    if not anchors or entry.unique_id in anchors:
        return
    used = {
        other.unique_id
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.entry_id != entry.entry_id
    }
    anchor = next((a for a in anchors if a not in used), None)
    if anchor is not None:
        hass.config_entries.async_update_entry(entry, unique_id=anchor)


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Bring an entry stored by an older version to the current format.

    1.1 -> 1.2: entries made before IT Expert existed are Facility Expert entries without a
    service; the service is written so that nothing has to guess it later. (Home Assistant
    itself refuses an entry of a newer major version: downgrades are not supported.)
    """
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(
            entry, data={CONF_SERVICE: service_of(entry), **entry.data}, minor_version=2
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnyEntry) -> bool:
    """Set up an entry: its service's coordinator, the entities, then what runs beside them."""
    _check_base_url(entry)
    # Entries whose options moved their first site away before re-anchoring existed.
    async_reanchor(hass, entry)
    parts = parts_of(entry)
    await parts.setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    parts.start(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: AnyEntry) -> bool:
    """Unload the platforms; streams and imports end with the entry's background tasks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: AnyEntry) -> None:
    """Removing an entry forgets its issues, and what its service keeps (alarms, history)."""
    for issue_id in (
        *(operation_disabled_issue_id(entry.entry_id, op) for op in OPERATIONS),
        *(f"site_not_found_{site_id}" for site_id in entry.options.get(CONF_SITES, ())),
        *(f"consent_revoked_{org_id}" for org_id in entry.options.get(CONF_ORGANIZATIONS, ())),
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    await parts_of(entry).remove(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AnyEntry, device: dr.AnyDeviceEntry
) -> bool:
    """Let a user delete a device once the service no longer reports it (or shares it)."""
    return parts_of(entry).device_removable(entry, device)
