"""The Facility Expert part of the config flow: secrets, sites, capacity, same account."""

import asyncio
from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectOptionDict, SelectSelector, SelectSelectorConfig
import probatio as vol

from .. import capacity
from ..api import EcoStruxureError, FacilityExpertClient, ForbiddenError, Secret, Site
from ..api.errors import AuthenticationError
from ..capacity import enabled_entities
from ..const import (
    CONF_BASE_URL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_FACILITY_EXPERT,
)
from ..flow import PASSWORD, FlowError, FlowPart, ask, base_url
from .coordinator import EcoStruxureConfigEntry
from .entry import client_for

SECRETS = vol.Schema(
    {vol.Required(CONF_SUBSCRIPTION_KEY): PASSWORD, vol.Required(CONF_TECHNICAL_TOKEN): PASSWORD}
)


def explain(err: EcoStruxureError) -> str | None:
    """The Facility Expert errors the form names precisely: which secret, which account state."""
    if isinstance(err, AuthenticationError):
        return {
            Secret.SUBSCRIPTION_KEY: "invalid_subscription_key",
            Secret.TECHNICAL_TOKEN: "invalid_technical_token",
        }.get(err.secret, "invalid_auth")  # type: ignore[arg-type]
    if isinstance(err, ForbiddenError):
        if err.account_disabled:
            return "account_disabled"
        return "wrong_datacenter" if err.wrong_datacenter else "forbidden"
    return None


def data(user_input: Mapping[str, Any], url: str) -> dict[str, str]:
    """The entry's data from the form."""
    return {
        CONF_SERVICE: SERVICE_FACILITY_EXPERT,
        CONF_SUBSCRIPTION_KEY: user_input[CONF_SUBSCRIPTION_KEY].strip(),
        CONF_TECHNICAL_TOKEN: user_input[CONF_TECHNICAL_TOKEN].strip(),
        CONF_BASE_URL: base_url(url),
    }


def taken(hass: HomeAssistant, but: str | None = None) -> set[str]:
    """Site ids already in an entry (other than `but`): a site belongs to one entry only."""
    return {
        site_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != but
        for site_id in entry.options.get(CONF_SITES, ())
    }


def selector(sites: list[Site]) -> SelectSelector:
    """The sites to pick from, by name and city."""
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


async def check_capacity(client: FacilityExpertClient, site_ids: list[str]) -> int:
    """Count the entities the sites would create; refuse a selection over the cap."""
    if not site_ids:
        raise FlowError("no_sites")
    assets = await ask(
        asyncio.gather(*(client.list_assets(site_id) for site_id in site_ids)), explain
    )
    count = sum(enabled_entities(site_assets) for site_assets in assets)
    if count > capacity.MAX_ENTITIES:
        raise FlowError(
            "too_many_entities", {"count": str(count), "max": str(capacity.MAX_ENTITIES)}
        )
    return count


async def same_account(client: FacilityExpertClient, entry: EcoStruxureConfigEntry) -> None:
    """Refuse secrets that do not see the entry's sites: they belong to another account."""
    visible = {site.id for site in await ask(client.list_sites(), explain)}
    configured = set(entry.options.get(CONF_SITES, ()))
    if configured and not configured & visible:
        raise FlowError("wrong_account")


async def verify_same_account(
    hass: HomeAssistant, data: Mapping[str, Any], entry: EcoStruxureConfigEntry
) -> None:
    """Refuse secrets of another account (see same_account)."""
    await same_account(client_for(hass, data), entry)


PART = FlowPart(
    secrets=SECRETS,
    data=data,
    same_account=verify_same_account,
    reauth_step="reauth_confirm",
    reconfigure_step="reconfigure",
    options_step="facility_expert",
)
