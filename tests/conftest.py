"""Fixtures shared by every test."""

from collections.abc import Iterator
from typing import Any

from homeassistant.helpers import frame
import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# The plugin's `hass` fixture puts its own testing_config/custom_components first on the path;
# importing the package here makes Home Assistant find this repository's integration instead.
import custom_components.ecostruxure  # noqa: F401

pytest_plugins = ["tests.simulator_fixtures", "tests.quality_scale_proofs_plugin"]

DOMAIN = "ecostruxure"


@pytest.fixture(autouse=True)
def fail_on_deprecated_usage(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test in which the integration uses something Home Assistant reports.

    Home Assistant logs "Detected that custom integration ... " once per process and goes
    on; the call breaks in a later release. Every report is seen here, not only the first.
    """
    reports: list[str] = []
    report = frame._report_usage

    def spy(hass: Any, what: str, **kwargs: Any) -> None:
        caller = kwargs.get("integration_frame")
        if kwargs.get("integration_domain") == DOMAIN or (
            caller is not None and caller.integration == DOMAIN
        ):
            where = f" ({caller.relative_filename}:{caller.line_number})" if caller else ""
            reports.append(f"{what}{where}")
        report(hass, what, **kwargs)

    monkeypatch.setattr(frame, "_report_usage", spy)
    yield reports
    assert not reports, f"Home Assistant reported deprecated usage: {reports}"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format: ids and timestamps that vary are masked."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
