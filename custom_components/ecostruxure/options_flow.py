"""Options: the sites or organizations of an entry, the polling interval, the history."""

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.config_entries import (
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import probatio as vol

from . import async_reanchor, capacity
from .const import (
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_SCAN_INTERVAL,
    IT_UNIQUE_ID,
    MAX_HISTORY_DAYS,
)
from .facility_expert import flow as fe_flow
from .facility_expert.coordinator import EcoStruxureConfigEntry
from .facility_expert.entry import client_for
from .flow import SCAN_INTERVAL, FlowError, ask, base_url
from .it_expert import flow as it_flow
from .it_expert.coordinator import ITExpertConfigEntry
from .it_expert.data import it_device_id
from .it_expert.entry import it_expert_client_for
from .registry import parts_of


class EcoStruxureOptionsFlow(OptionsFlowWithReload):
    """Change the sites or organizations of an entry, and the polling interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form: sites or organizations, interval, and for Facility Expert the history."""
        step = parts_of(self.config_entry).flow.options_step
        handler: Callable[[dict[str, Any] | None], Awaitable[ConfigFlowResult]] = getattr(
            self, f"async_step_{step}"
        )
        return await handler(user_input)

    async def async_step_facility_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sites, interval and history of a Facility Expert entry (shown as the init step)."""
        entry: EcoStruxureConfigEntry = self.config_entry
        try:
            base_url(entry.data[CONF_BASE_URL])  # one edited by hand: an abort, not a crash
            client = client_for(self.hass, dict(entry.data))
            sites = await ask(client.list_sites(), fe_flow.explain)
        except FlowError as err:
            return self.async_abort(reason=err.key)
        taken = fe_flow.taken(self.hass, but=entry.entry_id)
        sites = [site for site in sites if site.id not in taken]
        errors: dict[str, str] = {}
        placeholders = {"max": str(capacity.MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [site.id for site in sites if site.id in user_input[CONF_SITES]]
            try:
                await fe_flow.check_capacity(client, chosen)
            except FlowError as err:
                errors["base"] = err.key
                placeholders.update(err.placeholders)
            else:
                async_reanchor(self.hass, entry, chosen)
                return self.async_create_entry(
                    data={
                        CONF_SITES: chosen,
                        CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                        CONF_HISTORY_DAYS: int(user_input[CONF_HISTORY_DAYS]),
                        CONF_MEASUREMENT_STATISTICS: bool(
                            user_input.get(CONF_MEASUREMENT_STATISTICS, False)
                        ),
                    }
                )
        current = user_input or entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_SITES): fe_flow.selector(sites),
                vol.Required(CONF_SCAN_INTERVAL): SCAN_INTERVAL,
                vol.Required(CONF_HISTORY_DAYS): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=MAX_HISTORY_DAYS,
                        step=1,
                        unit_of_measurement="d",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Optional(CONF_MEASUREMENT_STATISTICS): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    CONF_SITES: current.get(CONF_SITES, []),
                    CONF_SCAN_INTERVAL: current.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                    CONF_HISTORY_DAYS: current.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS),
                    CONF_MEASUREMENT_STATISTICS: current.get(CONF_MEASUREMENT_STATISTICS, False),
                },
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Organizations and interval of an IT Expert entry (it imports no history)."""
        entry: ITExpertConfigEntry = self.config_entry
        try:
            base_url(entry.data[CONF_BASE_URL])
            client = it_expert_client_for(self.hass, entry.data)
            accessible = await ask(client.organizations())
        except FlowError as err:
            return self.async_abort(reason=err.key)
        taken = it_flow.taken(self.hass, but=entry.entry_id)
        current: list[str] = list(entry.options.get(CONF_ORGANIZATIONS, ()))
        # The entry's own organizations stay listed even when the key no longer covers them
        # (consent withdrawn, perhaps for a while): removing one is the user's decision.
        choices = list(dict.fromkeys([*(o for o in accessible if o not in taken), *current]))
        accessible_choices = [o for o in choices if o in accessible]
        inventories = await it_flow.inventories(client, accessible_choices)
        labels = {
            o: it_flow.label(inventories.get(o, ())) or _known_label(self.hass, entry.entry_id, o)
            for o in choices
        }
        errors: dict[str, str] = {}
        placeholders = {"max": str(capacity.MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [o for o in choices if o in user_input[CONF_ORGANIZATIONS]]
            try:
                await it_flow.check_capacity(client, chosen, inventories, accessible)
            except FlowError as err:
                errors["base"] = err.key
                placeholders.update(err.placeholders)
            else:
                async_reanchor(self.hass, entry, [IT_UNIQUE_ID.format(o) for o in chosen])
                return self.async_create_entry(
                    data={
                        CONF_ORGANIZATIONS: chosen,
                        CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    }
                )
        values = user_input or entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_ORGANIZATIONS): it_flow.selector(labels),
                vol.Required(CONF_SCAN_INTERVAL): SCAN_INTERVAL,
            }
        )
        return self.async_show_form(
            step_id="it_expert",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    CONF_ORGANIZATIONS: values.get(CONF_ORGANIZATIONS, []),
                    CONF_SCAN_INTERVAL: values.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                },
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


def _known_label(hass: HomeAssistant, entry_id: str, org_id: str) -> str:
    """The name Home Assistant already shows for an organization it cannot read now.

    The organization's device keeps the last name the inventory gave it (or the user's own).
    """
    device = dr.async_get(hass).async_get_device_by_identifier(
        it_device_id(org_id, org_id), entry_id
    )
    if device is None:
        return org_id
    return device.name_by_user or device.name or org_id
