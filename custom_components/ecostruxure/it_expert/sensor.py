"""IT Expert sensors: one per device sensor (values from the live stream), and alarm figures."""

from collections.abc import Iterable
from typing import override

from homeassistant.components.sensor import (
    SensorEntity,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..api.it_expert.models import InventoryKind, Sensor, SensorValueType
from ..entity import async_add_topology_entities
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .descriptions import ALARM_SENSORS, AlarmSensorEntityDescription, reading_description
from .entity import ITExpertEntity

# Home Assistant refuses longer states.
MAX_STATE_LENGTH = 255


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
