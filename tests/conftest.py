"""Fixtures shared by every test."""

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# The plugin's `hass` fixture puts its own testing_config/custom_components first on the path;
# importing the package here makes Home Assistant find this repository's integration instead.
import custom_components.ecostruxure  # noqa: F401

pytest_plugins = ["tests.simulator_fixtures"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format: ids and timestamps that vary are masked."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
