"""Diagnostics: what the integration knows, without secrets or where the sites are."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_API_KEY, CONF_SUBSCRIPTION_KEY, CONF_TECHNICAL_TOKEN
from .registry import AnyEntry, parts_of

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


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnyEntry
) -> dict[str, Any]:
    """The entry, its options and the state of each site or organization."""
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            **parts_of(entry).entry_diagnostics(entry),
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: AnyEntry, device: dr.AnyDeviceEntry
) -> dict[str, Any]:
    """The site, asset or IT Expert object behind a device, with its latest values."""
    return async_redact_data(parts_of(entry).device_diagnostics(entry, device), TO_REDACT)
