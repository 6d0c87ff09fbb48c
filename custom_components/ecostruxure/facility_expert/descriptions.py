"""How the Facility Expert entities show: their descriptions, without the entities.

Kept apart from the platforms so that the config flow counts what a choice creates with the
very descriptions the platforms use, without loading the platforms.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import (
    SensorDeviceClass,
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
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..api import AlarmType, Measurement, Quantity
from ..const import STALE_AFTER
from ..units import device_class_accepts
from .data import SiteValues


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


_PROBLEM = BinarySensorDeviceClass.PROBLEM

# Alarm types known today and how they show. Overheating is heat, condensation is moisture;
# power-related alarms are problems (the power device class would read "on" as "powered").
ALARM_DEVICE_CLASSES: dict[str, BinarySensorDeviceClass] = {
    AlarmType.COMFORT_TEMPERATURE_HIGH: BinarySensorDeviceClass.HEAT,
    AlarmType.COMFORT_TEMPERATURE_LOW: BinarySensorDeviceClass.COLD,
    AlarmType.COMFORT_HUMIDITY: BinarySensorDeviceClass.MOISTURE,
    AlarmType.COMFORT_CO2_HIGH: _PROBLEM,
    AlarmType.POWER_LOSS: _PROBLEM,
    AlarmType.OVERLOAD: _PROBLEM,
    AlarmType.LOAD_STOP: _PROBLEM,
    AlarmType.TRIP: _PROBLEM,
    AlarmType.PHASE_LOSS: _PROBLEM,
    AlarmType.VOLTAGE_LOSS: _PROBLEM,
    AlarmType.CABLE_OVERHEATING: BinarySensorDeviceClass.HEAT,
    AlarmType.SWITCHBOARD_OVERHEATING: BinarySensorDeviceClass.HEAT,
    AlarmType.CONDENSATION_RISK: BinarySensorDeviceClass.MOISTURE,
    AlarmType.COMMUNICATION_LOSS: _PROBLEM,
}


@dataclass(frozen=True, kw_only=True)
class SiteBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of a whole site."""

    value_fn: Callable[[SiteValues], bool | None]


def _connected(site: SiteValues) -> bool:
    """Connected unless a communication loss is active or nothing came for an hour."""
    if any(a.type == AlarmType.COMMUNICATION_LOSS for a in site.active_alarms()):
        return False
    last = site.last_communication
    return last is not None and dt_util.utcnow() - last < STALE_AFTER


SITE_BINARY_SENSORS: tuple[SiteBinarySensorEntityDescription, ...] = (
    SiteBinarySensorEntityDescription(
        key="problem",
        translation_key="site_problem",
        device_class=_PROBLEM,
        value_fn=lambda site: None if site.alarms is None else bool(site.active_alarms()),
    ),
    SiteBinarySensorEntityDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_connected,
    ),
)


def alarm_description(alarm_type: str) -> BinarySensorEntityDescription:
    """How the alarm binary sensor of a type shows; an unknown type is a generic problem."""
    if alarm_type in ALARM_DEVICE_CLASSES:
        return BinarySensorEntityDescription(
            key=f"alarm_{alarm_type}",
            translation_key=alarm_type,
            device_class=ALARM_DEVICE_CLASSES[alarm_type],
        )
    return BinarySensorEntityDescription(
        key=f"alarm_{alarm_type}", translation_key="unknown_alarm", device_class=_PROBLEM
    )
