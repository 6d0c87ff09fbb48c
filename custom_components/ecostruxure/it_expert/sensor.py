"""IT Expert sensors: one per device sensor (values from the live stream), and alarm figures."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorEntity,
    SensorExtraStoredData,
)
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..api.it_expert.models import InventoryKind, Sensor, SensorReading, SensorValueType
from ..entity import async_add_topology_entities
from . import const
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .data import device_key, sensor_key
from .descriptions import ALARM_SENSORS, AlarmSensorEntityDescription, reading_description
from .entity import ITExpertEntity

# Home Assistant refuses longer states.
MAX_STATE_LENGTH = 255


@dataclass
class ReadingExtraStoredData(SensorExtraStoredData):
    """The stored value, with the reading's time and until when it was known current."""

    timestamp: datetime | None
    current_at: datetime | None

    @override
    def as_dict(self) -> dict[str, Any]:
        """The sensor's stored data, and the two times."""
        return {
            **super().as_dict(),
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "current_at": self.current_at.isoformat() if self.current_at else None,
        }


def _parse_time(value: object) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


class ReadingSensor(ITExpertEntity, RestoreSensor):
    """The latest reading of one device sensor, pushed by the measurement stream.

    The last reading is restored at start. It counts as current by the rule of live readings:
    until the stream has been down (here: Home Assistant stopped, or the stream last seen)
    for longer than the stream's grace period. Older, it is dropped: unavailable, then
    unknown until the sensor reports.
    """

    def __init__(
        self, coordinator: ITExpertCoordinator, organization_id: str, sensor: Sensor
    ) -> None:
        """Describe the sensor from its type and unit; named by its label."""
        super().__init__(
            coordinator,
            organization_id,
            sensor.device_id or "",
            f"sensor-{sensor.id}",
            sensor_key(organization_id, sensor.id),
        )
        self.sensor = sensor
        self.entity_description = reading_description(sensor)
        self._attr_name = (sensor.label or sensor.type or sensor.id)[:MAX_STATE_LENGTH]
        self._stream = coordinator.streams[organization_id]
        # The restored reading, while no live one replaced it, and until when it was current.
        self._restored: SensorReading | None = None
        self._restored_current_at: datetime | None = None

    @override
    async def async_added_to_hass(self) -> None:
        """Restore the last reading; follow the stream: readings, and whether they are current."""
        await self._async_restore()
        await super().async_added_to_hass()
        self.async_on_remove(self._stream.async_add_listener(self.sensor.id, self._on_reading))
        self.async_on_remove(self._stream.async_add_status_listener(self._on_stream))

    async def _async_restore(self) -> None:
        """Give the stream the last reading if it is still current (and the stream has none)."""
        data = await self.async_get_last_sensor_data()
        extra = await self.async_get_last_extra_data()
        if data is None or extra is None or data.native_value is None:
            return
        stored = extra.as_dict()
        timestamp = _parse_time(stored.get("timestamp"))
        current_at = _parse_time(stored.get("current_at"))
        if timestamp is None or current_at is None:
            return  # stored by a version that kept no times: its age is not known
        if dt_util.utcnow() - current_at >= const.STREAM_GRACE:
            return  # too old to be shown as current
        value = data.native_value
        if not isinstance(value, (int, float, str)):
            return
        reading = SensorReading(self.sensor.id, timestamp, value)
        if not self._stream.restore(reading):
            return  # a live reading came first
        self._restored = reading
        self._restored_current_at = current_at
        # Goes unavailable when the grace runs out, unless the stream connected meanwhile.
        self.async_on_remove(
            async_call_later(
                self.hass,
                const.STREAM_GRACE - (dt_util.utcnow() - current_at),
                self._on_restored_grace_over,
            )
        )

    @property
    @override
    def extra_restore_state_data(self) -> ReadingExtraStoredData:
        """The value, its reading's time, and until when it was known current."""
        reading = self._stream.readings.get(self.sensor.id)
        if self._stream.connected:
            current_at: datetime | None = dt_util.utcnow()
        elif self._stream.disconnected_at is not None:
            current_at = self._stream.disconnected_at
        else:
            current_at = self._restored_current_at  # not connected since start
        return ReadingExtraStoredData(
            self.native_value,
            self.native_unit_of_measurement,
            None if reading is None else reading.timestamp,
            current_at,
        )

    @callback
    def _on_reading(self, context: Context) -> None:
        self.async_set_context(context)  # the flush's: one cause for all its writes
        self._handle_coordinator_update()

    @callback
    def _on_stream(self) -> None:
        self._handle_coordinator_update()

    @callback
    def _on_restored_grace_over(self, _now: datetime) -> None:
        self._handle_coordinator_update()

    def _restored_current(self) -> bool:
        """Whether the restored reading is shown, the stream not connected since, and current."""
        return (
            self._restored is not None
            and self._restored_current_at is not None
            and self._stream.readings.get(self.sensor.id) is self._restored
            and not self._stream.connected
            and self._stream.disconnected_at is None
            and dt_util.utcnow() - self._restored_current_at < const.STREAM_GRACE
        )

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the organization is, or the stream has been down for a while."""
        return super().available and (self._stream.fresh or self._restored_current())

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The reading's value: the state follows from it (no rendering to compare)."""
        return (self.available, self.native_value)

    @property
    @override
    def native_value(self) -> StateType:
        """The newest reading (or the restored one); None (unknown) until there is one."""
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
        super().__init__(
            coordinator,
            organization_id,
            device_id,
            description.key,
            device_key(organization_id, device_id),
        )
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
    # Copies: a refresh may change them while the entities are built (over several steps).
    for org in list(coordinator.organizations.values()):
        for item in list(org.objects.values()):
            if item.kind == InventoryKind.DEVICE:
                for description in ALARM_SENSORS:
                    yield AlarmSensor(coordinator, org.id, item.id, description)
        for sensor in list(org.sensors.values()):
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
    await async_add_topology_entities(entry, coordinator, lambda: build_sensors(coordinator))
