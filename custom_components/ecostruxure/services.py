"""The `ecostruxure.import_history` action: import a site's energy history again."""

import asyncio

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.recorder import get_instance
import probatio as vol

from .api import EcoStruxureError
from .const import CONF_MEASUREMENT_STATISTICS, DEFAULT_HISTORY_DAYS, DOMAIN, MAX_HISTORY_DAYS
from .facility_expert.coordinator import EcoStruxureConfigEntry
from .facility_expert.data import site_id_of

SERVICE_IMPORT_HISTORY = "import_history"
ATTR_DEVICE_ID = "device_id"
ATTR_DAYS = "days"

IMPORT_HISTORY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_DAYS, default=DEFAULT_HISTORY_DAYS): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_HISTORY_DAYS)
        ),
    }
)


def _site_of(hass: HomeAssistant, device_id: str) -> tuple[EcoStruxureConfigEntry, str]:
    """The loaded entry and the site of a site or asset device."""
    device = dr.async_get(hass).async_get(device_id)
    sites = [site for i in device.identifiers if (site := site_id_of(i))] if device else []
    if device is None or not sites:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_an_ecostruxure_device",
            translation_placeholders={"device": device.name or device_id if device else device_id},
        )
    site_id = sites[0]
    entry: EcoStruxureConfigEntry | None = hass.config_entries.async_get_entry(
        device.config_entry_id
    )
    if entry is None or entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="entry_not_loaded")
    return entry, site_id


async def _clear(hass: HomeAssistant, statistic_ids: list[str]) -> None:
    """Clear statistics and wait until the recorder has done it."""
    if not statistic_ids:
        return
    cleared = asyncio.Event()

    def done() -> None:  # called from the recorder's thread
        hass.loop.call_soon_threadsafe(cleared.set)

    get_instance(hass).async_clear_statistics(statistic_ids, on_done=done)
    await cleared.wait()


async def _import_history(call: ServiceCall) -> None:
    hass = call.hass
    if "recorder" not in hass.config.components:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_recorder")
    # Imported here: the recorder is loaded with the statistics, and the package (which the
    # config flow loads) must not load it.
    from .facility_expert.statistics import EnergyHistory, site_statistic_ids  # noqa: PLC0415

    targets = dict.fromkeys(_site_of(hass, device_id) for device_id in call.data[ATTR_DEVICE_ID])
    for entry, site_id in targets:
        coordinator = entry.runtime_data
        topology = coordinator.topology.get(site_id)
        if topology is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="entry_not_loaded"
            )
        # Start over: what was imported goes, then the import runs for the days asked.
        await _clear(hass, await site_statistic_ids(hass, site_id))
        try:
            with_means = entry.options.get(CONF_MEASUREMENT_STATISTICS, False)
            await EnergyHistory(hass, coordinator, with_means=with_means).async_import_site(
                topology, call.data[ATTR_DAYS]
            )
        except EcoStruxureError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="import_failed",
                translation_placeholders={"site": topology.site.name, "error": str(err)},
            ) from err


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, whatever the number of entries)."""
    hass.services.async_register(
        DOMAIN, SERVICE_IMPORT_HISTORY, _import_history, schema=IMPORT_HISTORY_SCHEMA
    )
