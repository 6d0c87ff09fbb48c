"""Simulated buildings: sites in several countries, their gateways and asset trees.

Everything is derived from the seed, so two simulators with the same configuration serve the
same sites, ids, names and values.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
import math
from typing import Any

from .signals import Signal, make_signal, uniform, unit_interval

# Energy counters read `counter_start` at this instant and integrate power from there on.
COUNTER_EPOCH = datetime(2024, 1, 1, tzinfo=UTC).timestamp()

type Json = dict[str, Any]


@dataclass(slots=True)
class SimMeasurement:
    """One measured quantity of an asset and the signal behind it."""

    id: str
    name: str
    quantity: str
    unit: str | None
    signal: Signal
    phase: str | None = None
    context: str | None = None
    decimals: int = 1
    # Set for cumulative quantities (energy): the counter's reading at COUNTER_EPOCH.
    # Their signal is then the power (kW or kvar) the counter integrates.
    counter_start: float | None = None
    # A device that stopped reporting this value: the service answers `null` for it.
    silent: bool = False
    # When the meter was replaced: its counter starts again from 0 at that instant.
    replaced_at: float | None = None

    @property
    def cumulative(self) -> bool:
        """Whether the value is a counter that only grows."""
        return self.counter_start is not None

    def reading(self, t: float) -> float:
        """The value the device reports at Unix time `t`."""
        if self.counter_start is None:
            return round(self.signal.value(t), self.decimals)
        if self.replaced_at is not None and t >= self.replaced_at:
            energy = self.signal.integral(self.replaced_at, t) / 3600
        else:
            energy = self.counter_start + self.signal.integral(COUNTER_EPOCH, t) / 3600
        return round(max(0.0, energy), self.decimals)

    def aggregate(self, start: float, end: float) -> float:
        """An aggregated point: a counter's reading at the end, else the mean over the bucket."""
        if self.counter_start is not None:
            return self.reading(end)
        return round(self.signal.average(start, end), self.decimals)

    def to_json(self) -> Json:
        """The measurement as the service describes it in an asset."""
        return {
            "id": self.id,
            "name": self.name,
            "quantity": self.quantity,
            "unit": self.unit,
            "phase": self.phase,
            "context": self.context,
        }


@dataclass(slots=True)
class SimAsset:
    """One asset of a site's topology."""

    id: str
    name: str
    type: str
    parent_id: str | None
    gateway_id: str | None
    model: str | None = None
    commercial_reference: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    functional_name: str | None = None
    measurements: list[SimMeasurement] = field(default_factory=list)
    alarm_types: list[str] = field(default_factory=list)

    def to_json(self) -> Json:
        """The asset as the service lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "parentId": self.parent_id,
            "functionalName": self.functional_name,
            "manufacturer": "Schneider Electric" if self.model else None,
            "model": self.model,
            "commercialReference": self.commercial_reference,
            "serialNumber": self.serial_number,
            "firmwareVersion": self.firmware_version,
            "gatewayId": self.gateway_id,
            "measurements": [m.to_json() for m in self.measurements],
            "alarmTypes": list(self.alarm_types),
        }


@dataclass(slots=True)
class SimGateway:
    """A Panel Server that collects the values of some assets."""

    id: str
    name: str
    serial_number: str
    firmware_version: str
    model: str = "EcoStruxure Panel Server PAS600"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a simulated site stands."""

    name: str
    street: str | None
    city: str
    zip_code: str | None
    country: str
    time_zone: str
    latitude: float
    longitude: float
    utc_offset: float  # standard time, for the daily rhythm of the loads


