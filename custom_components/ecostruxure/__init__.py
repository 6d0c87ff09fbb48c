"""The Schneider Electric EcoStruxure integration."""

from datetime import datetime

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .api import FacilityExpertClient
from .const import (
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from .coordinator import (
    EcoStruxureConfigEntry,
    EcoStruxureCoordinator,
    asset_device_id,
    site_device_id,
)
from .services import async_setup_services
from .statistics import DEFAULT_HISTORY_DAYS, HOUR, EnergyHistory, async_clear_site_statistics

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; entries are set up from the UI."""
    async_setup_services(hass)
    return True


def client_for(hass: HomeAssistant, data: dict[str, str]) -> FacilityExpertClient:
    """A client of the account in `data`, on Home Assistant's shared session."""
    return FacilityExpertClient(
        async_get_clientsession(hass),
        data[CONF_SUBSCRIPTION_KEY],
        data[CONF_TECHNICAL_TOKEN],
        base_url=data[CONF_BASE_URL],
    )


async def async_setup_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> bool:
    """Fetch the sites' topology and first values, then add the entities."""
    coordinator = EcoStruxureCoordinator(hass, entry, client_for(hass, dict(entry.data)))
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if "recorder" in hass.config.components:
        history = EnergyHistory(
            hass,
            coordinator,
            with_means=entry.options.get(CONF_MEASUREMENT_STATISTICS, False),
        )

        @callback
        def import_history(_: datetime | None = None) -> None:
            # The depth matters for the first import only; later ones continue from the
            # last imported hour.
            days = entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS)
            entry.async_create_background_task(
                hass, history.async_import(days), f"{DOMAIN} energy history"
            )

        import_history()
        entry.async_on_unload(async_track_time_interval(hass, import_history, HOUR))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> None:
    """Removing an entry removes the energy history it imported."""
    if "recorder" in hass.config.components:
        await async_clear_site_statistics(hass, entry.options.get(CONF_SITES, []))


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EcoStruxureConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let a user delete a device only once the service no longer reports it."""
    current = {
        identifier
        for site_id, topology in entry.runtime_data.topology.items()
        for identifier in (
            site_device_id(site_id),
            *(asset_device_id(site_id, asset_id) for asset_id in topology.assets),
        )
    }
    return not device.identifiers & current
