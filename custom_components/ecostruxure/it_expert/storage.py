"""What an IT Expert entry keeps across restarts of Home Assistant, in one Store file.

Per organization: the offset its measurement stream resumes from (what came after it is
replayed at start), and its alarms as last read with their change offset (what changed
meanwhile fires once); and the alarm events not delivered yet. Removing the entry deletes
the file; a reload keeps it.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..alarm_memory import AlarmMemory
from ..api.it_expert.models import ITAlarm
from ..const import DOMAIN, LOGGER
from ..stored import VersionedStore, stored_time
from .const import RESUME_MAX_AGE, UNDELIVERED_EVENTS_MAX_AGE
from .data import AlarmEvent, Organization, Resource

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# Offsets move every few seconds: written at most this often (and at stop). A crash loses
# at most this much progress, replayed again harmlessly (readings are idempotent).
OFFSET_SAVE_DELAY = 30.0
# Alarm reads and events are rare and a lost write could fire an event twice: written at once.
ALARM_SAVE_DELAY = 0.0
# A cycle that changed no alarm moves only their read time: not a write per cycle.
READ_SAVE_DELAY = 900.0

type Json = dict[str, Any]


def storage_key(entry_id: str) -> str:
    """The Store key of an entry's file (under .storage)."""
    return f"{DOMAIN}.{entry_id}.it_expert"


@dataclass(slots=True, kw_only=True)
class StoredStream:
    """Where an organization's stream resumes, and since when that offset is the one."""

    offset: str
    at: datetime


@dataclass(slots=True, kw_only=True)
class StoredAlarms:
    """An organization's alarms as last read, and the offset of their changes."""

    alarms: dict[str, ITAlarm]
    offset: int
    listed_at: datetime
    read_at: datetime


class ITExpertStorage:
    """The entry's stored state: loaded once at setup, saved as the coordinator changes."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the store; `async_load` reads it."""
        self._hass = hass
        self._store = VersionedStore(
            hass, STORAGE_VERSION, storage_key(entry_id), minor_version=STORAGE_MINOR_VERSION
        )
        self.streams: dict[str, StoredStream] = {}
        self.alarms: dict[str, StoredAlarms] = {}
        self.events: list[tuple[str, str, AlarmEvent]] = []
        self._data_func: Callable[[], Json] = dict  # nothing to write until bound
        self._closed = False  # unloaded: a late write would bring a removed file back

    async def async_load(self) -> None:
        """Read what was stored; a file unreadable or of a newer version starts over."""
        try:
            raw = await self._store.async_load()
        except HomeAssistantError as err:  # UnsupportedStorageVersionError: a downgrade
            LOGGER.warning("IT Expert stored state ignored: %s", err)
            raw = None
        if not isinstance(raw, dict):
            return  # none yet; a corrupt file was set aside by Home Assistant
        organizations = raw.get("organizations")
        for org_id, stored in (organizations if isinstance(organizations, dict) else {}).items():
            if not isinstance(stored, dict):
                continue
            if (stream := _read_stream(stored.get("stream"))) is not None:
                self.streams[org_id] = stream
            if (alarms := _read_alarms(stored.get("alarms"))) is not None:
                self.alarms[org_id] = alarms
        events = raw.get("events")
        for item in events if isinstance(events, list) else ():
            if (event := _read_event(item)) is not None:
                self.events.append(event)

    @callback
    def bind(self, data_func: Callable[[], Json]) -> None:
        """Say what to write (see `encode`); asked at write time."""
        self._data_func = data_func

    @callback
    def schedule(self, delay: float) -> None:
        """Write within `delay` seconds (or at stop); a write due sooner is kept."""
        if not self._closed:
            self._store.async_save_within(self._data, delay)

    async def async_flush(self) -> None:
        """Write now what is scheduled (the entry unloads: a reload reads it); no more after."""
        self._closed = True
        if self._store.save_pending:
            await self._store.async_save(self._data())

    def _data(self) -> Json:
        return self._data_func()  # as bound at write time


async def async_remove_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored state of a removed entry."""
    await VersionedStore(hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


def restore_alarms(
    storage: ITExpertStorage,
    memory: AlarmMemory[dict[str, ITAlarm]],
    organization_ids: Iterable[str],
) -> dict[str, StoredAlarms]:
    """Put the stored alarms of organizations the memory lacks into it; those taken.

    The memory is as new after a reload; after a restart it is empty and the stored reads
    take its place: the first cycle compares with them.
    """
    restored: dict[str, StoredAlarms] = {}
    now = dt_util.utcnow()
    for org_id in organization_ids:
        stored = storage.alarms.get(org_id)
        if stored is None or org_id in memory.last_reads:
            continue
        if now - stored.read_at > UNDELIVERED_EVENTS_MAX_AGE:
            # Events that old would be dropped undelivered anyway: start over.
            LOGGER.info(
                "Alarms of organization %s last read %s: what changed since fires no event",
                org_id,
                stored.read_at.isoformat(),
            )
            continue
        memory.last_reads[org_id] = stored.alarms
        restored[org_id] = stored
    return restored


def resume_offset(storage: ITExpertStorage, org_id: str) -> str | None:
    """The stored offset of the organization's stream, unless too old to replay from."""
    stored = storage.streams.get(org_id)
    if stored is None:
        return None
    if dt_util.utcnow() - stored.at > RESUME_MAX_AGE:
        LOGGER.info(
            "Readings of %s measured since %s are not replayed: more than %s ago",
            org_id,
            stored.at.isoformat(),
            RESUME_MAX_AGE,
        )
        return None
    return stored.offset


