"""An entry's unique id is a site (organization) it holds: one moved out can be added again."""

from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
    CONF_HISTORY_DAYS,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    DOMAIN,
)
from simulator import SimulatorServer

from . import test_config_flow as fe, test_config_flow_it_expert as it


async def test_a_site_moved_out_of_an_entry_can_be_added_again(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    first, second = (site.id for site in simulator_server.simulator.sites)
    assert loaded_entry.unique_id == first
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITES: [second], CONF_SCAN_INTERVAL: 60, CONF_HISTORY_DAYS: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.unique_id == second  # anchored on a site it still holds

    result = await hass.config_entries.flow.async_configure(
        (await fe.start(hass))["flow_id"], fe.user_input(simulator_server)
    )
    assert result["step_id"] == "sites"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: [first]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY  # not "already_configured"
    assert result["result"].unique_id == first
    await hass.async_block_till_done()
    assert {e.unique_id for e in hass.config_entries.async_entries(DOMAIN)} == {first, second}


async def test_setup_re_anchors_an_entry_that_lost_its_first_site(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    """An entry whose options moved its first site out before re-anchoring existed."""
    first, second = (site.id for site in simulator_server.simulator.sites)
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_SITES: [second]}
    )
    assert config_entry.unique_id == first
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.unique_id == second


async def test_an_organization_moved_out_of_an_entry_can_be_added_again(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    sim_it = simulator_server.simulator.it_expert
    first, second, *_ = it.org_ids(sim_it)
    entry = it.it_entry(simulator_server, it.key(sim_it), [first, second])
    entry.add_to_hass(hass)
    with patch("custom_components.ecostruxure.async_setup_entry", return_value=True):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_ORGANIZATIONS: [second], CONF_SCAN_INTERVAL: 60}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert entry.unique_id == f"it_expert:{second}"

        result = await it.organizations_step(hass, simulator_server, it.key(sim_it))
        assert first in it.offered(result)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_ORGANIZATIONS: [first]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY  # not "already_configured"
        assert result["result"].unique_id == f"it_expert:{first}"
