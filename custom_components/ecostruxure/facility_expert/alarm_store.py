"""A Facility Expert entry's alarm reads, kept across restarts of Home Assistant.

The alarm memory (alarm_memory.py) outlives a reload of the entry; this store carries it over
a restart. Per site it holds the read the event entity last compared (else the coordinator's
last read) and when it was made: the first poll after a start reaches back to it, so that what
was raised or cleared meanwhile fires once, and what was delivered before does not again.
"""

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..alarm_memory import AlarmMemory
from ..api import Alarm
from ..const import ALARM_WINDOW_MARGIN, DOMAIN, LOGGER, MAX_ALARM_WINDOW
from ..stored import VersionedStore, stored_time
from .data import SiteAlarms

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# A change of a site's alarms is written this many seconds after it (with those that follow).
SAVE_DELAY = 10.0
# Without a change, only the time of the last read moves: written now and then, and by the
# final write at stop, which flushes the save always pending.
QUIET_SAVE_DELAY = 900.0

_TIMES = ("activated_at", "cleared_at")
_FIELDS = frozenset(field.name for field in fields(Alarm))


def storage_key(entry_id: str) -> str:
    """The store's key (file name under .storage)."""
    return f"{DOMAIN}.{entry_id}.alarms"


def _instant(value: Any) -> datetime:
    if (moment := stored_time(value)) is None:
        raise ValueError(f"{value!r} is not a time with a UTC offset")
    return moment


def _alarm_json(alarm: Alarm) -> dict[str, Any]:
    data = asdict(alarm)
    for name in _TIMES:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    return data


def _alarm(data: dict[str, Any]) -> Alarm:
    values = {name: value for name, value in data.items() if name in _FIELDS}
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = _instant(values[name])
    alarm = Alarm(**values)
    if not isinstance(alarm.id, str) or not isinstance(alarm.activated_at, datetime):
        raise TypeError("an alarm needs an id and an activation time")
    return alarm


def _site_alarms(data: dict[str, Any]) -> SiteAlarms:
    return SiteAlarms(_instant(data["polled"]), tuple(_alarm(a) for a in data["alarms"]))


class AlarmStore:
    """The stored alarm reads of one entry; one per entry and process, across reloads."""

    def __init__(self, hass: HomeAssistant, entry_id: str, memory: AlarmMemory[SiteAlarms]) -> None:
        """Nothing read or written yet."""
        self._store = VersionedStore(
            hass, STORAGE_VERSION, storage_key(entry_id), minor_version=STORAGE_MINOR_VERSION
        )
        self._memory = memory
        self._saved: dict[str, tuple[Alarm, ...]] = {}  # each site's alarms as last saved
        self._loaded = False
        # The sites restored and not read since, which reach back at their next read (see
        # reach_back); the value says whether what that skips was logged already. Kept here,
        # not in the coordinator: a setup retried (service down at start) still reaches back.
        self.reaching_back: dict[str, bool] = {}

    async def async_restore(self) -> None:
        """Fill the alarm memory from storage, once after a start.

        After a reload the memory is this process's own, newer than what is stored: kept.
        Whatever cannot be read (a newer major version, a damaged file) is left aside: alarm
        events then start as at setup.
        """
        if self._loaded or self._memory.last_reads:
            return
        self._loaded = True
        try:
            stored = await self._store.async_load()
            reads = {
                str(site_id): _site_alarms(read)
                for site_id, read in (stored or {"sites": {}})["sites"].items()
            }
        except (HomeAssistantError, LookupError, TypeError, ValueError, AttributeError) as err:
            LOGGER.warning("Stored alarm reads not used (%s): alarm events start as at setup", err)
            return
        # Also as delivered: the event entities start from it (it is what they compared).
        self._memory.last_reads.update(reads)
        self._memory.delivered.update(reads)
        self._saved = {site_id: read.alarms for site_id, read in reads.items()}
        self.reaching_back = dict.fromkeys(reads, False)

    @callback
    def async_read(self, site_id: str) -> None:
        """A site's alarms were read: save soon if they changed, else some time later."""
        self.reaching_back.pop(site_id, None)
        alarms = self._memory.last_reads[site_id].alarms
        changed = self._saved.get(site_id) != alarms
        self._saved[site_id] = alarms
        self._store.async_save_within(self._data, SAVE_DELAY if changed else QUIET_SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        """What is written: per site, the read delivered to its events, else the last one."""
        memory = self._memory
        sites = memory.last_reads.keys() | memory.delivered.keys()
        reads = {site: memory.delivered.get(site) or memory.last_reads[site] for site in sites}
        return {
            "sites": {
                site_id: {
                    "polled": read.polled.isoformat(),
                    "alarms": [_alarm_json(alarm) for alarm in read.alarms],
                }
                for site_id, read in reads.items()
            }
        }

    async def async_remove(self) -> None:
        """Delete the stored data, a pending save included."""
        await self._store.async_remove()


def reach_back(site_name: str, last: SiteAlarms, *, log: bool) -> tuple[datetime, bool]:
    """The first alarm window after a start, and whether to ask for the active alarms too.

    It starts at the last read before the stop, 24 hours ago at most: beyond, what was raised
    and cleared is skipped, said in the log if `log`. The active alarms are asked for separately
    when the window does not hold them all (raised before it starts).
    """
    start = last.polled - ALARM_WINDOW_MARGIN
    bound = dt_util.utcnow() - MAX_ALARM_WINDOW
    clamped = start < bound
    if clamped and log:
        LOGGER.warning(
            "Alarms of site %s raised and cleared between %s and %s, if any, fire no event: "
            "after a stop, alarm events reach back %s at most",
            site_name,
            start.isoformat(timespec="seconds"),
            bound.isoformat(timespec="seconds"),
            MAX_ALARM_WINDOW,
        )
    start = max(start, bound)
    older = any(alarm.active and alarm.activated_at < start for alarm in last.alarms)
    return start, clamped or older


DATA_ALARM_STORES: HassKey[dict[str, AlarmStore]] = HassKey(f"{DOMAIN}_alarm_stores")


def alarm_store(hass: HomeAssistant, entry_id: str, memory: AlarmMemory[SiteAlarms]) -> AlarmStore:
    """The entry's alarm store, made on first use (one per process: see async_remove)."""
    stores = hass.data.setdefault(DATA_ALARM_STORES, {})
    if (store := stores.get(entry_id)) is None:
        store = stores[entry_id] = AlarmStore(hass, entry_id, memory)
    return store


async def async_remove_alarm_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed entry's stored alarm reads."""
    store = hass.data.get(DATA_ALARM_STORES, {}).pop(entry_id, None)
    if store is None:
        store = AlarmStore(hass, entry_id, AlarmMemory())
    await store.async_remove()
