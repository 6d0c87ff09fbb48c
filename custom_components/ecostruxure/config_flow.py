"""Config flow: which service, its secrets checked against it, then what to include.

Facility Expert: two secrets, then the sites. IT Expert: one API key, then the organizations it
covers. Entries made before IT Expert existed have no service in their data: they are Facility
Expert entries, everywhere below (`is_it_expert` says so).
"""

import asyncio
from collections.abc import Awaitable, Container, Iterable, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from . import async_reanchor
from .api import (
    AuthenticationError,
    CannotConnectError,
    EcoStruxureError,
    FacilityExpertClient,
    ForbiddenError,
    RateLimitedError,
    RedirectError,
    Secret,
    Site,
)
from .api.facility_expert.paths import DEFAULT_BASE_URL
from .api.it_expert.client import ITExpertClient
from .api.it_expert.models import InventoryKind, InventoryObject
from .api.it_expert.paths import DEFAULT_BASE_URL as IT_EXPERT_BASE_URL
from .api.urls import BaseUrlError, InsecureBaseUrlError, normalize_base_url
from .capacity import MAX_ENTITIES, enabled_entities, it_expert_enabled_entities
from .const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    IT_UNIQUE_ID,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    SERVICE_FACILITY_EXPERT,
    SERVICE_IT_EXPERT,
)
from .facility_expert.coordinator import EcoStruxureConfigEntry
from .facility_expert.entry import client_for
from .facility_expert.statistics import DEFAULT_HISTORY_DAYS, MAX_HISTORY_DAYS
from .it_expert.coordinator import ITExpertConfigEntry, it_device_id
from .it_expert.entry import it_expert_client_for
from .registry import is_it_expert

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SECRETS = vol.Schema(
    {vol.Required(CONF_SUBSCRIPTION_KEY): _PASSWORD, vol.Required(CONF_TECHNICAL_TOKEN): _PASSWORD}
)
_API_KEY = vol.Schema({vol.Required(CONF_API_KEY): _PASSWORD})
_SCAN_INTERVAL = NumberSelector(
    NumberSelectorConfig(
        min=MIN_SCAN_INTERVAL,
        max=MAX_SCAN_INTERVAL,
        step=1,
        unit_of_measurement="s",
        mode=NumberSelectorMode.BOX,
    )
)


class FlowError(Exception):
    """A failure to show on the form, as a translation key of `config.error`."""

    def __init__(self, key: str, placeholders: dict[str, str] | None = None) -> None:
        """Keep the key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders or {}


async def _ask[T](call: Awaitable[T]) -> T:
    """Run a Facility Expert request for the flow; turn the client's errors into form errors."""
    try:
        return await call
    except AuthenticationError as err:
        raise FlowError(
            {
                Secret.SUBSCRIPTION_KEY: "invalid_subscription_key",
                Secret.TECHNICAL_TOKEN: "invalid_technical_token",
            }.get(err.secret, "invalid_auth")  # type: ignore[arg-type]
        ) from err
    except ForbiddenError as err:
        if err.account_disabled:
            raise FlowError("account_disabled") from err
        raise FlowError("wrong_datacenter" if err.wrong_datacenter else "forbidden") from err
    except RateLimitedError as err:
        raise FlowError("rate_limited") from err
    except CannotConnectError as err:
        raise FlowError("cannot_connect") from err
    except RedirectError as err:
        raise FlowError("redirected") from err
    except EcoStruxureError as err:
        LOGGER.warning("Unexpected answer from the service: %s", err)
        raise FlowError("unknown") from err


async def _ask_it[T](call: Awaitable[T]) -> T:
    """Run an IT Expert request for the flow; turn the client's errors into form errors.

    IT Expert has a single secret, no account state and no data centers: fewer cases than
    Facility Expert.
    """
    try:
        return await call
    except AuthenticationError as err:
        raise FlowError("invalid_auth") from err
    except ForbiddenError as err:
        raise FlowError("forbidden") from err
    except RateLimitedError as err:
        raise FlowError("rate_limited") from err
    except CannotConnectError as err:
        raise FlowError("cannot_connect") from err
    except RedirectError as err:
        raise FlowError("redirected") from err
    except EcoStruxureError as err:
        # The client's messages are built without the key: safe to log.
        LOGGER.warning("Unexpected answer from IT Expert: %s", err)
        raise FlowError("unknown") from err
    except Exception as err:
        # A bug, not the service: keep the traceback. The key travels in a header only, so
        # neither the message nor the traceback's lines carry it.
        LOGGER.exception("Unexpected error while asking IT Expert")
        raise FlowError("unknown") from err


