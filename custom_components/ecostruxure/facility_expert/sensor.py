"""Sensors: one per measurement of every asset, and a few per site."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfRatio,
    UnitOfReactiveEnergy,
    UnitOfReactivePower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..api import Asset, Measurement, Quantity
from ..units import device_class_accepts
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import SiteTopology, SiteValues
from .entity import EcoStruxureEntity, async_add_site_entities


@dataclass(frozen=True, kw_only=True)
class MeasurementSensorEntityDescription(SensorEntityDescription):
    """How the measurements of one quantity (and context) become sensors."""

    # The name when the measurement has a phase, e.g. "Voltage L1-N" ({phase} in it).
    phase_translation_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class SiteSensorEntityDescription(SensorEntityDescription):
    """A sensor of a whole site, computed from the cycle's answers."""

    value_fn: Callable[[SiteValues], StateType | datetime]


def _measurement(  # noqa: PLR0917 - a table of positional rows reads best
    key: str,
    device_class: SensorDeviceClass,
    unit: str | None,
    precision: int,
    state_class: SensorStateClass = SensorStateClass.MEASUREMENT,
    translation_key: str | None = None,
) -> MeasurementSensorEntityDescription:
    return MeasurementSensorEntityDescription(
        key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        state_class=state_class,
        translation_key=translation_key,
        phase_translation_key=f"{key}_phase",
    )


_ENERGY = SensorStateClass.TOTAL_INCREASING

# Keyed by quantity, or by (quantity, context) where the context changes the meaning:
# a busbar's temperature is not the room's.
MEASUREMENT_SENSORS: dict[str | tuple[str, str], MeasurementSensorEntityDescription] = {
    Quantity.TEMPERATURE: _measurement(
        "temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS, 1
    ),
    (Quantity.TEMPERATURE, "busbar"): _measurement(
        "busbar_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS, 1,
        translation_key="busbar_temperature",
    ),
    (Quantity.TEMPERATURE, "cable"): _measurement(
        "cable_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS, 1,
        translation_key="cable_temperature",
    ),
    (Quantity.TEMPERATURE, "switchgear"): _measurement(
        "switchgear_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS, 1,
        translation_key="switchgear_temperature",
    ),
    (Quantity.TEMPERATURE, "switchboard"): _measurement(
        "switchboard_temperature", SensorDeviceClass.TEMPERATURE, UnitOfTemperature.CELSIUS, 1,
        translation_key="switchboard_temperature",
    ),
    Quantity.HUMIDITY: _measurement(
        "humidity", SensorDeviceClass.HUMIDITY, UnitOfRatio.PERCENTAGE, 0
    ),
    (Quantity.HUMIDITY, "switchboard"): _measurement(
        "switchboard_humidity", SensorDeviceClass.HUMIDITY, UnitOfRatio.PERCENTAGE, 0,
        translation_key="switchboard_humidity",
    ),
    (Quantity.HUMIDITY, "switchgear"): _measurement(
        "switchgear_humidity", SensorDeviceClass.HUMIDITY, UnitOfRatio.PERCENTAGE, 0,
        translation_key="switchgear_humidity",
    ),
    Quantity.CO2: _measurement(
        "co2", SensorDeviceClass.CO2, UnitOfRatio.PARTS_PER_MILLION, 0
    ),
    Quantity.ACTIVE_ENERGY: _measurement(
        "active_energy", SensorDeviceClass.ENERGY, UnitOfEnergy.KILO_WATT_HOUR, 2, _ENERGY,
        translation_key="active_energy",
    ),
    Quantity.REACTIVE_ENERGY: _measurement(
        "reactive_energy", SensorDeviceClass.REACTIVE_ENERGY,
        UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR, 2, _ENERGY,
        translation_key="reactive_energy",
    ),
    Quantity.ACTIVE_POWER: _measurement(
        "active_power", SensorDeviceClass.POWER, UnitOfPower.KILO_WATT, 2,
        translation_key="active_power",
    ),
    Quantity.REACTIVE_POWER: _measurement(
        "reactive_power", SensorDeviceClass.REACTIVE_POWER,
        UnitOfReactivePower.KILO_VOLT_AMPERE_REACTIVE, 2,
    ),
    Quantity.APPARENT_POWER: _measurement(
        "apparent_power", SensorDeviceClass.APPARENT_POWER,
        UnitOfApparentPower.KILO_VOLT_AMPERE, 2,
    ),
    Quantity.VOLTAGE: _measurement(
        "voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, 1
    ),
    Quantity.CURRENT: _measurement(
        "current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, 1
    ),
    Quantity.FREQUENCY: _measurement(
        "frequency", SensorDeviceClass.FREQUENCY, UnitOfFrequency.HERTZ, 2
    ),
    Quantity.POWER_FACTOR: _measurement(
        "power_factor", SensorDeviceClass.POWER_FACTOR, None, 2
    ),
}  # fmt: skip

SITE_SENSORS: tuple[SiteSensorEntityDescription, ...] = (
    SiteSensorEntityDescription(
        key="active_alarms",
        translation_key="active_alarms",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda site: None if site.alarms is None else len(site.active_alarms()),
    ),
    SiteSensorEntityDescription(
        key="last_communication",
        translation_key="last_communication",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda site: site.last_communication,
    ),
)


def measurement_description(measurement: Measurement) -> MeasurementSensorEntityDescription:
    """The description of a measurement's sensor; unknown quantities keep the API's unit."""
    known = MEASUREMENT_SENSORS.get(
        (measurement.quantity, measurement.context or "")
    ) or MEASUREMENT_SENSORS.get(measurement.quantity)
    if known is None:
        return MeasurementSensorEntityDescription(
            key=measurement.quantity,
            native_unit_of_measurement=measurement.unit,
            state_class=SensorStateClass.MEASUREMENT,
        )
    description = known
    unit = measurement.unit
    if unit is not None and unit != known.native_unit_of_measurement:
        if device_class_accepts(known.device_class, unit):
            # Another unit of the same kind (Wh for kWh...): Home Assistant converts it.
            description = replace(known, native_unit_of_measurement=unit)
        else:
            # A unit that does not fit the quantity: keep the value, drop the device class.
            description = replace(known, device_class=None, native_unit_of_measurement=unit)
    if measurement.phase:
        # Per-phase values are many and rarely charted: enabled on demand.
        description = replace(
            description,
            translation_key=description.phase_translation_key,
            entity_registry_enabled_default=False,
        )
    return description


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
        super().__init__(coordinator, site_id, f"{site_id}-{measurement.id}", asset)
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
    async_add_site_entities(entry, async_add_entities, _sensors)
