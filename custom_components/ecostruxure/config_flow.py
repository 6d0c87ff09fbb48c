"""Config flow of the EcoStruxure integration."""

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

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
from .const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)

_LOGGER = logging.getLogger(__name__)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _user_schema(defaults: dict[str, Any]) -> vol.Schema:
    advanced = defaults.get(CONF_ADVANCED, {})
    return vol.Schema(
        {
            vol.Required(
                CONF_SUBSCRIPTION_KEY, default=defaults.get(CONF_SUBSCRIPTION_KEY, vol.UNDEFINED)
            ): _PASSWORD,
            vol.Required(
                CONF_TECHNICAL_TOKEN, default=defaults.get(CONF_TECHNICAL_TOKEN, vol.UNDEFINED)
            ): _PASSWORD,
            vol.Required(CONF_ADVANCED): section(
                vol.Schema(
                    {
                        vol.Required(
                            CONF_BASE_URL, default=advanced.get(CONF_BASE_URL, DEFAULT_BASE_URL)
                        ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
                    }
                ),
                {"collapsed": True},
            ),
        }
    )


async def _verify(hass: HomeAssistant, data: Mapping[str, Any]) -> tuple[list[Site], str | None]:
    """Try the secrets against the service: the sites they see, or an error key for the form."""
    client = FacilityExpertClient(
        async_get_clientsession(hass),
        data[CONF_SUBSCRIPTION_KEY],
        data[CONF_TECHNICAL_TOKEN],
        base_url=data[CONF_BASE_URL],
    )
    try:
        return await client.list_sites(), None
    except AuthenticationError as err:
        if err.secret is Secret.SUBSCRIPTION_KEY:
            return [], "invalid_subscription_key"
        if err.secret is Secret.TECHNICAL_TOKEN:
            return [], "invalid_technical_token"
        return [], "invalid_auth"
    except ForbiddenError as err:
        if err.account_disabled:
            return [], "account_disabled"
        if err.wrong_datacenter:
            return [], "wrong_datacenter"
        return [], "forbidden"
    except RateLimitedError:
        return [], "rate_limited"
    except CannotConnectError:
        return [], "cannot_connect"
    except EcoStruxureError as err:
        _LOGGER.warning("Unexpected answer while checking the secrets: %s", err)
        return [], "unknown"


class EcoStruxureConfigFlow(ConfigFlow, domain=DOMAIN):
    """Collect and verify the two Facility Expert secrets."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the subscription key and the technical token, and check them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                CONF_SUBSCRIPTION_KEY: user_input[CONF_SUBSCRIPTION_KEY],
                CONF_TECHNICAL_TOKEN: user_input[CONF_TECHNICAL_TOKEN],
                CONF_BASE_URL: user_input[CONF_ADVANCED][CONF_BASE_URL].strip().rstrip("/"),
            }
            sites, error = await _verify(self.hass, data)
            if error is None:
                return self.async_create_entry(
                    title=f"EcoStruxure Facility Expert ({len(sites)} sites)", data=data
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="user", data_schema=_user_schema(user_input or {}), errors=errors
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication after the service rejected the secrets."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for both secrets again and check them before updating the entry."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            data = {**entry.data, **user_input}
            _, error = await _verify(self.hass, data)
            if error is None:
                return self.async_update_reload_and_abort(entry, data=data)
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SUBSCRIPTION_KEY): _PASSWORD,
                    vol.Required(CONF_TECHNICAL_TOKEN): _PASSWORD,
                }
            ),
            errors=errors,
        )
