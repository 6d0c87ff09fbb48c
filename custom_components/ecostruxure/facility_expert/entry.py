"""Setting a Facility Expert entry up and down: its client, coordinator and energy history."""

from collections.abc import Mapping
from datetime import datetime
import hashlib
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util.hass_dict import HassKey

from ..alarm_memory import forget_alarm_memory
from ..api import ConnectionLimit, FacilityExpertClient
from ..api.urls import normalize_base_url
from ..const import (
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DEFAULT_HISTORY_DAYS,
    DOMAIN,
)
from .alarm_store import async_remove_alarm_store
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import asset_device_id, site_device_id

DATA_CONNECTION_LIMITS: HassKey[dict[str, ConnectionLimit]] = HassKey(f"{DOMAIN}_connection_limits")


def client_for(hass: HomeAssistant, data: Mapping[str, Any]) -> FacilityExpertClient:
    """A client of the account in `data`, on Home Assistant's shared session.

    The service counts connections per account: the entries of one account (a portfolio split
    over several entries) share one limit. Accounts are told apart by a digest of the token
    and the canonical base URL (two spellings of one URL are one account), so that no secret
    is kept as a key. Raises BaseUrlError for a base URL that must not be used.
    """
    base_url = normalize_base_url(data[CONF_BASE_URL])
    account = hashlib.sha256(f"{base_url}\n{data[CONF_TECHNICAL_TOKEN]}".encode()).hexdigest()
    limits = hass.data.setdefault(DATA_CONNECTION_LIMITS, {})
    return FacilityExpertClient(
        async_get_clientsession(hass),
        data[CONF_SUBSCRIPTION_KEY],
        data[CONF_TECHNICAL_TOKEN],
        base_url=base_url,
        limit=limits.setdefault(account, ConnectionLimit()),
    )


def anchors(entry: EcoStruxureConfigEntry) -> list[str]:
    """The unique ids the entry may have: its sites, in order."""
    return list(entry.options.get(CONF_SITES, ()))


async def async_setup_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> None:
    """Fetch the sites' topology and first values."""
    coordinator = EcoStruxureCoordinator(hass, entry, client_for(hass, dict(entry.data)))
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator


@callback
def async_start(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> None:
    """With the entities in place, import the energy history now and then every hour."""
    if "recorder" not in hass.config.components:
        return
    # Imported here: the statistics load the recorder, which the config flow (it loads the
    # package) must not.
    from .statistics import HOUR, EnergyHistory  # noqa: PLC0415

    history = EnergyHistory(
        hass,
        entry.runtime_data,
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


async def async_remove_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> None:
    """Forget the entry's alarms (stored ones too) and, with the recorder, its statistics."""
    forget_alarm_memory(hass, entry.entry_id)
    await async_remove_alarm_store(hass, entry.entry_id)
    if "recorder" in hass.config.components:
        from .statistics import async_clear_site_statistics  # noqa: PLC0415 - see async_start

        await async_clear_site_statistics(hass, entry.options.get(CONF_SITES, []))


def device_removable(entry: EcoStruxureConfigEntry, device: dr.AnyDeviceEntry) -> bool:
    """Whether the service no longer reports the site or asset behind `device`."""
    current = {
        identifier
        for site_id, topology in entry.runtime_data.topology.items()
        for identifier in (
            site_device_id(site_id),
            *(asset_device_id(site_id, asset_id) for asset_id in topology.assets),
        )
    }
    return not device.identifiers & current
