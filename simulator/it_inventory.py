"""Simulated IT Expert organizations: their locations, devices and sensors.

Everything is derived from the seed: the same configuration gives the same ids, labels and
values. Each sensor reads a closed-form function of time (see signals.py), so a value can be
computed for any instant without keeping history, and energy counters only grow.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
import hashlib
import math
from typing import Final
import uuid

from .building import COUNTER_EPOCH, Json
from .signals import Signal, make_signal, uniform, unit_interval

type Reader = Callable[[float], float | str]

NUMERIC: Final = "NUMERIC"
STRING: Final = "STRING"
_NOMINAL_VOLTAGE: Final = 230.0


def make_id(*parts: object) -> str:
    """A reproducible UUID (the service's ids are UUIDs) derived from `parts`."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


@dataclass(frozen=True, slots=True)
class _Customer:
    label: str
    address: str
    site: str
    utc_offset: float  # for the daily rhythm of the loads


# Realistic names in several alphabets: the integration must keep them as they are.
_CUSTOMERS: Final = (
    _Customer("Flamingo Inc.", "Silcon Alle 1, 6000 Kolding, Denmark", "Kolding", 1),
    _Customer("Nordlys Datacenter AS", "Strandveien 14, 9006 Tromsø, Norway", "Tromsø", 1),
    _Customer(
        "Société Générale des Données",
        "12 rue de la Gare, 69002 Lyon, France",
        "Lyon – Gerland",
        1,
    ),
    _Customer(
        "Müller & Söhne Rechenzentrum GmbH",
        "Schönfeldstraße 12, 80539 München, Germany",
        "München-Süd",
        1,
    ),
    _Customer("Łódź Serwerownia Sp. z o.o.", "ul. Piotrkowska 104, 90-001 Łódź, Poland", "Łódź", 1),
    _Customer(
        "東京データセンター株式会社",
        "東京都千代田区丸の内1-1, 100-0005, Japan",
        "東京 大手町",
        9,
    ),
    _Customer("Harbor Hosting LLC", "800 Federal Street, Boston MA 02110, USA", "Boston", -5),
    _Customer("Café Cloud S.L.", "Calle Doña María Coronel 4, 41003 Sevilla, Spain", "Sevilla", 1),
)
_DEMO: Final = _Customer("Demo Organization", "Demo Street 1, 0000 Demo City", "Demo Site", 0)

# (label, severity, message, escalated severity) of the alarms a device type raises by itself.
ALARM_KINDS: Final[dict[str, tuple[tuple[str, str, str, str | None], ...]]] = {
    "UPS": (
        ("On battery", "CRITICAL", "Input power lost: the UPS runs on battery.", None),
        ("Battery replacement needed", "WARNING", "The battery failed its self-test.", "ERROR"),
        ("Output overload", "ERROR", "The load exceeds the UPS rating.", "CRITICAL"),
    ),
    "RPDU": (
        ("Load near the limit", "WARNING", "A bank draws more than 80 % of its rating.", "ERROR"),
        ("Bank overload", "ERROR", "A bank exceeds its rating.", "CRITICAL"),
    ),
    "COOLING": (
        ("High supply air temperature", "WARNING", "Supply air above 25 °C.", "ERROR"),
        ("Fan failure", "CRITICAL", "A fan module stopped.", None),
    ),
    "ENVIRONMENTAL_MONITOR": (
        ("Humidity out of range", "WARNING", "Relative humidity outside 20–80 %.", None),
        ("Door open", "INFO", "The rack door has been open for 5 minutes.", None),
        ("Device communication lost", "FAIL", "The gateway lost contact with the device.", None),
    ),
}

# What test code may add with `add_device`, and what `add_sensor` gives a sensor by default.
DEVICE_TYPES: Final = ("UPS", "RPDU", "COOLING", "ENVIRONMENTAL_MONITOR", "PDU_BANK", "OUTLET")


@dataclass(slots=True)
class SimSensor:
    """One measured point of a device and the function of time behind it."""

    id: str
    device_id: str
    label: str
    type: str | None  # None: listed without a type, as the vendor's material never names one
    unit: str | None
    read: Reader
    value_type: str = NUMERIC
    decimals: int = 1

    def value(self, t: float) -> float | str:
        """What the sensor reports at Unix time `t`."""
        value = self.read(t)
        return round(value, self.decimals) if isinstance(value, float) else value

    def to_json(self) -> Json:
        """The sensor as the service lists it."""
        listed: Json = {
            "id": self.id,
            "deviceId": self.device_id,
            "label": self.label,
            "unit": self.unit,
            "type": self.type,
            "valueType": self.value_type,
        }
        if self.type is None:
            del listed["type"]
        return listed


@dataclass(slots=True)
class SimDevice:
    """A device of the inventory; a bank or an outlet names its parent device."""

    id: str
    label: str
    type: str
    location_id: str | None
    parent_id: str | None = None
    model: str | None = None
    serial_number: str | None = None
    gateway_ids: tuple[str, ...] = ()
    sensors: list[SimSensor] = field(default_factory=list)
    extra: Json = field(default_factory=dict)  # fields the client does not know

    def to_json(self) -> Json:
        """The device as an inventory object; a missing model is left out, a serial null."""
        body: Json = {
            "inventoryObjectType": "Device",
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "locationId": self.location_id,
            "parentId": self.parent_id,
        }
        if self.model is not None:
            body["modelName"] = self.model
        body["serialNumber"] = self.serial_number
        body["gatewayIds"] = list(self.gateway_ids)
        return body | self.extra


@dataclass(frozen=True, slots=True)
class SimLocation:
    """A site, building, room or rack."""

    id: str
    label: str
    type: str
    parent_id: str | None

    def to_json(self) -> Json:
        """The location as an inventory object."""
        return {
            "inventoryObjectType": "Location",
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "parentId": self.parent_id,
        }


@dataclass(slots=True)
class SimOrganization:
    """A customer (or the demo organization) and its inventory as the service lists it now."""

    id: str
    index: int
    label: str
    address: str
    utc_offset: float
    locations: dict[str, SimLocation] = field(default_factory=dict)
    devices: dict[str, SimDevice] = field(default_factory=dict)
    gateway_ids: tuple[str, ...] = ()

    def to_json(self) -> Json:
        """The organization as an inventory object."""
        return {
            "inventoryObjectType": "Organization",
            "id": self.id,
            "label": self.label,
            "address": self.address,
        }

    def sensors(self) -> Iterable[SimSensor]:
        """Every sensor of the listed devices."""
        for device in self.devices.values():
            yield from device.sensors

    def ancestors(self, device: SimDevice) -> list[Json]:
        """Parent devices, then locations from the innermost, then the organization."""
        chain: list[Json] = []
        location_id = device.location_id
        parent = self.devices.get(device.parent_id or "")
        while parent is not None:
            chain.append(parent.to_json())
            location_id = location_id or parent.location_id
            parent = self.devices.get(parent.parent_id or "")
        location = self.locations.get(location_id or "")
        while location is not None:
            chain.append(location.to_json())
            location = self.locations.get(location.parent_id or "")
        chain.append(self.to_json())
        return chain


def _summed(signals: Iterable[Signal], factor: float = 1.0) -> Signal:
    """The sum of signals (still closed-form), scaled by `factor`."""
    signals = list(signals)
    total = Signal(sum(s.mean for s in signals), tuple(w for s in signals for w in s.waves))
    return total.scaled(factor)


_MODELS: Final = {
    "UPS": "SMX3000RMHV2U",
    "RPDU": "AP8858",
    "COOLING": "ACRC301S",
    "ENVIRONMENTAL_MONITOR": "NBRK0250",
}
_LABELS: Final = {
    "UPS": "Smart-UPS X 3000",
    "RPDU": "Rack PDU 2G 16A",
    "COOLING": "InRow RC",
    "ENVIRONMENTAL_MONITOR": "NetBotz 250",
}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new device goes: a location, a parent device, the gateways that read it."""

    location_id: str | None = None
    parent_id: str | None = None
    gateway_ids: tuple[str, ...] = ()


def _serial(*parts: object) -> str:
    return f"ZA{int(unit_interval(*parts, 'serial') * 1e10):010d}"


class OrganizationBuilder:
    """Builds an organization and, later, the devices a test adds to it."""

    def __init__(
        self,
        seed: int,
        index: int,
        *,
        demo: bool = False,
        spell_id: Callable[[str], str] | None = None,
    ) -> None:
        """Prepare the organization at `index` (the demo one has its own identity).

        `spell_id` rewrites the ids of its locations, devices and sensors.
        """
        self.seed = seed
        self.spell_id = spell_id or str
        customer = _DEMO if demo else _CUSTOMERS[index % len(_CUSTOMERS)]
        label = customer.label
        if not demo and index >= len(_CUSTOMERS):
            label = f"{label} ({index // len(_CUSTOMERS) + 1})"  # labels stay unique
        key = "demo" if demo else index
        self.org = SimOrganization(
            id=make_id(seed, "organization", key),
            index=index,
            label=label,
            address=customer.address,
            utc_offset=customer.utc_offset,
            gateway_ids=(make_id(seed, key, "gateway", 0), make_id(seed, key, "gateway", 1)),
        )
        self._site = customer.site
        self._added = 0

    # --- the initial inventory -------------------------------------------------------------

    def build(self, rooms: int, racks_per_room: int, outlets_per_pdu: int) -> SimOrganization:
        """Locations, devices and sensors; odd organizations have a building level."""
        org = self.org
        site = self._location("SITE", self._site, None, "site")
        parent = site
        if org.index % 2 == 1:
            parent = self._location("BUILDING", "Building A", site.id, "building")
        rack_number = 0
        for room_index in range(rooms):
            room = self._location(
                "ROOM", f"DC-Room {room_index + 1}", parent.id, "room", room_index
            )
            gateway = (org.gateway_ids[room_index % len(org.gateway_ids)],)
            for _ in range(racks_per_room):
                rack_number += 1
                rack = self._location(
                    "RACK", f"Rack {rack_number:02d}", room.id, "rack", rack_number
                )
                self._rack_devices(Placement(rack.id, None, gateway), outlets_per_pdu, rack_number)
            in_room = Placement(room.id, None, gateway)
            self._list(self.make("COOLING", in_room, f"cooling{room_index}"))
            self._list(self.make("ENVIRONMENTAL_MONITOR", in_room, f"env{room_index}"))
        # A device not placed anywhere yet: it hangs under the organization.
        self._list(self.make("UPS", Placement(), "unplaced", label="Smart-UPS 1500 (unplaced)"))
        return org

    def _list(self, devices: list[SimDevice]) -> None:
        for device in devices:
            self.org.devices[device.id] = device

    def _location(self, kind: str, label: str, parent_id: str | None, *key: object) -> SimLocation:
        location = SimLocation(self.spell_id(make_id(self.org.id, *key)), label, kind, parent_id)
        self.org.locations[location.id] = location
        return location

    def _rack_devices(self, rack: Placement, outlets: int, number: int) -> None:
        """A UPS feeding a rack PDU (its banks and outlets) in a rack."""
        pdu, power = self._pdu_devices(rack, outlets, f"r{number}")
        # The UPS feeds the PDU: its output power is the PDU's.
        ups = self._device("UPS", rack, f"r{number}ups")
        self._ups_sensors(ups, power)
        self._list([ups, *pdu])

    # --- devices ---------------------------------------------------------------------------

    def make(
        self,
        kind: str,
        placement: Placement,
        key: str | None = None,
        *,
        label: str | None = None,
        outlets: int = 8,
    ) -> list[SimDevice]:
        """A device of type `kind` with its sensors (a PDU with its banks and outlets)."""
        if key is None:
            self._added += 1
            key = f"added{self._added}"
        if kind == "RPDU":
            devices, _ = self._pdu_devices(placement, outlets, key, label)
            return devices
        device = self._device(kind, placement, key, label)
        if kind == "UPS":
            self._ups_sensors(device, self._signal(device.id, "load", 900, 300, 60))
        elif kind == "COOLING":
            self._cooling_sensors(device)
        elif kind == "ENVIRONMENTAL_MONITOR":
            self._environment_sensors(device)
        elif kind == "PDU_BANK":
            current = self._signal(device.id, "current", 4, 1, 0.3)
            device.sensors.append(self._sensor(device, "Current", "CURRENT", "A", current.value))
        elif kind == "OUTLET":
            self._outlet_sensors(device, self._signal(device.id, "power", 120, 30, 10))
        return [device]

    def _device(
        self, kind: str, placement: Placement, key: str, label: str | None = None
    ) -> SimDevice:
        device_id = self.spell_id(make_id(self.org.id, "device", key))
        model = _MODELS.get(kind)
        # About one device in five with a model has no serial number on record.
        serial = None
        if model is not None and unit_interval(device_id, "has-serial") >= 0.2:
            serial = _serial(device_id)
        device = SimDevice(
            device_id,
            label or _LABELS.get(kind, kind.replace("_", " ").title()),
            kind,
            placement.location_id,
            placement.parent_id,
            model,
            serial,
            placement.gateway_ids,
        )
        if kind == "UPS":
            device.extra = {"warrantyExpirationDate": "2028-03-31", "deviceNote": None}
        return device

    def _pdu_devices(
        self, placement: Placement, outlets: int, key: str, label: str | None = None
    ) -> tuple[list[SimDevice], Signal]:
        """A rack PDU, its banks (children of the PDU) and outlets (children of a bank).

        Also returns the PDU's total power, the sum of its outlets'.
        """
        pdu = self._device("RPDU", placement, key + "pdu", label)
        below_pdu = Placement(placement.location_id, pdu.id, placement.gateway_ids)
        banks = [
            self._device("PDU_BANK", below_pdu, f"{key}bank{n}", f"Bank {n + 1}")
            for n in range(1 if outlets < 2 else 2)
        ]
        outlet_devices: list[SimDevice] = []
        bank_powers: list[list[Signal]] = [[] for _ in banks]
        for number in range(outlets):
            bank_index = number * len(banks) // outlets
            below_bank = Placement(
                placement.location_id, banks[bank_index].id, placement.gateway_ids
            )
            outlet = self._device(
                "OUTLET", below_bank, f"{key}outlet{number}", f"Outlet {number + 1}"
            )
            # About one outlet in eight is switched off: no power, the counter stands still.
            off = unit_interval(outlet.id, "off") < 0.125
            power = Signal(0.0) if off else self._signal(outlet.id, "power", 150, 40, 15)
            self._outlet_sensors(outlet, power)
            bank_powers[bank_index].append(power)
            outlet_devices.append(outlet)
        for bank, powers in zip(banks, bank_powers, strict=True):
            current = _summed(powers, 1 / _NOMINAL_VOLTAGE)
            bank.sensors.append(
                self._sensor(bank, "Current", "CURRENT", "A", current.value, decimals=2)
            )
        total = _summed(p for powers in bank_powers for p in powers)
        amps = total.scaled(1 / _NOMINAL_VOLTAGE)
        pdu.sensors += [
            self._sensor(pdu, "Power", "POWER", "W", total.value, decimals=0),
            self._sensor(pdu, "Current", "CURRENT", "A", amps.value, decimals=2),
        ]
        return [pdu, *banks, *outlet_devices], total

    # --- sensors ---------------------------------------------------------------------------

    def _signal(
        self, sensor_key: str, name: str, mean: float, daily: float, wobble: float
    ) -> Signal:
        return make_signal(
            mean,
            daily=daily,
            noise=(wobble, wobble / 2),
            utc_offset_hours=self.org.utc_offset,
            seed=(self.seed, sensor_key, name),
        )

    def _sensor(
        self,
        device: SimDevice,
        label: str,
        kind: str,
        unit: str | None,
        read: Reader,
        *,
        decimals: int = 1,
        value_type: str = NUMERIC,
    ) -> SimSensor:
        sensor_id = self.spell_id(make_id(device.id, "sensor", kind, label, len(device.sensors)))
        return SimSensor(sensor_id, device.id, label, kind, unit, read, value_type, decimals)

    def _ups_sensors(self, ups: SimDevice, power: Signal) -> None:
        """Load, battery, runtime, power, voltage and status; an outage is short and rare."""
        capacity = 3000.0

        def on_battery_since(t: float) -> float | None:
            # In about 3 % of the hours the input fails for the first ten minutes.
            hour = math.floor(t / 3600)
            if unit_interval(ups.id, "outage", hour) < 0.03 and t - hour * 3600 < 600:
                return t - hour * 3600
            return None

        def status(t: float) -> str:
            return "online" if on_battery_since(t) is None else "on battery"

        def charge(t: float) -> float:
            since = on_battery_since(t)
            return 100.0 if since is None else 100.0 - since / 60 * 2.5

        def runtime(t: float) -> float:
            full = 30_000 / max(power.value(t), 50.0)  # minutes: larger loads drain faster
            return full * charge(t) / 100

        def voltage(t: float) -> float:
            return 0.0 if on_battery_since(t) is not None else mains.value(t)

        mains = make_signal(_NOMINAL_VOLTAGE, noise=(2.0, 1.0), seed=(self.seed, ups.id, "v"))
        ups.sensors += [
            self._sensor(ups, "Load", "LOAD", "%", power.scaled(100 / capacity).value),
            self._sensor(ups, "Battery charge", "BATTERY_CHARGE", "%", charge, decimals=0),
            self._sensor(ups, "Runtime remaining", "RUNTIME", "min", runtime),
            self._sensor(ups, "Output power", "POWER", "W", power.value, decimals=0),
            self._sensor(ups, "Input voltage", "VOLTAGE", "V", voltage),
            self._sensor(ups, "Status", "STATUS", None, status, value_type=STRING),
        ]

    def _outlet_sensors(self, outlet: SimDevice, power: Signal) -> None:
        start = uniform(50, 5000, self.seed, outlet.id, "energy")

        def energy(t: float) -> float:
            # kWh since the counter was installed: the integral of a power that is never negative.
            return start + power.integral(COUNTER_EPOCH, t) / 3_600_000

        state = "off" if power.mean == 0 else "on"
        outlet.sensors += [
            self._sensor(outlet, "Power", "POWER", "W", power.value, decimals=0),
            self._sensor(outlet, "Energy", "ENERGY", "kWh", energy, decimals=3),
            self._sensor(outlet, "State", "OUTLET_STATE", None, lambda t: state, value_type=STRING),
        ]

    def _cooling_sensors(self, unit: SimDevice) -> None:
        supply = self._signal(unit.id, "supply", 18, 0.5, 0.3)
        delta = self._signal(unit.id, "delta", 10, 2, 0.5)
        fan = self._signal(unit.id, "fan", 55, 10, 3)
        power = self._signal(unit.id, "power", 1800, 300, 80)

        def return_air(t: float) -> float:
            return supply.value(t) + delta.value(t)

        unit.sensors += [
            self._sensor(unit, "Supply air temperature", "TEMPERATURE", "°C", supply.value),
            self._sensor(unit, "Return air temperature", "TEMPERATURE", "°C", return_air),
            self._sensor(unit, "Fan speed", "FAN_SPEED", "%", fan.value, decimals=0),
            self._sensor(unit, "Power", "POWER", "W", power.value, decimals=0),
        ]

    def _environment_sensors(self, monitor: SimDevice) -> None:
        temperature = self._signal(monitor.id, "temperature", 22.5, 1.5, 0.4)
        humidity = self._signal(monitor.id, "humidity", 45, 8, 2)
        airflow = self._signal(monitor.id, "airflow", 1200, 150, 40)

        def dew_point(t: float) -> float:
            # The Magnus formula: a function of the two other values at the same instant.
            temp, rh = temperature.value(t), humidity.value(t)
            gamma = math.log(rh / 100) + 17.62 * temp / (243.12 + temp)
            return 243.12 * gamma / (17.62 - gamma)

        monitor.sensors += [
            self._sensor(monitor, "Temperature", "TEMPERATURE", "°C", temperature.value),
            self._sensor(monitor, "Humidity", "HUMIDITY", "%", humidity.value, decimals=0),
            self._sensor(monitor, "Dew point", "DEW_POINT", "°C", dew_point),
            # A kind the integration does not know: it must still show up with its unit.
            self._sensor(monitor, "Airflow", "AIRFLOW", "m³/h", airflow.value, decimals=0),
        ]

    def custom_sensor(
        self,
        device: SimDevice,
        label: str,
        kind: str,
        unit: str | None,
        value_type: str = NUMERIC,
    ) -> SimSensor:
        """A sensor a test adds: a wobbling number, or a fixed text."""
        if value_type == STRING:
            return self._sensor(device, label, kind, unit, lambda t: "ok", value_type=STRING)
        signal = self._signal(device.id, label, 50, 10, 2)
        return self._sensor(device, label, kind, unit, signal.value)
