"""The Schneider Electric EcoStruxure integration."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import AuthenticationError, EcoStruxureError, FacilityExpertClient, ForbiddenError, Site
from .const import CONF_BASE_URL, CONF_SUBSCRIPTION_KEY, CONF_TECHNICAL_TOKEN, DOMAIN


@dataclass(slots=True)
class EcoStruxureRuntimeData:
    """What a loaded config entry holds while it is set up."""

    client: FacilityExpertClient
    sites: list[Site]


type EcoStruxureConfigEntry = ConfigEntry[EcoStruxureRuntimeData]


async def async_setup_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> bool:
    """Set up EcoStruxure from a config entry."""
    client = FacilityExpertClient(
        async_get_clientsession(hass),
        entry.data[CONF_SUBSCRIPTION_KEY],
        entry.data[CONF_TECHNICAL_TOKEN],
        base_url=entry.data[CONF_BASE_URL],
    )
    try:
        sites = await client.list_sites()
    except (AuthenticationError, ForbiddenError) as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except EcoStruxureError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.runtime_data = EcoStruxureRuntimeData(client=client, sites=sites)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EcoStruxureConfigEntry) -> bool:
    """Unload a config entry."""
    return True