def _base_url(url: str) -> str:
    """The canonical base URL, or the form error that explains why it cannot be used."""
    try:
        return normalize_base_url(url)
    except InsecureBaseUrlError as err:
        raise FlowError("insecure_base_url") from err
    except BaseUrlError as err:
        raise FlowError("invalid_base_url") from err


def _data(user_input: Mapping[str, Any], base_url: str) -> dict[str, str]:
    return {
        CONF_SUBSCRIPTION_KEY: user_input[CONF_SUBSCRIPTION_KEY].strip(),
        CONF_TECHNICAL_TOKEN: user_input[CONF_TECHNICAL_TOKEN].strip(),
        CONF_BASE_URL: _base_url(base_url),
    }


def _it_data(user_input: Mapping[str, Any], base_url: str) -> dict[str, str]:
    return {
        CONF_SERVICE: SERVICE_IT_EXPERT,
        CONF_API_KEY: user_input[CONF_API_KEY].strip(),
        CONF_BASE_URL: _base_url(base_url),
    }


def _sites_taken(hass: HomeAssistant, but: str | None = None) -> set[str]:
    """Site ids already in an entry (other than `but`): a site belongs to one entry only."""
    return {
        site_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != but
        for site_id in entry.options.get(CONF_SITES, ())
    }


def _organizations_taken(hass: HomeAssistant, but: str | None = None) -> set[str]:
    """Organization ids already in an entry (other than `but`).

    An organization belongs to one entry only: its devices are identified by organization and
    object, so a second entry would fight the first over the same devices.
    """
    return {
        org_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != but
        for org_id in entry.options.get(CONF_ORGANIZATIONS, ())
    }


def _site_selector(sites: list[Site]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(
                    value=site.id,
                    label=f"{site.name} ({site.address.city})" if site.address.city else site.name,
                )
                for site in sites
            ],
            multiple=True,
        )
    )


def _organization_selector(labels: Mapping[str, str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=org_id, label=label) for org_id, label in labels.items()
            ],
            multiple=True,
        )
    )


def _title(names: list[str]) -> str:
    """The first name chosen, and how many more: "Tower A (+2)"."""
    return names[0] + (f" (+{len(names) - 1})" if len(names) > 1 else "")


async def _check_capacity(client: FacilityExpertClient, site_ids: list[str]) -> int:
    """Count the entities the sites would create; refuse a selection over the cap."""
    if not site_ids:
        raise FlowError("no_sites")
    assets = await _ask(asyncio.gather(*(client.list_assets(site_id) for site_id in site_ids)))
    count = sum(enabled_entities(site_assets) for site_assets in assets)
    if count > MAX_ENTITIES:
        raise FlowError("too_many_entities", {"count": str(count), "max": str(MAX_ENTITIES)})
    return count


async def _same_account(client: FacilityExpertClient, entry: ConfigEntry[Any]) -> None:
    """Refuse secrets that do not see the entry's sites: they belong to another account."""
    visible = {site.id for site in await _ask(client.list_sites())}
    configured = set(entry.options.get(CONF_SITES, ()))
    if configured and not configured & visible:
        raise FlowError("wrong_account")


async def _inventories(
    client: ITExpertClient, org_ids: Iterable[str]
) -> dict[str, tuple[InventoryObject, ...]]:
    """The inventory of each organization, fetched together; one that fails is left out.

    The inventories name the organizations; one that cannot be read now (consent being
    withdrawn, a timeout) is still offered, by its id, rather than failing the whole form.
    """

    async def one(org_id: str) -> tuple[InventoryObject, ...] | None:
        try:
            return (await client.inventory(org_id)).items
        except EcoStruxureError as err:
            LOGGER.debug("No inventory for organization %s: %s", org_id, err)
            return None

    ids = list(org_ids)
    found = await asyncio.gather(*(one(org_id) for org_id in ids))
    return {
        org_id: objects for org_id, objects in zip(ids, found, strict=True) if objects is not None
    }


def _label(objects: Iterable[InventoryObject]) -> str | None:
    """The organization's name: the label of the inventory's Organization object."""
    return next(
        (o.label for o in objects if o.kind == InventoryKind.ORGANIZATION and o.label), None
    )


