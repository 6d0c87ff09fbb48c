"""An IT Expert entry's repair issues go with the entry."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from simulator import SimulatorServer


async def test_removing_an_entry_removes_its_consent_issues(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    issue_registry: ir.IssueRegistry,
) -> None:
    it = simulator_server.simulator.it_expert
    second = it.organizations[1].id
    it.revoke_consent(second)
    await it_loaded.runtime_data.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, f"consent_revoked_{second}") is not None

    await hass.config_entries.async_remove(it_loaded.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"consent_revoked_{second}") is None
