"""How the IT Expert entities show: their descriptions, without the entities.

Kept apart from the platforms so that the config flow counts what a choice creates with the
very descriptions the platforms use, without loading the platforms.
"""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.event import EventEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.helpers.typing import StateType

from ..api.it_expert.models import InventoryObject, Sensor, SensorValueType
from ..const import ALARM_CLEARED, ALARM_RAISED
from ..units import device_class_accepts
from .const import SEVERITY_LEVEL_NONE, SEVERITY_LEVELS, counts_as_alarm, severity_level
from .data import Organization

# Spellings of relative humidity: a percentage that, unlike a plain `%`, can be nothing else.
_HUMIDITY_UNITS = frozenset({"%rh", "% rh", "rh", "%r.h.", "% r.h.", "rh%", "rh %"})

# The spellings a unit may come in, and Home Assistant's.
_UNITS: dict[str, str] = {
    "c": UnitOfTemperature.CELSIUS,
    "°c": UnitOfTemperature.CELSIUS,
    "degc": UnitOfTemperature.CELSIUS,
    "celsius": UnitOfTemperature.CELSIUS,
    "f": UnitOfTemperature.FAHRENHEIT,
    "°f": UnitOfTemperature.FAHRENHEIT,
    "degf": UnitOfTemperature.FAHRENHEIT,
    "%": PERCENTAGE,
    **dict.fromkeys(_HUMIDITY_UNITS, PERCENTAGE),
    "w": UnitOfPower.WATT,
    "kw": UnitOfPower.KILO_WATT,
    "wh": UnitOfEnergy.WATT_HOUR,
    "kwh": UnitOfEnergy.KILO_WATT_HOUR,
    "va": UnitOfApparentPower.VOLT_AMPERE,
    "kva": UnitOfApparentPower.KILO_VOLT_AMPERE,
    "a": UnitOfElectricCurrent.AMPERE,
    "v": UnitOfElectricPotential.VOLT,
    "hz": UnitOfFrequency.HERTZ,
    "s": UnitOfTime.SECONDS,
    "sec": UnitOfTime.SECONDS,
    "min": UnitOfTime.MINUTES,
    "h": UnitOfTime.HOURS,
}

# Sensor types (as the service names them) and what they measure.
_TYPES: dict[str, SensorDeviceClass | None] = {
    "TEMPERATURE": SensorDeviceClass.TEMPERATURE,
    "DEW_POINT": SensorDeviceClass.TEMPERATURE,
    "HUMIDITY": SensorDeviceClass.HUMIDITY,
    "POWER": SensorDeviceClass.POWER,
    "APPARENT_POWER": SensorDeviceClass.APPARENT_POWER,
    "ENERGY": SensorDeviceClass.ENERGY,
    "CURRENT": SensorDeviceClass.CURRENT,
    "VOLTAGE": SensorDeviceClass.VOLTAGE,
    "FREQUENCY": SensorDeviceClass.FREQUENCY,
    "BATTERY_CHARGE": SensorDeviceClass.BATTERY,
    "RUNTIME": SensorDeviceClass.DURATION,
    "LOAD": None,  # a percentage of capacity: no device class fits
}