def alarms_to_store(
    organizations: Iterable[Organization], memory: AlarmMemory[dict[str, ITAlarm]]
) -> dict[str, StoredAlarms]:
    """The alarms read of each organization read at least once, with their offset."""
    return {
        org.id: StoredAlarms(
            alarms=org.alarms,
            offset=org.offsets[Resource.ALARMS],
            listed_at=org.listed_at[Resource.ALARMS],
            read_at=org.read_at[Resource.ALARMS],
        )
        for org in organizations
        if org.id in memory.last_reads
        and Resource.ALARMS in org.offsets
        and Resource.ALARMS in org.listed_at
        and Resource.ALARMS in org.read_at
    }


def encode(
    streams: Mapping[str, str | None],
    stream_since: Mapping[str, datetime],
    alarms: Mapping[str, StoredAlarms],
    events: list[tuple[str, str, AlarmEvent]],
) -> Json:
    """The file's content: per organization its resume offset and alarms; pending events."""
    organizations: Json = {}
    for org_id, offset in streams.items():
        if offset is not None:
            organizations.setdefault(org_id, {})["stream"] = {
                "offset": offset,
                "at": stream_since[org_id].isoformat(),
            }
    for org_id, stored in alarms.items():
        organizations.setdefault(org_id, {})["alarms"] = {
            "offset": stored.offset,
            "listed_at": stored.listed_at.isoformat(),
            "read_at": stored.read_at.isoformat(),
            "items": [_alarm_json(a) for a in stored.alarms.values()],
        }
    return {
        "organizations": organizations,
        "events": [
            {
                "organization": org_id,
                "device": device_id,
                "type": event.event_type,
                "seen": event.seen.isoformat(),
                "alarm": _alarm_json(event.alarm),
            }
            for org_id, device_id, event in events
        ],
    }


# --- reading, tolerant: a field missing or of the wrong type drops its item -------------------


def _alarm_json(alarm: ITAlarm) -> Json:
    return {
        "id": alarm.id,
        "device_id": alarm.device_id,
        "label": alarm.label,
        "message": alarm.message,
        "severity": str(alarm.severity),
        "activated": alarm.activated.isoformat() if alarm.activated else None,
        "cleared": alarm.cleared.isoformat() if alarm.cleared else None,
        "reactivation_count": alarm.reactivation_count,
    }


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _read_alarm(raw: object) -> ITAlarm | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    count = raw.get("reactivation_count")
    return ITAlarm(
        id=raw["id"],
        device_id=_optional_str(raw.get("device_id")),
        label=_optional_str(raw.get("label")),
        message=_optional_str(raw.get("message")),
        severity=str(raw.get("severity", "")),
        activated=stored_time(raw.get("activated")),
        cleared=stored_time(raw.get("cleared")),
        reactivation_count=count if isinstance(count, int) else 0,
    )


def _read_stream(raw: object) -> StoredStream | None:
    if not isinstance(raw, dict):
        return None
    offset, at = raw.get("offset"), stored_time(raw.get("at"))
    if not isinstance(offset, str) or not offset or at is None:
        return None
    return StoredStream(offset=offset, at=at)


def _read_alarms(raw: object) -> StoredAlarms | None:
    if not isinstance(raw, dict):
        return None
    offset, items = raw.get("offset"), raw.get("items")
    listed_at, read_at = stored_time(raw.get("listed_at")), stored_time(raw.get("read_at"))
    if not isinstance(offset, int) or not isinstance(items, list) or not listed_at or not read_at:
        return None
    alarms = [a for a in map(_read_alarm, items) if a is not None]
    if len(alarms) != len(items):
        return None  # a partial list would fire raises for alarms long known
    return StoredAlarms(
        alarms={a.id: a for a in alarms}, offset=offset, listed_at=listed_at, read_at=read_at
    )


def _read_event(raw: object) -> tuple[str, str, AlarmEvent] | None:
    if not isinstance(raw, dict):
        return None
    org_id, device_id, event_type = raw.get("organization"), raw.get("device"), raw.get("type")
    seen, alarm = stored_time(raw.get("seen")), _read_alarm(raw.get("alarm"))
    texts = (org_id, device_id, event_type)
    if not all(isinstance(t, str) for t in texts) or seen is None or alarm is None:
        return None
    return str(org_id), str(device_id), AlarmEvent(str(event_type), alarm, seen)
