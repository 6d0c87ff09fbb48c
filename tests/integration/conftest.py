"""Fixtures of the Home Assistant tests."""

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import (
    CONF_BASE_URL,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
)


@pytest.fixture
def config_entry(simulator_server) -> MockConfigEntry:
    """A config entry for the simulator's account (not yet added to Home Assistant)."""
    config = simulator_server.simulator.config
    return MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure Facility Expert",
        data={
            CONF_SUBSCRIPTION_KEY: config.subscription_key,
            CONF_TECHNICAL_TOKEN: config.technical_token,
            CONF_BASE_URL: simulator_server.base_url,
        },
    )
