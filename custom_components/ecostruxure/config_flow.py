"""Config flow: the two secrets, checked against the service, then the sites to include."""

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
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

from . import client_for
from .api import (
    AuthenticationError,
    CannotConnectError,
    EcoStruxureError,
    FacilityExpertClient,
    ForbiddenError,
    RateLimitedError,
    Secret,
    Site,
)
from .api.paths import DEFAULT_BASE_URL
from .capacity import MAX_ENTITIES, enabled_entities
from .const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_MEASUREMENT_STATISTICS,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from .coordinator import EcoStruxureConfigEntry
from .statistics import DEFAULT_HISTORY_DAYS, MAX_HISTORY_DAYS

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SECRETS = vol.Schema(
    {vol.Required(CONF_SUBSCRIPTION_KEY): _PASSWORD, vol.Required(CONF_TECHNICAL_TOKEN): _PASSWORD}
)


class FlowError(Exception):
    """A failure to show on the form, as a translation key of `config.error`."""

    def __init__(self, key: str, placeholders: dict[str, str] | None = None) -> None:
        """Keep the key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders or {}


async def _ask[T](call: Awaitable[T]) -> T:
    """Run a request for the flow; turn the client's errors into form errors."""
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
    except EcoStruxureError as err:
        LOGGER.warning("Unexpected answer from the service: %s", err)
        raise FlowError("unknown") from err


def _data(user_input: Mapping[str, Any], base_url: str) -> dict[str, str]:
    return {
        CONF_SUBSCRIPTION_KEY: user_input[CONF_SUBSCRIPTION_KEY].strip(),
        CONF_TECHNICAL_TOKEN: user_input[CONF_TECHNICAL_TOKEN].strip(),
        CONF_BASE_URL: base_url.strip().rstrip("/"),
    }


def _sites_taken(hass: HomeAssistant, but: str | None = None) -> set[str]:
    """Site ids already in an entry (other than `but`): a site belongs to one entry only."""
    return {
        site_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != but
        for site_id in entry.options.get(CONF_SITES, ())
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


async def _check_capacity(client: FacilityExpertClient, site_ids: list[str]) -> int:
    """Count the entities the sites would create; refuse a selection over the cap."""
    if not site_ids:
        raise FlowError("no_sites")
    assets = await _ask(asyncio.gather(*(client.list_assets(site_id) for site_id in site_ids)))
    count = sum(enabled_entities(site_assets) for site_assets in assets)
    if count > MAX_ENTITIES:
        raise FlowError("too_many_entities", {"count": str(count), "max": str(MAX_ENTITIES)})
    return count


async def _same_account(client: FacilityExpertClient, entry: EcoStruxureConfigEntry) -> None:
    """Refuse secrets that do not see the entry's sites: they belong to another account."""
    visible = {site.id for site in await _ask(client.list_sites())}
    configured = set(entry.options.get(CONF_SITES, ()))
    if configured and not configured & visible:
        raise FlowError("wrong_account")


class EcoStruxureConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Facility Expert account and choose its sites."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._data: dict[str, str] = {}
        self._sites: list[Site] = []

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EcoStruxureConfigEntry) -> EcoStruxureOptionsFlow:
        """The options: sites and polling interval."""
        return EcoStruxureOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the subscription key and the technical token, and check them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _data(user_input, user_input[CONF_ADVANCED][CONF_BASE_URL])
            try:
                sites = await _ask(client_for(self.hass, data).list_sites())
            except FlowError as err:
                errors["base"] = err.key
            else:
                taken = _sites_taken(self.hass)
                self._sites = [site for site in sites if site.id not in taken]
                if not self._sites:
                    return self.async_abort(reason="already_configured" if sites else "no_sites")
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
            step_id="user",
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
                title = chosen[0].name + (f" (+{len(chosen) - 1})" if len(chosen) > 1 else "")
                return self.async_create_entry(
                    title=title,
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

    async def _replace_connection(
        self, entry: EcoStruxureConfigEntry, data: dict[str, str], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Save new secrets (and base URL) if they work for the same account, then reload."""
        try:
            await _same_account(client_for(self.hass, data), entry)
        except FlowError as err:
            errors["base"] = err.key
            return None
        return self.async_update_reload_and_abort(entry, data_updates=data)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication after the service rejected the secrets."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for both secrets again; accept them only for the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _data(user_input, entry.data[CONF_BASE_URL])
            if (done := await self._replace_connection(entry, data, errors)) is not None:
                return done
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_SECRETS,
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the secrets or the base URL of an entry, keeping its sites."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _data(user_input, user_input[CONF_BASE_URL])
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


class EcoStruxureOptionsFlow(OptionsFlowWithReload):
    """Change the sites of an entry and the polling interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form: sites and interval."""
        entry = self.config_entry
        client = client_for(self.hass, dict(entry.data))
        try:
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
                vol.Required(CONF_SCAN_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
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
