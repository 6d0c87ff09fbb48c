"""Energy history as long-term statistics, so the Energy dashboard starts before installation.

Every active- and reactive-energy counter becomes an external statistic `ecostruxure:<id>`
with hourly rows: on first setup back `DEFAULT_HISTORY_DAYS`, then every hour from the last
imported hour on, so the hours Home Assistant was down are filled from the service, once.
Hours are UTC, so DST days need nothing special; a counter that drops (meter replaced) starts
a new run from 0; hours the service has no value for stay without a row (never a made-up 0).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_add_external_statistics,
    get_last_statistics,
    list_statistic_ids,
)
from homeassistant.const import UnitOfEnergy, UnitOfReactiveEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricPotentialConverter,
    EnergyConverter,
    PowerConverter,
    ReactiveEnergyConverter,
    TemperatureConverter,
)

from ..api import Asset, EcoStruxureError, Interval, Measurement, Quantity, Series
from ..const import DEFAULT_HISTORY_DAYS, DOMAIN, LOGGER
from .coordinator import EcoStruxureCoordinator
from .data import SiteTopology

HOUR = timedelta(hours=1)

# Quantity -> (unit, unit class) of the counters imported as statistics.
COUNTERS: dict[str, tuple[str, str]] = {
    Quantity.ACTIVE_ENERGY: (UnitOfEnergy.KILO_WATT_HOUR, EnergyConverter.UNIT_CLASS),
    Quantity.REACTIVE_ENERGY: (
        UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
        ReactiveEnergyConverter.UNIT_CLASS,
    ),
}


# Quantities whose hourly mean, min and max can be imported too (off by default), with the
# converter that gives their unit class.
MEANS: dict[str, type[BaseUnitConverter] | None] = {
    Quantity.TEMPERATURE: TemperatureConverter,
    Quantity.HUMIDITY: None,
    Quantity.CO2: None,
    Quantity.ACTIVE_POWER: PowerConverter,
    Quantity.VOLTAGE: ElectricPotentialConverter,
}


def statistic_id(site_id: str, measurement_id: str) -> str:
    """The external statistic of a counter (ids are opaque: slugified, site first)."""
    return f"{DOMAIN}:{site_prefix(site_id)}{slugify(measurement_id)}"


def site_prefix(site_id: str) -> str:
    """What every statistic id of a site starts with, after the domain."""
    return f"{slugify(site_id)}_"


@dataclass(slots=True)
class _Counter:
    asset: Asset
    measurement: Measurement
    statistic_id: str
    start: datetime  # the first hour to import
    state: float | None  # the reading at `start`, when already known
    total: float  # the running sum at `start`


def hourly_rows(
    points: Sequence[tuple[datetime, float | None]],
    start: datetime,
    state: float | None,
    total: float,
) -> list[StatisticData]:
    """Rows from hourly counter readings (bucket start, reading at the bucket's end).

    `state` is the reading at `start` (None: the first point only sets the baseline).
    """
    rows: list[StatisticData] = []
    for hour, reading in points:
        if reading is None:
            continue  # the device did not report: a gap, not a zero
        if state is None or hour < start:
            state = reading
            continue
        # A counter that goes down was replaced or reset: it counts again from 0.
        total += reading - state if reading >= state else reading
        state = reading
        rows.append(StatisticData(start=hour, state=reading, sum=total))
    return rows


class EnergyHistory:
    """Imports the counters (and, if asked, hourly means) of a coordinator's sites."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: EcoStruxureCoordinator,
        *,
        with_means: bool = False,
    ) -> None:
        """Prepare; nothing is read until `async_import`."""
        self.hass = hass
        self.coordinator = coordinator
        self.with_means = with_means

    async def async_import(self, days: int = DEFAULT_HISTORY_DAYS) -> None:
        """Import what is missing up to the last complete hour, site by site."""
        for topology in list(self.coordinator.topology.values()):
            try:
                await self.async_import_site(topology, days)
            except EcoStruxureError as err:
                # The next hourly run starts where this one stopped.
                LOGGER.warning("History of %s not imported yet: %s", topology.site.name, err)

    async def _last_row(self, sid: str) -> StatisticsRow | None:
        """The last imported hour of a statistic, if any."""
        last = await get_instance(self.hass).async_add_executor_job(
            get_last_statistics, self.hass, 1, sid, False, {"state", "sum", "mean"}
        )
        rows = last.get(sid)
        return rows[0] if rows else None

    async def _counter(self, site_id: str, asset: Asset, m: Measurement, days: int) -> _Counter:
        sid = statistic_id(site_id, m.id)
        if row := await self._last_row(sid):
            start = dt_util.utc_from_timestamp(row["start"]) + HOUR
            return _Counter(asset, m, sid, start, row.get("state"), row.get("sum") or 0.0)
        now_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        return _Counter(asset, m, sid, now_hour - timedelta(days=days), None, 0.0)

    async def async_import_site(self, topology: SiteTopology, days: int) -> None:
        """Import one site's counters (and means); the client's errors are the caller's."""
        end = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        await self._import_counters(topology, days, end)
        if self.with_means:
            await self._import_means(topology, days, end)

    async def _import_means(self, topology: SiteTopology, days: int, end: datetime) -> None:
        """Hourly mean, min and max of comfort and electrical values, from 15-min means."""
        site = topology.site
        targets: list[tuple[Asset, Measurement, str, datetime]] = []
        for asset in topology.assets.values():
            for m in asset.measurements:
                if m.quantity not in MEANS:
                    continue
                sid = statistic_id(site.id, m.id)
                last = await self._last_row(sid)
                start = (
                    dt_util.utc_from_timestamp(last["start"]) + HOUR
                    if last
                    else end - timedelta(days=days)
                )
                if start < end:
                    targets.append((asset, m, sid, start))
        if not targets:
            return
        series = {
            s.measurement_id: s
            for s in await self.coordinator.client.get_time_series(
                site.id,
                [m.id for _, m, _, _ in targets],
                min(start for *_, start in targets),
                end,
                Interval.FIFTEEN_MINUTES,
            )
        }
        for asset, m, sid, start in targets:
            hours: dict[datetime, list[float]] = {}
            found = series.get(m.id)
            for point in found.points if found else ():
                if point.value is not None and point.timestamp >= start:
                    hour = point.timestamp.replace(minute=0, second=0, microsecond=0)
                    hours.setdefault(hour, []).append(point.value)
            rows = [
                StatisticData(start=hour, mean=sum(v) / len(v), min=min(v), max=max(v))
                for hour, v in sorted(hours.items())
            ]
            if not rows:
                continue
            converter = MEANS[m.quantity]
            unit_class = (
                converter.UNIT_CLASS if converter and m.unit in converter.VALID_UNITS else None
            )
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.ARITHMETIC,
                has_sum=False,
                name=f"{site.name} {asset.name} {m.name}",
                source=DOMAIN,
                statistic_id=sid,
                unit_class=unit_class,
                unit_of_measurement=m.unit,
            )
            async_add_external_statistics(self.hass, metadata, rows)

    async def _import_counters(self, topology: SiteTopology, days: int, end: datetime) -> None:
        site = topology.site
        counters = [
            await self._counter(site.id, asset, m, days)
            for asset in topology.assets.values()
            for m in asset.measurements
            if m.quantity in COUNTERS
        ]
        pending = [c for c in counters if c.start < end]
        if not pending:
            return
        # One window for all (batched by 20 in the client); one hour before the earliest
        # start gives the baseline reading of counters imported for the first time.
        first = min(c.start for c in pending) - HOUR
        # Progress goes to the log, not to a repair issue: there is nothing to repair.
        LOGGER.info(
            "Importing the energy history of %s from %s (%d days, %d counters)",
            site.name,
            first + HOUR,
            (end - first).days,
            len(pending),
        )
        series = {
            s.measurement_id: s
            for s in await self.coordinator.client.get_time_series(
                site.id, [c.measurement.id for c in pending], first, end, Interval.HOUR
            )
        }
        for counter in pending:
            found: Series | None = series.get(counter.measurement.id)
            points = [(p.timestamp, p.value) for p in found.points] if found else []
            rows = hourly_rows(points, counter.start, counter.state, counter.total)
            if not rows:
                continue
            unit, unit_class = COUNTERS[counter.measurement.quantity]
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=f"{site.name} {counter.asset.name} {counter.measurement.name}",
                source=DOMAIN,
                statistic_id=counter.statistic_id,
                unit_class=unit_class,
                unit_of_measurement=unit,
            )
            async_add_external_statistics(self.hass, metadata, rows)
        LOGGER.info("Imported the energy history of %s up to %s", site.name, end)


async def site_statistic_ids(hass: HomeAssistant, site_id: str) -> list[str]:
    """The statistics imported for a site."""
    prefix = f"{DOMAIN}:{site_prefix(site_id)}"
    known = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    return [s["statistic_id"] for s in known if s["statistic_id"].startswith(prefix)]


async def async_clear_site_statistics(hass: HomeAssistant, site_ids: Sequence[str]) -> None:
    """Remove the statistics of these sites (the entry that held them was removed)."""
    ids = [sid for site_id in site_ids for sid in await site_statistic_ids(hass, site_id)]
    if ids:
        get_instance(hass).async_clear_statistics(ids)
