"""Typed, frozen models of the Facility Expert resources.

Open sets (quantities, asset types, alarm types, severities, statuses) are plain strings so
that a value the service adds tomorrow is kept; the StrEnums name the values known today and
compare equal to those strings.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Quantity(StrEnum):
    """Measurement quantities known today."""

    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    CO2 = "co2"
    ACTIVE_ENERGY = "active_energy"
    REACTIVE_ENERGY = "reactive_energy"
    ACTIVE_POWER = "active_power"
    REACTIVE_POWER = "reactive_power"
    APPARENT_POWER = "apparent_power"
    VOLTAGE = "voltage"
    CURRENT = "current"
    FREQUENCY = "frequency"
    POWER_FACTOR = "power_factor"


class AssetType(StrEnum):
    """Asset types known today."""

    BUILDING = "building"
    FLOOR = "floor"
    ROOM = "room"
    LV_SWITCHBOARD = "lv_switchboard"
    MV_SWITCHGEAR = "mv_switchgear"
    TRANSFORMER = "transformer"
    FEEDER = "feeder"
    LOAD = "load"
    METER = "meter"
    COMFORT_SENSOR = "comfort_sensor"
    THERMAL_SENSOR = "thermal_sensor"
    GATEWAY = "gateway"


class AlarmType(StrEnum):
    """Alarm types known today."""

    COMFORT_TEMPERATURE_HIGH = "comfort_temperature_high"
    COMFORT_TEMPERATURE_LOW = "comfort_temperature_low"
    COMFORT_HUMIDITY = "comfort_humidity"
    COMFORT_CO2_HIGH = "comfort_co2_high"
    POWER_LOSS = "power_loss"
    OVERLOAD = "overload"
    LOAD_STOP = "load_stop"
    TRIP = "trip"
    PHASE_LOSS = "phase_loss"
    VOLTAGE_LOSS = "voltage_loss"
    CABLE_OVERHEATING = "cable_overheating"
    SWITCHBOARD_OVERHEATING = "switchboard_overheating"
    CONDENSATION_RISK = "condensation_risk"
    COMMUNICATION_LOSS = "communication_loss"


class Severity(StrEnum):
    """Alarm severities known today, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ConnectionStatus(StrEnum):
    """Communication status of a site or gateway."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    UNKNOWN = "unknown"


class Interval(StrEnum):
    """Aggregation intervals of the time-series operation."""

    RAW = "raw"
    FIFTEEN_MINUTES = "15min"
    HOUR = "hour"
    DAY = "day"


class AlarmStatus(StrEnum):
    """Which alarms the alarm operation returns."""

    ACTIVE = "active"
    CLEARED = "cleared"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Address:
    """Postal address of a site; every part is optional."""

    street: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class Site:
    """A site the technical token grants access to."""

    id: str
    name: str
    address: Address = field(default_factory=Address)
    time_zone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    connection_status: str = ConnectionStatus.UNKNOWN
    last_communication: datetime | None = None


@dataclass(frozen=True, slots=True)
class Gateway:
    """A gateway (e.g. a Panel Server) that reports a site's devices to the cloud."""

    id: str
    name: str
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    connection_status: str = ConnectionStatus.UNKNOWN
    last_communication: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiteDetail:
    """One site with its gateways."""

    site: Site
    gateways: tuple[Gateway, ...] = ()


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value an asset reports; `quantity` says what it measures."""

    id: str
    name: str
    quantity: str
    unit: str | None = None
    phase: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """A node of a site's asset tree (building, room, switchboard, feeder, meter, ...)."""

    id: str
    name: str
    type: str
    parent_id: str | None = None
    functional_name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    commercial_reference: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    gateway_id: str | None = None
    measurements: tuple[Measurement, ...] = ()
    alarm_types: tuple[str, ...] = ()


@dataclass(slots=True)
class LatestValue:
    """The last known value of a measurement; `value` is None when the device did not report.

    Read-only by convention, not frozen: a cycle makes tens of thousands, and a frozen
    dataclass takes three times as long to make (scripts/bench).
    """

    measurement_id: str
    timestamp: datetime
    value: float | None
    asset_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimeSeriesPoint:
    """One point of a series: the mean, or for counters the reading at the interval's end."""

    timestamp: datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class Series:
    """The points of one measurement over the requested period, oldest first."""

    measurement_id: str
    points: tuple[TimeSeriesPoint, ...]
    unit: str | None = None
    interval: str | None = None


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm raised by an asset; active while `cleared_at` is None."""

    id: str
    asset_id: str
    type: str
    activated_at: datetime
    site_id: str | None = None
    severity: str | None = None
    label: str | None = None
    message: str | None = None
    cleared_at: datetime | None = None
    acknowledged: bool | None = None

    @property
    def active(self) -> bool:
        """Whether the alarm is still active."""
        return self.cleared_at is None
