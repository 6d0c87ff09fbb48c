"""IT Expert sensors: one per device sensor (values from the live stream), and alarm figures."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..api.it_expert.models import InventoryKind, Sensor, SensorValueType
from ..entity import async_add_topology_entities
from ..units import device_class_accepts
from .const import SEVERITY_LEVEL_NONE, SEVERITY_LEVELS, counts_as_alarm, severity_level
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .data import Organization
from .entity import ITExpertEntity

# Home Assistant refuses longer states.
MAX_STATE_LENGTH = 255

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


class ReadingSensor(ITExpertEntity, SensorEntity):
    """The latest reading of one device sensor, pushed by the measurement stream."""

    def __init__(
        self, coordinator: ITExpertCoordinator, organization_id: str, sensor: Sensor
    ) -> None:
        """Describe the sensor from its type and unit; named by its label."""
        super().__init__(
            coordinator, organization_id, sensor.device_id or "", f"sensor-{sensor.id}"
        )
        self.sensor = sensor
        self.entity_description = reading_description(sensor)
        self._attr_name = (sensor.label or sensor.type or sensor.id)[:MAX_STATE_LENGTH]
        self._stream = coordinator.streams[organization_id]

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the stream: this sensor's readings, and whether they are current."""
        await super().async_added_to_hass()
        self.async_on_remove(self._stream.async_add_listener(self.sensor.id, self._on_stream))
        self.async_on_remove(self._stream.async_add_status_listener(self._on_stream))

    @callback
    def _on_stream(self) -> None:
        self._handle_coordinator_update()

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the organization is, or the stream has been down for a while."""
        return super().available and self._stream.fresh

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The reading's value: the state follows from it (no rendering to compare)."""
        return (self.available, self.native_value)

    @property
    @override
    def native_value(self) -> StateType:
        """The newest reading; None (unknown) until the sensor reports after start."""
        reading = self._stream.readings.get(self.sensor.id)
        value = None if reading is None else reading.value
        if value is None:
            return None
        if self.sensor.value_type == SensorValueType.STRING:
            return str(value)[:MAX_STATE_LENGTH]
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None  # text where a number is due: unknown, never a made-up value
        return value


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


class AlarmSensor(ITExpertEntity, SensorEntity):
    """The number of a device's active alarms, or the worst of their severities."""

    entity_description: AlarmSensorEntityDescription

    def __init__(
        self,
        coordinator: ITExpertCoordinator,
        organization_id: str,
        device_id: str,
        description: AlarmSensorEntityDescription,
    ) -> None:
        """Attach the sensor to its device."""
        super().__init__(coordinator, organization_id, device_id, description.key)
        self.entity_description = description

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The value: the state follows from it (no rendering to compare)."""
        return (self.available, self.native_value)

    @property
    @override
    def native_value(self) -> StateType:
        """Computed from the device's active alarms."""
        return self.entity_description.value_fn(self.organization, self.object_id)


def build_sensors(coordinator: ITExpertCoordinator) -> Iterable[Entity]:
    """The sensors of every listed device, and of their sensors."""
    for org in coordinator.organizations.values():
        for item in org.objects.values():
            if item.kind == InventoryKind.DEVICE:
                for description in ALARM_SENSORS:
                    yield AlarmSensor(coordinator, org.id, item.id, description)
        for sensor in org.sensors.values():
            # A sensor of a device not listed yet waits for it (eventual consistency).
            device = org.objects.get(sensor.device_id or "")
            if device is not None and device.kind == InventoryKind.DEVICE:
                yield ReadingSensor(coordinator, org.id, sensor)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ITExpertConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensor entities of every IT Expert object, as the inventory changes."""
    coordinator = entry.runtime_data
    async_add_topology_entities(
        entry, coordinator, async_add_entities, lambda: build_sensors(coordinator)
    )