LOCATIONS = (
    Location(
        "Siège – Rueil-Malmaison",
        "35 rue Joseph Monier",
        "Rueil-Malmaison",
        "92500",
        "FR",
        "Europe/Paris",
        48.876,
        2.176,
        1,
    ),
    Location(
        "Usine de Grenoble – Bâtiment Électra",
        "38 avenue du Vercors",
        "Grenoble",
        "38000",
        "FR",
        "Europe/Paris",
        45.188,
        5.724,
        1,
    ),
    Location(
        "Bürogebäude München-Süd",
        "Schönfeldstraße 12",
        "München",
        "80539",
        "DE",
        "Europe/Berlin",
        48.145,
        11.582,
        1,
    ),
    Location(
        "Centro logístico Sevilla",
        "Calle Doña María Coronel 4",
        "Sevilla",
        "41003",
        "ES",
        "Europe/Madrid",
        37.392,
        -5.990,
        1,
    ),
    Location(
        "Centrum Danych Łódź",
        "ul. Piotrkowska 104",
        "Łódź",
        "90-001",
        "PL",
        "Europe/Warsaw",
        51.765,
        19.457,
        1,
    ),
    Location(
        "Boston Research Lab",
        "800 Federal Street",
        "Boston",
        "02110",
        "US",
        "America/New_York",
        42.356,
        -71.057,
        -5,
    ),
    Location(
        "Centro de Distribuição São Paulo",
        "Av. Paulista 1000",
        "São Paulo",
        "01310-100",
        "BR",
        "America/Sao_Paulo",
        -23.564,
        -46.652,
        -3,
    ),
    Location(
        "東京オフィス Marunouchi",
        "2-1 Marunouchi",
        "Tōkyō",
        "100-0005",
        "JP",
        "Asia/Tokyo",
        35.681,
        139.767,
        9,
    ),
    Location(
        "Sydney Data Hall", None, "Sydney", None, "AU", "Australia/Sydney", -33.868, 151.207, 10
    ),
    Location(
        "Bengaluru Campus",
        "Whitefield Main Road",
        "Bengaluru",
        "560066",
        "IN",
        "Asia/Kolkata",
        12.970,
        77.750,
        5.5,
    ),
)


@dataclass(slots=True)
class SimSite:
    """A site with its gateways and assets (in topology order: parents first)."""

    id: str
    name: str
    location: Location
    gateways: list[SimGateway]
    assets: dict[str, SimAsset]

    def measurements(self) -> dict[str, tuple[SimAsset, SimMeasurement]]:
        """Every measurement of the site by id, with its asset."""
        return {m.id: (a, m) for a in self.assets.values() for m in a.measurements}


# What each kind of asset added after the fixed core of a site hangs under.
_GROWTH_PATTERN = (
    "floor",
    "room",
    "room",
    "feeder",
    "comfort_sensor",
    "room",
    "feeder",
    "thermal_sensor",
    "room",
    "feeder",
    "load",
)
_FEEDER_NAMES = (
    "Départ éclairage",
    "Départ CVC",
    "Départ prises",
    "Départ ascenseurs",
    "Départ salle serveurs",
    "Départ cuisine",
    "Départ bornes de recharge",
    "Départ pompes",
)
_ROOM_NAMES = ("Bureau", "Salle de réunion", "Open space", "Cafétéria", "Atelier", "Hall d’accueil")
ASSETS_PER_GATEWAY = 50
MIN_ASSETS_PER_SITE = 8


