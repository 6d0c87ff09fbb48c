"""Sensors: one per measurement of every asset, and a few per site."""

from collections.abc import Iterable
from datetime import datetime
from typing import override

from homeassistant.components.sensor import (
    SensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..api import Asset, Measurement
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import SiteTopology, value_key
from .descriptions import (
    SITE_SENSORS,
    MeasurementSensorEntityDescription,
    SiteSensorEntityDescription,
    measurement_description,
)
from .entity import EcoStruxureEntity, async_add_site_entities


class MeasurementSensor(EcoStruxureEntity, SensorEntity):
    """The latest value of one measurement of an asset."""

    entity_description: MeasurementSensorEntityDescription

    def __init__(
        self,
        coordinator: EcoStruxureCoordinator,
        site_id: str,
        asset: Asset,
        measurement: Measurement,
    ) -> None:
        """Describe the sensor from the measurement's quantity, context and phase."""
        super().__init__(
            coordinator,
            site_id,
            f"{site_id}-{measurement.id}",
            asset,
            value_key(site_id, measurement.id),
        )
        self.measurement = measurement
        self.entity_description = measurement_description(measurement)
        if measurement.phase:
            self._attr_translation_placeholders = {"phase": measurement.phase}
        description = self.entity_description
        if description.translation_key is None and description.device_class is None:
            # A quantity (or unit) this integration does not know: the service's own label.
            self._attr_name = measurement.name

    @property
    @override
    def native_value(self) -> float | None:
        """The last reported value; None (unknown) when the device did not report."""
        site = self.site_values
        latest = None if site is None else site.values.get(self.measurement.id)
        return None if latest is None else latest.value

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The value, not the state: the state follows from it (unit and precision are fixed).

        Rendering the state of every sensor each cycle only to compare it was most of a cycle's
        cost with thousands of sensors (scripts/bench).
        """
        return (self.available, self.native_value)


class SiteSensor(EcoStruxureEntity, SensorEntity):
    """A figure about a whole site."""

    entity_description: SiteSensorEntityDescription

    def __init__(
        self,
        coordinator: EcoStruxureCoordinator,
        site_id: str,
        description: SiteSensorEntityDescription,
    ) -> None:
        """Attach the sensor to the site's device."""
        super().__init__(coordinator, site_id, f"{site_id}-{description.key}")
        self.entity_description = description

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """The value computed from this cycle's answers."""
        site = self.site_values
        return None if site is None else self.entity_description.value_fn(site)

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The value, not the state: the state follows from it (no attributes of its own)."""
        return (self.available, self.native_value)


def _sensors(
    coordinator: EcoStruxureCoordinator, topology: SiteTopology
) -> Iterable[EcoStruxureEntity]:
    site_id = topology.site.id
    for description in SITE_SENSORS:
        yield SiteSensor(coordinator, site_id, description)
    for asset in topology.assets.values():
        for measurement in asset.measurements:
            yield MeasurementSensor(coordinator, site_id, asset, measurement)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EcoStruxureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every site and asset."""
    await async_add_site_entities(entry, _sensors)