# Without a known type, the unit tells what is measured where it can mean one thing only; a
# plain `%` (a load, a battery charge, a fan speed or a humidity) keeps no device class.
_BY_UNIT: dict[str, SensorDeviceClass] = {
    UnitOfTemperature.CELSIUS: SensorDeviceClass.TEMPERATURE,
    UnitOfTemperature.FAHRENHEIT: SensorDeviceClass.TEMPERATURE,
    UnitOfPower.WATT: SensorDeviceClass.POWER,
    UnitOfPower.KILO_WATT: SensorDeviceClass.POWER,
    UnitOfEnergy.WATT_HOUR: SensorDeviceClass.ENERGY,
    UnitOfEnergy.KILO_WATT_HOUR: SensorDeviceClass.ENERGY,
    UnitOfApparentPower.VOLT_AMPERE: SensorDeviceClass.APPARENT_POWER,
    UnitOfApparentPower.KILO_VOLT_AMPERE: SensorDeviceClass.APPARENT_POWER,
    UnitOfElectricCurrent.AMPERE: SensorDeviceClass.CURRENT,
    UnitOfElectricPotential.VOLT: SensorDeviceClass.VOLTAGE,
    UnitOfFrequency.HERTZ: SensorDeviceClass.FREQUENCY,
    UnitOfTime.SECONDS: SensorDeviceClass.DURATION,
    UnitOfTime.MINUTES: SensorDeviceClass.DURATION,
    UnitOfTime.HOURS: SensorDeviceClass.DURATION,
}


def reading_description(sensor: Sensor) -> SensorEntityDescription:
    """How a device sensor shows: device class and unit from its type and unit.

    A kind this integration does not know keeps the service's unit; a unit that does not fit
    the kind keeps the value and drops the device class; text sensors have neither.
    """
    if sensor.value_type == SensorValueType.STRING:
        return SensorEntityDescription(key=sensor.id)
    spelled = (sensor.unit or "").strip().lower()
    unit = _UNITS.get(spelled, sensor.unit or None)
    kind = (sensor.type or "").upper()
    if kind in _TYPES:
        device_class = _TYPES[kind]
    elif spelled in _HUMIDITY_UNITS:
        device_class = SensorDeviceClass.HUMIDITY
    else:
        device_class = _BY_UNIT.get(unit or "")
    if not device_class_accepts(device_class, unit):
        device_class = None
    return SensorEntityDescription(
        key=sensor.id,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.TOTAL_INCREASING
        if device_class == SensorDeviceClass.ENERGY
        else SensorStateClass.MEASUREMENT,
    )


@dataclass(frozen=True, kw_only=True)
class AlarmSensorEntityDescription(SensorEntityDescription):
    """A figure about a device's active alarms."""

    value_fn: Callable[[Organization, str], StateType]


def _worst_level(org: Organization, device_id: str) -> str:
    levels = {severity_level(a.severity) for a in org.active_by_device.get(device_id, ())}
    return max(levels, key=SEVERITY_LEVELS.index, default=SEVERITY_LEVEL_NONE)


ALARM_SENSORS: tuple[AlarmSensorEntityDescription, ...] = (
    AlarmSensorEntityDescription(
        key="alarm_count",
        translation_key="active_alarms",
        state_class=SensorStateClass.MEASUREMENT,
        # The problem sensor shows the same (on, with the alarms as attributes): on request.
        entity_registry_enabled_default=False,
        value_fn=lambda org, device_id: sum(
            counts_as_alarm(a.severity) for a in org.active_by_device.get(device_id, ())
        ),
    ),
    AlarmSensorEntityDescription(
        key="alarm_severity",
        translation_key="alarm_severity",
        device_class=SensorDeviceClass.ENUM,
        entity_registry_enabled_default=False,
        options=list(SEVERITY_LEVELS),
        value_fn=_worst_level,
    ),
)


PROBLEM = BinarySensorEntityDescription(
    key="problem", translation_key="device_problem", device_class=BinarySensorDeviceClass.PROBLEM
)
STREAM = BinarySensorEntityDescription(
    key="stream",
    translation_key="measurement_stream",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


ALARM_EVENTS = EventEntityDescription(
    key="alarms", translation_key="alarms", event_types=[ALARM_RAISED, ALARM_CLEARED]
)


def alarm_events_enabled(device: InventoryObject) -> bool:
    """Whether a device's alarm events are enabled on first install.

    A part of a composite device (a PDU's bank or outlet, dozens per PDU) has them on request:
    its problem sensor already shows its alarms, and few automate on a single outlet.
    """
    return not device.parent_id
