"""Config flow: which service, its secrets checked against it, then what to include.

Facility Expert: two secrets, then the sites. IT Expert: one API key, then the organizations it
covers. What differs per service (schema, data, verification, things to pick, capacity, same
account) is in each package's `flow.py`; flow.py holds the one error policy; the options flow
is in options_flow.py.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
import probatio as vol

from . import capacity
from .api import (
    Site,
)
from .api.facility_expert.paths import DEFAULT_BASE_URL
from .api.it_expert.models import InventoryObject
from .api.it_expert.paths import DEFAULT_BASE_URL as IT_EXPERT_BASE_URL
from .const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    IT_UNIQUE_ID,
    SERVICE_FACILITY_EXPERT,
)
from .facility_expert import flow as fe_flow
from .facility_expert.entry import client_for
from .flow import PASSWORD, URL, FlowError, ask, title
from .it_expert import flow as it_flow
from .it_expert.entry import it_expert_client_for
from .options_flow import EcoStruxureOptionsFlow
from .registry import parts_of


class EcoStruxureConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Facility Expert account or an IT Expert key, and choose what to include."""

    VERSION = 1
    # 1.2: the service is always in the data (see async_migrate_entry).
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing known."""
        self._data: dict[str, str] = {}
        self._sites: list[Site] = []
        self._organizations: dict[str, str] = {}  # id -> label, in the service's order
        self._inventories: dict[str, tuple[InventoryObject, ...]] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> EcoStruxureOptionsFlow:
        """The options: sites or organizations, and the polling interval."""
        return EcoStruxureOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which service to connect."""
        # Each option is the step it leads to.
        return self.async_show_menu(step_id="user", menu_options=["facility_expert", "it_expert"])

    # --- Facility Expert ----------------------------------------------------------------

    async def async_step_facility_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the subscription key and the technical token, and check them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = {
                    CONF_SERVICE: SERVICE_FACILITY_EXPERT,
                    **fe_flow.data(user_input, user_input[CONF_ADVANCED][CONF_BASE_URL]),
                }
                sites = await ask(client_for(self.hass, data).list_sites(), fe_flow.explain)
            except FlowError as err:
                errors["base"] = err.key
            else:
                taken = fe_flow.taken(self.hass)
                self._sites = [site for site in sites if site.id not in taken]
                if not self._sites:
                    return self.async_abort(reason="all_sites_configured" if sites else "no_sites")
                self._data = data
                return await self.async_step_sites()
        values = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(CONF_SUBSCRIPTION_KEY): PASSWORD,
                vol.Required(CONF_TECHNICAL_TOKEN): PASSWORD,
                vol.Required(CONF_ADVANCED): section(
                    vol.Schema({vol.Required(CONF_BASE_URL, default=DEFAULT_BASE_URL): URL}),
                    {"collapsed": True},
                ),
            }
        )
        return self.async_show_form(
            step_id="facility_expert",
            data_schema=self.add_suggested_values_to_schema(schema, values),
            errors=errors,
        )

    async def async_step_sites(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the sites (all by default) and check the entity count."""
        errors: dict[str, str] = {}
        placeholders = {"max": str(capacity.MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [site for site in self._sites if site.id in user_input[CONF_SITES]]
            try:
                await fe_flow.check_capacity(
                    client_for(self.hass, self._data), [s.id for s in chosen]
                )
            except FlowError as err:
                errors["base"] = err.key
                placeholders.update(err.placeholders)
            else:
                # The entry's unique id is the id of the first site chosen. The service has
                # no account id, and one account may be split over several entries (for the
                # entity cap), so the account cannot be the key; site ids are stable and a site
                # belongs to one entry only (enforced above), so the first one names the entry.
                used = {e.unique_id for e in self._async_current_entries()}
                anchor = next((s.id for s in chosen if s.id not in used), chosen[0].id)
                await self.async_set_unique_id(anchor)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=title([site.name for site in chosen]),
                    data=self._data,
                    options={
                        CONF_SITES: [site.id for site in chosen],
                        CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
                        CONF_HISTORY_DAYS: DEFAULT_HISTORY_DAYS,
                    },
                )
        default = user_input[CONF_SITES] if user_input else [site.id for site in self._sites]
        return self.async_show_form(
            step_id="sites",
            data_schema=vol.Schema(
                {vol.Required(CONF_SITES, default=default): fe_flow.selector(self._sites)}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- IT Expert ----------------------------------------------------------------------

    async def async_step_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key, and check it by listing the organizations it covers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = it_flow.data(user_input, user_input[CONF_ADVANCED][CONF_BASE_URL])
                client = it_expert_client_for(self.hass, data)
                accessible = await ask(client.organizations())
            except FlowError as err:
                errors["base"] = err.key
            else:
                if not accessible:
                    # A valid key of a partner whose customers all withdrew (or never gave)
                    # their consent: an error the user can act on, not an abort.
                    errors["base"] = "no_organizations"
                else:
                    taken = it_flow.taken(self.hass)
                    available = [org_id for org_id in accessible if org_id not in taken]
                    if not available:
                        return self.async_abort(reason="all_organizations_configured")
                    self._inventories = await it_flow.inventories(client, available)
                    self._organizations = {
                        org_id: it_flow.label(self._inventories.get(org_id, ())) or org_id
                        for org_id in available
                    }
                    self._data = data
                    return await self.async_step_organizations()
        schema = it_flow.SECRETS.extend(
            {
                vol.Required(CONF_ADVANCED): section(
                    vol.Schema({vol.Required(CONF_BASE_URL, default=IT_EXPERT_BASE_URL): URL}),
                    {"collapsed": True},
                ),
            }
        )
        return self.async_show_form(
            step_id="it_expert",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    async def async_step_organizations(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the organizations (all by default) and check the entity count."""
        errors: dict[str, str] = {}
        placeholders = {"max": str(capacity.MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [o for o in self._organizations if o in user_input[CONF_ORGANIZATIONS]]
            client = it_expert_client_for(self.hass, self._data)
            try:
                await it_flow.check_capacity(client, chosen, self._inventories)
            except FlowError as err:
                errors["base"] = err.key
                placeholders.update(err.placeholders)
            else:
                # As for Facility Expert, the entry is named by its first organization: an
                # organization id is stable and belongs to one entry only (enforced above),
                # while a key is no identity (it is rotated, and one key may be split over
                # several entries for the entity cap). The first one not already some entry's
                # anchor, since an entry keeps its unique id when its organizations change.
                used = {e.unique_id for e in self._async_current_entries()}
                anchor = next((o for o in chosen if IT_UNIQUE_ID.format(o) not in used), chosen[0])
                await self.async_set_unique_id(IT_UNIQUE_ID.format(anchor))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=title([self._organizations[o] for o in chosen]),
                    data=self._data,
                    options={
                        CONF_ORGANIZATIONS: chosen,
                        CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
                    },
                )
        default = user_input[CONF_ORGANIZATIONS] if user_input else list(self._organizations)
        return self.async_show_form(
            step_id="organizations",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_ORGANIZATIONS, default=default): it_flow.selector(
                        self._organizations
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- reauthentication and reconfiguration -------------------------------------------

    async def _replace_connection(
        self,
        entry: ConfigEntry[Any],
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """The form of new secrets (and base URL): saved if they reach the same data."""
        part = parts_of(entry).flow
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = part.data(
                    user_input, user_input.get(CONF_BASE_URL, entry.data[CONF_BASE_URL])
                )
                await part.same_account(self.hass, data, entry)
            except FlowError as err:
                errors["base"] = err.key
            else:
                return self.async_update_reload_and_abort(entry, data_updates=data)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_BASE_URL: entry.data[CONF_BASE_URL]}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication after the service rejected the secrets."""
        return await self._reauth(None)

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for both Facility Expert secrets again; accept them only for the same account."""
        return await self._reauth(user_input)

    async def async_step_reauth_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the IT Expert key again; accept it only if it covers the entry's data."""
        return await self._reauth(user_input)

    async def _reauth(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        part = parts_of(entry).flow
        return await self._replace_connection(
            entry, part.reauth_step, part.secrets, user_input, {"title": entry.title}
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the secrets or the base URL of an entry, keeping its sites."""
        return await self._reconfigure(user_input)

    async def async_step_reconfigure_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the key or the base URL of an IT Expert entry, keeping its organizations."""
        return await self._reconfigure(user_input)

    async def _reconfigure(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        part = parts_of(entry).flow
        schema = part.secrets.extend({vol.Required(CONF_BASE_URL): URL})
        return await self._replace_connection(entry, part.reconfigure_step, schema, user_input)
