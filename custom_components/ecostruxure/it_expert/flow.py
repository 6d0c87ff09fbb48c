"""The IT Expert part of the config flow: key, organizations, capacity, same customer."""

import asyncio
from collections.abc import Container, Iterable, Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectOptionDict, SelectSelector, SelectSelectorConfig
import probatio as vol

from .. import capacity
from ..api import EcoStruxureError
from ..api.it_expert.client import ITExpertClient
from ..api.it_expert.models import InventoryKind, InventoryObject
from ..capacity import it_expert_enabled_entities
from ..const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SERVICE,
    DOMAIN,
    LOGGER,
    SERVICE_IT_EXPERT,
)
from ..flow import PASSWORD, FlowError, FlowPart, ask, base_url
from .coordinator import ITExpertConfigEntry
from .entry import it_expert_client_for

SECRETS = vol.Schema({vol.Required(CONF_API_KEY): PASSWORD})


def data(user_input: Mapping[str, Any], url: str) -> dict[str, str]:
    """The entry's data from the form."""
    return {
        CONF_SERVICE: SERVICE_IT_EXPERT,
        CONF_API_KEY: user_input[CONF_API_KEY].strip(),
        CONF_BASE_URL: base_url(url),
    }


def taken(hass: HomeAssistant, but: str | None = None) -> set[str]:
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


def selector(labels: Mapping[str, str]) -> SelectSelector:
    """The organizations to pick from, by name."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=org_id, label=label) for org_id, label in labels.items()
            ],
            multiple=True,
        )
    )


async def inventories(
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


def label(objects: Iterable[InventoryObject]) -> str | None:
    """The organization's name: the label of the inventory's Organization object."""
    return next(
        (o.label for o in objects if o.kind == InventoryKind.ORGANIZATION and o.label), None
    )


async def check_capacity(
    client: ITExpertClient,
    org_ids: list[str],
    inventories: Mapping[str, tuple[InventoryObject, ...]],
    accessible: Container[str] | None = None,
) -> int:
    """Count the entities the organizations would create; refuse a selection over the cap.

    The inventories already fetched for the labels are reused; the sensors are asked now.
    Only the organizations in `accessible` (all when None) are counted: one that withdrew its
    consent cannot be listed, and creates nothing until it comes back.
    """
    if not org_ids:
        raise FlowError("no_organizations_selected")

    async def count(org_id: str) -> int:
        objects = (
            inventories[org_id] if org_id in inventories else (await client.inventory(org_id)).items
        )
        return it_expert_enabled_entities(objects, (await client.sensors(org_id)).items)

    counted = [o for o in org_ids if accessible is None or o in accessible]
    total = sum(await ask(asyncio.gather(*(count(org_id) for org_id in counted))))
    if total > capacity.MAX_ENTITIES:
        raise FlowError(
            "too_many_entities", {"count": str(total), "max": str(capacity.MAX_ENTITIES)}
        )
    return total


async def same_account(client: ITExpertClient, entry: ITExpertConfigEntry) -> None:
    """Refuse a key that covers none of the entry's organizations: it is another customer's.

    One organization is enough: the others may have withdrawn their consent meanwhile.
    """
    accessible = set(await ask(client.organizations()))
    configured = set(entry.options.get(CONF_ORGANIZATIONS, ()))
    if configured and not configured & accessible:
        raise FlowError("wrong_account")


async def verify_same_account(
    hass: HomeAssistant, data: Mapping[str, Any], entry: ITExpertConfigEntry
) -> None:
    """Refuse a key of another customer (see same_account)."""
    await same_account(it_expert_client_for(hass, data), entry)


PART = FlowPart(
    secrets=SECRETS,
    data=data,
    same_account=verify_same_account,
    reauth_step="reauth_it_expert",
    reconfigure_step="reconfigure_it_expert",
    options_step="it_expert",
)