async def _check_it_capacity(
    client: ITExpertClient,
    org_ids: list[str],
    inventories: Mapping[str, tuple[InventoryObject, ...]],
    covered: Container[str] | None = None,
) -> int:
    """Count the entities the organizations would create; refuse a selection over the cap.

    The inventories already fetched for the labels are reused; the sensors are asked now.
    Only the organizations in `covered` (all when None) are counted: one that withdrew its
    consent cannot be listed, and creates nothing until it comes back.
    """
    if not org_ids:
        raise FlowError("no_organizations_selected")

    async def count(org_id: str) -> int:
        objects = (
            inventories[org_id] if org_id in inventories else (await client.inventory(org_id)).items
        )
        return it_expert_enabled_entities(objects, (await client.sensors(org_id)).items)

    readable = [o for o in org_ids if covered is None or o in covered]
    total = sum(await _ask_it(asyncio.gather(*(count(org_id) for org_id in readable))))
    if total > MAX_ENTITIES:
        raise FlowError("too_many_entities", {"count": str(total), "max": str(MAX_ENTITIES)})
    return total


async def _same_organizations(client: ITExpertClient, entry: ConfigEntry[Any]) -> None:
    """Refuse a key that covers none of the entry's organizations: it is another customer's.

    One organization is enough: the others may have withdrawn their consent meanwhile.
    """
    covered = set(await _ask_it(client.organizations()))
    configured = set(entry.options.get(CONF_ORGANIZATIONS, ()))
    if configured and not configured & covered:
        raise FlowError("wrong_account")


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
                    **_data(user_input, user_input[CONF_ADVANCED][CONF_BASE_URL]),
                }
                sites = await _ask(client_for(self.hass, data).list_sites())
            except FlowError as err:
                errors["base"] = err.key
            else:
                taken = _sites_taken(self.hass)
                self._sites = [site for site in sites if site.id not in taken]
                if not self._sites:
                    return self.async_abort(reason="all_sites_configured" if sites else "no_sites")
                self._data = data
                return await self.async_step_sites()
        values = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(CONF_SUBSCRIPTION_KEY): _PASSWORD,
                vol.Required(CONF_TECHNICAL_TOKEN): _PASSWORD,
                vol.Required(CONF_ADVANCED): section(
                    vol.Schema({vol.Required(CONF_BASE_URL, default=DEFAULT_BASE_URL): _URL}),
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
        placeholders = {"max": str(MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [site for site in self._sites if site.id in user_input[CONF_SITES]]
            try:
                await _check_capacity(client_for(self.hass, self._data), [s.id for s in chosen])
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
                    title=_title([site.name for site in chosen]),
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
                {vol.Required(CONF_SITES, default=default): _site_selector(self._sites)}
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
                data = _it_data(user_input, user_input[CONF_ADVANCED][CONF_BASE_URL])
                client = it_expert_client_for(self.hass, data)
                covered = await _ask_it(client.organizations())
            except FlowError as err:
                errors["base"] = err.key
            else:
                if not covered:
                    # A valid key of a partner whose customers all withdrew (or never gave)
                    # their consent: an error the user can act on, not an abort.
                    errors["base"] = "no_organizations"
                else:
                    taken = _organizations_taken(self.hass)
                    available = [org_id for org_id in covered if org_id not in taken]
                    if not available:
                        return self.async_abort(reason="all_organizations_configured")
                    self._inventories = await _inventories(client, available)
                    self._organizations = {
                        org_id: _label(self._inventories.get(org_id, ())) or org_id
                        for org_id in available
                    }
                    self._data = data
                    return await self.async_step_organizations()
        schema = _API_KEY.extend(
            {
                vol.Required(CONF_ADVANCED): section(
                    vol.Schema({vol.Required(CONF_BASE_URL, default=IT_EXPERT_BASE_URL): _URL}),
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
        placeholders = {"max": str(MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [o for o in self._organizations if o in user_input[CONF_ORGANIZATIONS]]
            client = it_expert_client_for(self.hass, self._data)
            try:
                await _check_it_capacity(client, chosen, self._inventories)
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
                    title=_title([self._organizations[o] for o in chosen]),
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
                    vol.Required(CONF_ORGANIZATIONS, default=default): _organization_selector(
                        self._organizations
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- reauthentication and reconfiguration -------------------------------------------

    async def _replace_connection(
        self, entry: ConfigEntry[Any], data: dict[str, str], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Save new secrets (and base URL) if they reach the same data, then reload."""
        try:
            if is_it_expert(entry):
                await _same_organizations(it_expert_client_for(self.hass, data), entry)
            else:
                await _same_account(client_for(self.hass, data), entry)
        except FlowError as err:
            errors["base"] = err.key
            return None
        return self.async_update_reload_and_abort(entry, data_updates=data)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication after the service rejected the secrets."""
        if is_it_expert(self._get_reauth_entry()):
            return await self.async_step_reauth_it_expert()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for both Facility Expert secrets again; accept them only for the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _data(user_input, entry.data[CONF_BASE_URL])
            except FlowError as err:
                errors["base"] = err.key
            else:
                if (done := await self._replace_connection(entry, data, errors)) is not None:
                    return done
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_SECRETS,
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    async def async_step_reauth_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the IT Expert key again; accept it only if it covers the entry's data."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _it_data(user_input, entry.data[CONF_BASE_URL])
            except FlowError as err:
                errors["base"] = err.key
            else:
                if (done := await self._replace_connection(entry, data, errors)) is not None:
                    return done
        return self.async_show_form(
            step_id="reauth_it_expert",
            data_schema=_API_KEY,
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the secrets or the base URL of an entry, keeping its sites."""
        entry = self._get_reconfigure_entry()
        if is_it_expert(entry):
            return await self.async_step_reconfigure_it_expert()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _data(user_input, user_input[CONF_BASE_URL])
            except FlowError as err:
                errors["base"] = err.key
            else:
                if (done := await self._replace_connection(entry, data, errors)) is not None:
                    return done
        schema = _SECRETS.extend({vol.Required(CONF_BASE_URL): _URL})
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_BASE_URL: entry.data[CONF_BASE_URL]}
            ),
            errors=errors,
        )

    async def async_step_reconfigure_it_expert(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the key or the base URL of an IT Expert entry, keeping its organizations."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _it_data(user_input, user_input[CONF_BASE_URL])
            except FlowError as err:
                errors["base"] = err.key
            else:
                if (done := await self._replace_connection(entry, data, errors)) is not None:
                    return done
        schema = _API_KEY.extend({vol.Required(CONF_BASE_URL): _URL})
        return self.async_show_form(
            step_id="reconfigure_it_expert",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_BASE_URL: entry.data[CONF_BASE_URL]}
            ),
            errors=errors,
        )


class EcoStruxureOptionsFlow(OptionsFlowWithReload):
    """Change the sites or organizations of an entry, and the polling interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form: sites or organizations, interval, and for Facility Expert the history."""
        if is_it_expert(self.config_entry):
            return await self.async_step_it_expert()
        return await self._facility_expert(self.config_entry, user_input)

    async def _facility_expert(
        self, entry: EcoStruxureConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        try:
            _base_url(entry.data[CONF_BASE_URL])  # one edited by hand: an abort, not a crash
            client = client_for(self.hass, dict(entry.data))
            sites = await _ask(client.list_sites())
        except FlowError as err:
            return self.async_abort(reason=err.key)
        taken = _sites_taken(self.hass, but=entry.entry_id)
        sites = [site for site in sites if site.id not in taken]
        errors: dict[str, str] = {}
        placeholders = {"max": str(MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [site.id for site in sites if site.id in user_input[CONF_SITES]]
            try:
                await _check_capacity(client, chosen)
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
                vol.Required(CONF_SITES): _site_selector(sites),
                vol.Required(CONF_SCAN_INTERVAL): _SCAN_INTERVAL,
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
            _base_url(entry.data[CONF_BASE_URL])
            client = it_expert_client_for(self.hass, entry.data)
            covered = await _ask_it(client.organizations())
        except FlowError as err:
            return self.async_abort(reason=err.key)
        taken = _organizations_taken(self.hass, but=entry.entry_id)
        current: list[str] = list(entry.options.get(CONF_ORGANIZATIONS, ()))
        # The entry's own organizations stay listed even when the key no longer covers them
        # (consent withdrawn, perhaps for a while): removing one is the user's decision.
        offered = list(dict.fromkeys([*(o for o in covered if o not in taken), *current]))
        readable = [o for o in offered if o in covered]
        inventories = await _inventories(client, readable)
        labels = {
            o: _label(inventories.get(o, ())) or _known_label(self.hass, entry.entry_id, o)
            for o in offered
        }
        errors: dict[str, str] = {}
        placeholders = {"max": str(MAX_ENTITIES), "count": "?"}
        if user_input is not None:
            chosen = [o for o in offered if o in user_input[CONF_ORGANIZATIONS]]
            try:
                await _check_it_capacity(client, chosen, inventories, covered)
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
                vol.Required(CONF_ORGANIZATIONS): _organization_selector(labels),
                vol.Required(CONF_SCAN_INTERVAL): _SCAN_INTERVAL,
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
