"""The Schneider Electric EcoStruxure integration."""

from collections.abc import Mapping
from datetime import datetime
import hashlib
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
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .api import ConnectionLimit, FacilityExpertClient
from .api.it_expert.client import ITExpertClient
from .api.urls import BaseUrlError, InsecureBaseUrlError, normalize_base_url
from .const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_ORGANIZATIONS,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    IT_UNIQUE_ID,
    OPERATIONS,
    SERVICE_FACILITY_EXPERT,
    operation_disabled_issue_id,
)
from .coordinator import (
    DATA_ALARM_MEMORY,
    EcoStruxureConfigEntry,
    EcoStruxureCoordinator,
    asset_device_id,
    site_device_id,
)
from .it_expert.coordinator import (
    DATA_IT_ALARM_MEMORY,
    ITExpertConfigEntry,
    ITExpertCoordinator,
    is_it_expert,
    it_device_id,
)
from .services import async_setup_services
from .statistics import DEFAULT_HISTORY_DAYS, HOUR, EnergyHistory, async_clear_site_statistics

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; entries are set up from the UI."""
    async_setup_services(hass)
    return True


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


def it_expert_client_for(hass: HomeAssistant, data: Mapping[str, Any]) -> ITExpertClient:
    """A client of the IT Expert key in `data`, on Home Assistant's shared session.

    Raises BaseUrlError for a base URL that must not be used.
    """
    return ITExpertClient(
        async_get_clientsession(hass),
        data[CONF_API_KEY],
        base_url=normalize_base_url(data[CONF_BASE_URL]),
    )


def _check_base_url(entry: ConfigEntry[Any]) -> None:
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


def entry_anchors(entry: ConfigEntry[Any]) -> list[str]:
    """The unique ids the entry may have, in order: one per site or organization it holds."""
    if is_it_expert(entry):
        return [IT_UNIQUE_ID.format(o) for o in entry.options.get(CONF_ORGANIZATIONS, ())]
    return list(entry.options.get(CONF_SITES, ()))


@callback
def async_reanchor(
    hass: HomeAssistant, entry: ConfigEntry[Any], anchors: list[str] | None = None
) -> None:
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
    service; the service is written so that nothing has to guess it later.
    """
    if entry.version > 1:
        return False  # written by a newer version: downgrading is not supported
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(
            entry,
            data={CONF_SERVICE: SERVICE_FACILITY_EXPERT, **entry.data},
            minor_version=2,
        )
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: EcoStruxureConfigEntry | ITExpertConfigEntry
) -> bool:
    """Set up an entry of either service."""
    _check_base_url(entry)
    # Entries whose options moved their first site away before re-anchoring existed.
    async_reanchor(hass, entry)
    if is_it_expert(entry):
        return await _async_setup_it_expert(hass, entry)
    return await _async_setup_facility_expert(hass, entry)


async def _async_setup_it_expert(hass: HomeAssistant, entry: ITExpertConfigEntry) -> bool:
    """Sync the organizations once, add the entities, then open the measurement streams."""
    coordinator = ITExpertCoordinator(hass, entry, it_expert_client_for(hass, entry.data))
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_streams()
    return True


async def _async_setup_facility_expert(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> bool:
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


async def async_unload_entry(
    hass: HomeAssistant, entry: EcoStruxureConfigEntry | ITExpertConfigEntry
) -> bool:
    """Unload the platforms; the streams end with the entry's background tasks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: EcoStruxureConfigEntry | ITExpertConfigEntry
) -> None:
    """Removing an entry forgets its alarms and issues; a Facility Expert one its history too."""
    hass.data.get(DATA_ALARM_MEMORY, {}).pop(entry.entry_id, None)
    for issue_id in (
        *(operation_disabled_issue_id(entry.entry_id, op) for op in OPERATIONS),
        *(f"site_not_found_{site_id}" for site_id in entry.options.get(CONF_SITES, ())),
        *(f"consent_revoked_{org_id}" for org_id in entry.options.get(CONF_ORGANIZATIONS, ())),
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    hass.data.get(DATA_IT_ALARM_MEMORY, {}).pop(entry.entry_id, None)
    if not is_it_expert(entry) and "recorder" in hass.config.components:
        await async_clear_site_statistics(hass, entry.options.get(CONF_SITES, []))


async def async_remove_config_entry_device(
    hass: HomeAssistant,
    entry: EcoStruxureConfigEntry | ITExpertConfigEntry,
    device: dr.DeviceEntry,
) -> bool:
    """Let a user delete a device once the service no longer reports it (or shares it)."""
    if is_it_expert(entry):
        coordinator = entry.runtime_data
        revoked = coordinator.data.revoked if coordinator.data else set()
        current = {
            it_device_id(org.id, object_id)
            for org in coordinator.organizations.values()
            if org.id not in revoked
            for object_id in (org.id, *org.objects)
        }
        return not device.identifiers & current
    current = {
        identifier
        for site_id, topology in entry.runtime_data.topology.items()
        for identifier in (
            site_device_id(site_id),
            *(asset_device_id(site_id, asset_id) for asset_id in topology.assets),
        )
    }
    return not device.identifiers & current