class SiteBuilder:
    """Builds one site from the seed, and grows it later (an asset added at runtime)."""

    def __init__(self, seed: int, index: int, spell_id: Callable[[str], str] | None = None) -> None:
        """Prepare the builder of site number `index`; `spell_id` rewrites every id made."""
        self._seed = seed
        self._spell_id = spell_id or str
        self._index = index
        self._serial = 0
        self._count: dict[str, int] = {}
        self._last: dict[str, str] = {}
        self.location = LOCATIONS[index % len(LOCATIONS)]
        suffix = f" {index // len(LOCATIONS) + 1}" if index >= len(LOCATIONS) else ""
        self.site = SimSite(
            id=self._id("st"),
            name=self.location.name + suffix,
            location=self.location,
            gateways=[],
            assets={},
        )

    def _id(self, prefix: str) -> str:
        # Opaque, stable ids: a hash of the seed, the site and a running number.
        self._serial += 1
        value = int(unit_interval(self._seed, self._index, self._serial) * 2**48)
        return self._spell_id(f"{prefix}-{value:012x}")

    def _number(self, kind: str) -> int:
        self._count[kind] = self._count.get(kind, 0) + 1
        return self._count[kind]

    def count(self, kind: str) -> int:
        """How many assets of `kind` the site has had."""
        return self._count.get(kind, 0)

    def build(self, asset_count: int) -> SimSite:
        """Create the gateways, the fixed core and then assets up to `asset_count`."""
        if asset_count < MIN_ASSETS_PER_SITE:
            raise ValueError(f"A site needs at least {MIN_ASSETS_PER_SITE} assets")
        for number in range(1 + (asset_count - 1) // ASSETS_PER_GATEWAY):
            gateway_id = self._id("gw")
            self.site.gateways.append(
                SimGateway(
                    gateway_id,
                    f"Panel Server {number + 1}",
                    serial_number=f"PAS{int(unit_interval(gateway_id) * 1e8):08d}",
                    firmware_version="002.004.001",
                )
            )
        for _ in self.site.gateways:
            self.add("gateway")
        for kind in ("building", "mv_switchgear", "transformer", "lv_switchboard", "meter"):
            self.add(kind)
        core = len(self.site.assets)
        while len(self.site.assets) < asset_count:
            self.add(_GROWTH_PATTERN[(len(self.site.assets) - core) % len(_GROWTH_PATTERN)])
        return self.site

    def add(self, kind: str) -> SimAsset:
        """Add one asset of `kind` under the latest suitable parent and return it."""
        number = self._number(kind)
        asset_id = self._id("as")
        gateways = self.site.gateways
        gateway = gateways[(len(self.site.assets) // ASSETS_PER_GATEWAY) % len(gateways)]
        maker = _KINDS[kind]
        asset = SimAsset(
            id=asset_id,
            name="",
            type=kind,
            parent_id=None,
            gateway_id=gateway.id,
            serial_number=f"{kind[:2].upper()}{int(unit_interval(asset_id) * 1e9):09d}",
        )
        maker(self, asset, number)
        self.site.assets[asset_id] = asset
        self._last[kind] = asset_id
        return asset

    def parent(self, *kinds: str) -> str | None:
        """The latest asset of the first of `kinds` that exists (adding a floor if needed)."""
        for kind in kinds:
            if kind in self._last:
                return self._last[kind]
        return None

    def measurement(
        self,
        asset: SimAsset,
        name: str,
        quantity: str,
        unit: str | None,
        signal: Signal,
        **extra: Any,
    ) -> SimMeasurement:
        """Attach a measurement to `asset`."""
        measurement = SimMeasurement(self._id("ms"), name, quantity, unit, signal, **extra)
        asset.measurements.append(measurement)
        return measurement

    def signal(self, asset: SimAsset, key: str, mean: float, **shape: Any) -> Signal:
        """A signal for `asset` with the site's daily rhythm."""
        return make_signal(
            mean,
            utc_offset_hours=self.location.utc_offset,
            seed=(self._seed, asset.id, key),
            **shape,
        )

    def electrical(self, asset: SimAsset, mean_kw: float, *, phases: bool = True) -> None:
        """Power, energy counters, currents and power factor of a metered circuit."""
        power = self.signal(
            asset,
            "p",
            mean_kw,
            daily=0.45 * mean_kw,
            weekly=0.15 * mean_kw,
            noise=(0.08 * mean_kw, 0.04 * mean_kw),
        )
        power_factor = uniform(0.86, 0.97, asset.id, "pf")
        tan_phi = math.tan(math.acos(power_factor))
        # Counters already read a few months to years of consumption at the epoch.
        start = uniform(2_000, 60_000, asset.id, "e") * mean_kw / 10
        self.measurement(
            asset, "Active energy", "active_energy", "kWh", power, decimals=3, counter_start=start
        )
        self.measurement(
            asset,
            "Reactive energy",
            "reactive_energy",
            "kvarh",
            power.scaled(tan_phi),
            decimals=3,
            counter_start=start * tan_phi,
        )
        self.measurement(asset, "Active power", "active_power", "kW", power, decimals=2)
        self.measurement(
            asset, "Reactive power", "reactive_power", "kvar", power.scaled(tan_phi), decimals=2
        )
        self.measurement(
            asset,
            "Apparent power",
            "apparent_power",
            "kVA",
            power.scaled(1 / power_factor),
            decimals=2,
        )
        self.measurement(
            asset,
            "Power factor",
            "power_factor",
            None,
            self.signal(asset, "pf", power_factor, noise=(0.01,)),
            decimals=3,
        )
        if phases:
            amps_per_kw = 1000 / (math.sqrt(3) * 400 * power_factor)
            for phase in ("L1", "L2", "L3"):
                imbalance = uniform(0.9, 1.1, asset.id, phase)
                self.measurement(
                    asset,
                    f"Current {phase}",
                    "current",
                    "A",
                    power.scaled(amps_per_kw * imbalance),
                    phase=phase,
                )

    def comfort(self, asset: SimAsset, *, co2: bool) -> None:
        """Temperature and humidity of a room, and CO2 where a sensor measures it."""
        self.measurement(
            asset,
            "Zone temperature",
            "temperature",
            "°C",
            self.signal(asset, "t", uniform(20.5, 22.5, asset.id), daily=1.2, noise=(0.3, 0.15)),
            context="room",
        )
        self.measurement(
            asset,
            "Relative humidity",
            "humidity",
            "%",
            self.signal(asset, "h", uniform(38, 52, asset.id), daily=-5, noise=(2, 1)),
            context="room",
        )
        if co2:
            self.measurement(
                asset,
                "CO2",
                "co2",
                "ppm",
                self.signal(asset, "c", 650, daily=250, noise=(60, 30), peak_local_hour=11),
                context="room",
                decimals=0,
            )


def _gateway(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    gateway = b.site.gateways[number - 1]
    asset.gateway_id = gateway.id
    asset.name = gateway.name
    asset.model = gateway.model
    asset.commercial_reference = "PAS600"
    asset.firmware_version = gateway.firmware_version
    asset.serial_number = gateway.serial_number
    asset.alarm_types = ["communication_loss"]


def _building(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = "Bâtiment principal" if number == 1 else f"Bâtiment {number}"


def _mv_switchgear(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"Cellule HTA {number}"
    asset.model, asset.commercial_reference = "SM AirSeT", "SM6-24"
    asset.functional_name = f"Poste de livraison {number}"
    b.measurement(
        asset,
        "Switchgear temperature",
        "temperature",
        "°C",
        b.signal(asset, "t", 24, daily=3, noise=(0.5,)),
        context="switchgear",
    )
    b.measurement(
        asset,
        "Switchgear humidity",
        "humidity",
        "%",
        b.signal(asset, "h", 55, daily=-8, noise=(3,)),
        context="switchgear",
    )
    asset.alarm_types = ["switchboard_overheating", "condensation_risk"]


def _transformer(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"Transformateur TR{number}"
    asset.parent_id = b.parent("mv_switchgear")
    asset.model, asset.commercial_reference = "Trihal", "TRIHAL-1000"
    b.measurement(
        asset,
        "Winding temperature",
        "temperature",
        "°C",
        b.signal(asset, "t", 68, daily=12, noise=(2,)),
        context="switchgear",
    )
    asset.alarm_types = ["overload", "switchboard_overheating"]


def _lv_switchboard(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = "TGBT" if number == 1 else f"TGBT {number}"
    asset.parent_id = b.parent("transformer")
    asset.model, asset.functional_name = "Okken", "Tableau général basse tension"
    b.measurement(
        asset,
        "Busbar temperature",
        "temperature",
        "°C",
        b.signal(asset, "t", 38, daily=8, noise=(1.5,)),
        context="busbar",
    )
    b.measurement(
        asset,
        "Switchboard humidity",
        "humidity",
        "%",
        b.signal(asset, "h", 42, daily=-6, noise=(2,)),
        context="switchboard",
    )
    asset.alarm_types = ["switchboard_overheating", "condensation_risk"]


def _meter(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = "Arrivée générale" if number == 1 else f"Compteur {number}"
    asset.parent_id = b.parent("lv_switchboard")
    asset.model, asset.commercial_reference = "PowerLogic PM5560", "METSEPM5560"
    asset.firmware_version = "3.2.4"
    for phase in ("L1", "L2", "L3"):
        b.measurement(
            asset,
            f"Voltage {phase}-N",
            "voltage",
            "V",
            b.signal(asset, f"v{phase}", 230, noise=(2.5, 1)),
            phase=phase,
        )
    for phase in ("L1-L2", "L2-L3", "L3-L1"):
        b.measurement(
            asset,
            f"Voltage {phase}",
            "voltage",
            "V",
            b.signal(asset, f"v{phase}", 400, noise=(4, 1.5)),
            phase=phase,
        )
    b.measurement(
        asset,
        "Frequency",
        "frequency",
        "Hz",
        b.signal(asset, "f", 50, noise=(0.02, 0.01)),
        decimals=2,
    )
    b.electrical(asset, uniform(80, 250, asset.id, "kw"))
    asset.alarm_types = ["phase_loss", "voltage_loss", "power_loss"]


def _floor(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = "Rez-de-chaussée" if number == 1 else f"Étage {number - 1}"
    asset.parent_id = b.parent("building")


def _room(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    floor = b.parent("floor")
    floor_number = max(0, b.count("floor") - 1)
    asset.name = f"{_ROOM_NAMES[(number - 1) % len(_ROOM_NAMES)]} {floor_number}.{number:02d}"
    asset.parent_id = floor
    b.comfort(asset, co2=number % 2 == 0)
    asset.alarm_types = ["comfort_temperature_high", "comfort_temperature_low", "comfort_humidity"]
    if number % 2 == 0:
        asset.alarm_types.append("comfort_co2_high")


def _comfort_sensor(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"Capteur de confort {number}"
    asset.parent_id = b.parent("room")
    asset.model, asset.commercial_reference = "SpaceLogic SLP", "SLPSRA"
    b.comfort(asset, co2=True)
    asset.alarm_types = ["comfort_temperature_high", "comfort_temperature_low", "comfort_co2_high"]


def _feeder(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"{_FEEDER_NAMES[(number - 1) % len(_FEEDER_NAMES)]} {number}"
    asset.parent_id = b.parent("lv_switchboard")
    asset.model, asset.commercial_reference = "PowerTag Energy M63 3P+N", "A9MEM1564"
    b.electrical(asset, uniform(3, 40, asset.id, "kw"))
    asset.alarm_types = ["overload", "trip", "load_stop", "power_loss"]


def _thermal_sensor(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"Capteur thermique câble {number}"
    asset.parent_id = b.parent("feeder")
    asset.model, asset.commercial_reference = "TH110", "EMS59440"
    b.measurement(
        asset,
        "Cable temperature",
        "temperature",
        "°C",
        b.signal(asset, "t", 45, daily=10, noise=(2,)),
        context="cable",
    )
    asset.alarm_types = ["cable_overheating"]


def _load(b: SiteBuilder, asset: SimAsset, number: int) -> None:
    asset.name = f"Groupe froid {number}"
    asset.parent_id = b.parent("feeder")
    asset.alarm_types = ["load_stop", "trip"]


_KINDS: dict[str, Callable[[SiteBuilder, SimAsset, int], None]] = {
    "gateway": _gateway,
    "building": _building,
    "mv_switchgear": _mv_switchgear,
    "transformer": _transformer,
    "lv_switchboard": _lv_switchboard,
    "meter": _meter,
    "floor": _floor,
    "room": _room,
    "comfort_sensor": _comfort_sensor,
    "feeder": _feeder,
    "thermal_sensor": _thermal_sensor,
    "load": _load,
}
ASSET_KINDS = tuple(_KINDS)
