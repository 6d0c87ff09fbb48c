"""Typed, frozen models of the IT Expert resources.

Open sets (device, location and sensor types, units) are plain strings so that what the
service adds tomorrow is kept. Severities are a closed set within an API version; an unknown
one is still kept as its string.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class InventoryKind(StrEnum):
    """The three kinds of inventory object."""

    ORGANIZATION = "organization"
    LOCATION = "location"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class InventoryObject:
    """An organization, a location or a device.

    A location's `parent_id` is its parent location; a device's is its parent device (a bank
    or outlet of a rack PDU names the PDU), and its `location_id` the location it is in.
    """

    id: str
    kind: InventoryKind
    label: str | None = None
    type: str | None = None  # location or device kind: SITE, ROOM, RACK / UPS, RPDU, ...
    parent_id: str | None = None
    location_id: str | None = None
    address: str | None = None
    model: str | None = None
    serial_number: str | None = None
    gateway_ids: tuple[str, ...] = ()


class SensorValueType(StrEnum):
    """Whether a sensor reports numbers or text."""

    NUMERIC = "numeric"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class Sensor:
    """One measured point of a device: its unit, label and kind."""

    id: str
    device_id: str | None
    label: str | None = None
    unit: str | None = None
    type: str | None = None  # TEMPERATURE, HUMIDITY, POWER, ENERGY, LOAD, RUNTIME, ...
    value_type: SensorValueType = SensorValueType.NUMERIC


class ITSeverity(StrEnum):
    """Alarm severities of the API's current version."""

    OK = "OK"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"
    INITIALIZE = "INITIALIZE"


@dataclass(frozen=True, slots=True)
class ITAlarm:
    """An alarm of a device; cleared once `cleared` is set. Never deleted, only aged out."""

    id: str
    device_id: str | None
    label: str | None
    message: str | None
    severity: ITSeverity | str
    activated: datetime | None
    cleared: datetime | None = None
    reactivation_count: int = 0

    @property
    def active(self) -> bool:
        """Whether the alarm is still raised."""
        return self.cleared is None


@dataclass(frozen=True, slots=True)
class Snapshot[T]:
    """A full list, and the offset to ask for changes after."""

    offset: int
    items: tuple[T, ...]


@dataclass(frozen=True, slots=True)
class Change[T]:
    """One change: an object created or updated (`item`), or deleted (`deleted_id`)."""

    item: T | None = None
    deleted_id: str | None = None


@dataclass(frozen=True, slots=True)
class Changes[T]:
    """The changes after an offset, in order, and the offset to continue from.

    `caught_up` is False when the client stopped after its page limit with more to come.
    """

    offset: int
    changes: tuple[Change[T], ...]
    caught_up: bool = True


@dataclass(frozen=True, slots=True)
class DeviceWithAncestors:
    """A device and its parents, nearest first (parent devices, locations, organization)."""

    device: InventoryObject
    ancestors: tuple[InventoryObject, ...]


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One measurement line of a stream.

    `offset` is set on some lines only: the point a replay can restart from.
    """

    sensor_id: str
    timestamp: datetime
    value: float | str | None
    offset: str | None = None
