"""IT Expert entity ids: the organization's name first when an entry has several."""

import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import slugify
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import CONF_ORGANIZATIONS
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator

from .conftest import wait_for

SUFFIX = re.compile(r"_[2-9]$|_\d{2,}$")


def org_of(unique_id: str, org_ids: list[str]) -> str:
    """The organization an entity belongs to: its unique id starts with the org's id."""
    (org_id,) = (org_id for org_id in org_ids if unique_id.startswith(f"{org_id}-"))
    return org_id


async def test_several_organizations_ids_start_with_the_organization(
    hass: HomeAssistant, it_loaded: MockConfigEntry
) -> None:
    coordinator: ITExpertCoordinator = it_loaded.runtime_data
    labels = {org_id: org.label for org_id, org in coordinator.organizations.items()}
    assert len(labels) == 2
    entries = er.async_entries_for_config_entry(er.async_get(hass), it_loaded.entry_id)
    assert len(entries) > 20
    for entry in entries:
        label = labels[org_of(entry.unique_id, list(labels))]
        object_id = entry.entity_id.split(".", 1)[1]
        # Both customers have a "Smart-UPS X 3000": the organization tells them apart.
        assert object_id.startswith(f"{slugify(label)}_"), (entry.entity_id, label)
        assert not SUFFIX.search(object_id), entry.entity_id


@pytest.fixture
async def one_org_loaded(hass: HomeAssistant, it_entry: MockConfigEntry) -> MockConfigEntry:
    """The IT Expert entry with its first organization only."""
    organizations = it_entry.options[CONF_ORGANIZATIONS][:1]
    it_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        it_entry, options={**it_entry.options, CONF_ORGANIZATIONS: organizations}
    )
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()
    coordinator: ITExpertCoordinator = it_entry.runtime_data
    await wait_for(lambda: all(s.connected for s in coordinator.streams.values()))
    return it_entry


async def test_one_organization_keeps_home_assistant_rule(
    hass: HomeAssistant, one_org_loaded: MockConfigEntry
) -> None:
    coordinator: ITExpertCoordinator = one_org_loaded.runtime_data
    ((org_id, org),) = coordinator.organizations.items()
    entries = er.async_entries_for_config_entry(er.async_get(hass), one_org_loaded.entry_id)
    assert entries
    for entry in entries:
        # Nothing to tell apart: the id follows the device (area, device, entity).
        assert entry.suggested_object_id is None, entry.entity_id
        assert not SUFFIX.search(entry.entity_id), entry.entity_id
    ups = [e.entity_id for e in entries if "smart_ups_x_3000" in e.entity_id]
    assert ups
    assert not any(e.startswith(f"sensor.{slugify(org.label)}_") for e in ups), (org_id, ups)
