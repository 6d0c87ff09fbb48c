"""Adding the integration: the secrets are checked against the service before anything is saved."""

from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.paths import DEFAULT_BASE_URL
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)
from simulator import BodyFault, Simulator, SimulatorServer


def user_input(server: SimulatorServer, **overrides: str) -> dict[str, Any]:
    config = server.simulator.config
    values = {
        CONF_SUBSCRIPTION_KEY: config.subscription_key,
        CONF_TECHNICAL_TOKEN: config.technical_token,
        CONF_BASE_URL: server.base_url + "/",
        **overrides,
    }
    return {
        CONF_SUBSCRIPTION_KEY: values[CONF_SUBSCRIPTION_KEY],
        CONF_TECHNICAL_TOKEN: values[CONF_TECHNICAL_TOKEN],
        CONF_ADVANCED: {CONF_BASE_URL: values[CONF_BASE_URL]},
    }


async def test_form_defaults_to_the_real_service(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    schema = result["data_schema"](
        {
            CONF_SUBSCRIPTION_KEY: "k",
            CONF_TECHNICAL_TOKEN: "t",
            CONF_ADVANCED: {},
        }
    )
    assert schema[CONF_ADVANCED][CONF_BASE_URL] == DEFAULT_BASE_URL


async def test_valid_secrets_create_an_entry(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator_server)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    config = simulator_server.simulator.config
    assert result["data"] == {
        CONF_SUBSCRIPTION_KEY: config.subscription_key,
        CONF_TECHNICAL_TOKEN: config.technical_token,
        CONF_BASE_URL: simulator_server.base_url,  # trailing slash removed
    }


@pytest.mark.parametrize(
    ("break_it", "override", "error"),
    [
        (None, {CONF_SUBSCRIPTION_KEY: "wrong"}, "invalid_subscription_key"),
        (None, {CONF_TECHNICAL_TOKEN: "wrong"}, "invalid_technical_token"),
        (None, {CONF_SUBSCRIPTION_KEY: "wrong", CONF_TECHNICAL_TOKEN: "wrong"}, "invalid_auth"),
        (lambda sim: sim.disable_account(), {}, "account_disabled"),
        (lambda sim: sim.set_wrong_datacenter(), {}, "wrong_datacenter"),
        (lambda sim: sim.faults.add(status=403), {}, "forbidden"),
        (lambda sim: sim.faults.add(status=429, retry_after="3600"), {}, "rate_limited"),
        (lambda sim: sim.faults.add(body=BodyFault.NON_JSON), {}, "unknown"),
        (None, {CONF_BASE_URL: "http://127.0.0.1:9/api"}, "cannot_connect"),
    ],
)
async def test_each_failure_has_its_own_message_and_keeps_the_input(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    break_it: Callable[[Simulator], object] | None,
    override: dict[str, str],
    error: str,
) -> None:
    if break_it is not None:
        break_it(simulator_server.simulator)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    entered = user_input(simulator_server, **override)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not hass.config_entries.async_entries(DOMAIN)
    # What the user typed is offered again.
    shown = result["data_schema"]({CONF_ADVANCED: {}})
    assert shown[CONF_SUBSCRIPTION_KEY] == entered[CONF_SUBSCRIPTION_KEY]
    assert shown[CONF_ADVANCED][CONF_BASE_URL] == entered[CONF_ADVANCED][CONF_BASE_URL]

    # Fixing the problem then works.
    simulator_server.simulator.faults.clear()
    simulator_server.simulator.disable_account(False)
    simulator_server.simulator.set_wrong_datacenter(False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator_server)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reauthentication_updates_the_secrets(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    config_entry.add_to_hass(hass)
    simulator_server.simulator.revoke_credentials(new_technical_token="rotated")
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    key = simulator_server.simulator.config.subscription_key
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SUBSCRIPTION_KEY: key, CONF_TECHNICAL_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_technical_token"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SUBSCRIPTION_KEY: key, CONF_TECHNICAL_TOKEN: "rotated"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data[CONF_TECHNICAL_TOKEN] == "rotated"
    assert config_entry.data[CONF_BASE_URL] == simulator_server.base_url
