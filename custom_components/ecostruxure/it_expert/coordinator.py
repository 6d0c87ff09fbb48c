"""The IT Expert coordinator: inventory, sensors and alarms of each organization, by changes.

Each cycle asks which organizations the key still covers, then, per organization and in
order, the inventory, sensor and alarm changes after the offsets of the previous cycle. A full
list replaces the changes at start, once a day and whenever an offset may have expired. Changes
are applied idempotently: upsert by id, delete if present.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ..alarm_memory import AlarmMemory, alarm_memory
from ..api import AuthenticationError, EcoStruxureError, ForbiddenError, RateLimitedError
from ..api.it_expert.client import ITExpertClient
from ..api.it_expert.models import (
    Changes,
    InventoryKind,
    InventoryObject,
    ITAlarm,
    Sensor,
    Snapshot,
)
from ..const import (
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
)
from ..coordinator import Changed, DeviceSpec, TopologyCoordinator
from .const import (
    UNDELIVERED_EVENTS_MAX,
    UNDELIVERED_EVENTS_MAX_AGE,
)
from .data import (
    AlarmEvent,
    ITExpertData,
    Organization,
    Resource,
    alarm_transitions,
    apply_changes,
    apply_snapshot,
    device_key,
    devices_with_changed_alarms,
    it_device_id,
)
from .storage import (
    ALARM_SAVE_DELAY,
    OFFSET_SAVE_DELAY,
    READ_SAVE_DELAY,
    ITExpertStorage,
    alarms_to_store,
    encode,
    restore_alarms,
    resume_offset,
)
from .stream import MeasurementStream

type ITExpertConfigEntry = ConfigEntry[ITExpertCoordinator]


class ITExpertCoordinator(TopologyCoordinator[ITExpertData]):
    """Polls the selected organizations by changes; owns their measurement streams."""

    config_entry: ITExpertConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ITExpertConfigEntry,
        client: ITExpertClient,
        storage: ITExpertStorage,
    ) -> None:
        """Prepare polling of the entry's organizations from what `storage` kept."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} IT Expert",
            update_interval=timedelta(
                seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            ),
        )
        self.client = client
        self.organization_ids: tuple[str, ...] = tuple(entry.options.get(CONF_ORGANIZATIONS, ()))
        # Each organization's alarms as last listed, kept across reloads of the entry: the
        # first cycle after one compares with them.
        self._alarm_memory: AlarmMemory[dict[str, ITAlarm]] = alarm_memory(hass, entry.entry_id)
        # After a restart (no memory), the stored alarms and their offset: the first cycle
        # reads the changes after it and fires what happened while stopped.
        restored = restore_alarms(storage, self._alarm_memory, self.organization_ids)
        self.organizations: dict[str, Organization] = {
            org_id: Organization(org_id, alarms=self._alarm_memory.last_reads.get(org_id, {}))
            for org_id in self.organization_ids
        }
        for org_id, stored in restored.items():
            org = self.organizations[org_id]
            org.offsets[Resource.ALARMS] = stored.offset
            org.listed_at[Resource.ALARMS] = stored.listed_at
            org.read_at[Resource.ALARMS] = stored.read_at
        self._storage = storage
        # Since when each stored offset is the one: a restored one keeps its age.
        self._stream_since: dict[str, datetime] = {o: s.at for o, s in storage.streams.items()}
        self.streams: dict[str, MeasurementStream] = {
            org_id: MeasurementStream(
                hass,
                client,
                org_id,
                resume_from=resume_offset(storage, org_id),
                on_offset=partial(self._offset_moved, org_id),
            )
            for org_id in self.organization_ids
        }
        self._stored_offsets = {o: s.resume_offset for o, s in self.streams.items()}
        self._events: dict[tuple[str, str], deque[AlarmEvent]] = {}
        for org_id, device_id, event in storage.events:
            if org_id in self.organizations:
                self._events.setdefault(
                    (org_id, device_id), deque(maxlen=UNDELIVERED_EVENTS_MAX)
                ).append(event)
        storage.bind(self._stored)
        self._unavailable: set[str] = set()  # logged as unavailable, not back yet
        # Whether the inventory or the sensors may have changed since the devices were synced:
        # comparing the whole topology each cycle costs as much as the devices are many.
        self._topology_dirty = True

    # --- what is stored across restarts ---------------------------------------------------

    @callback
    def _offset_moved(self, org_id: str) -> None:
        offset = self.streams[org_id].resume_offset
        if offset != self._stored_offsets[org_id]:
            self._stored_offsets[org_id] = offset
            self._stream_since[org_id] = dt_util.utcnow()
            self._storage.schedule(OFFSET_SAVE_DELAY)

    def _stored(self) -> dict[str, Any]:
        """What the Store file holds, as of now."""
        events = [
            (org_id, device_id, event)
            for (org_id, device_id), queue in self._events.items()
            for event in queue
        ]
        alarms = alarms_to_store(self.organizations.values(), self._alarm_memory)
        return encode(self._stored_offsets, self._stream_since, alarms, events)

    # --- streams --------------------------------------------------------------------------

    @callback
    def async_start_streams(self) -> None:
        """Open the measurement stream of every organization, in the background."""
        for org_id, stream in self.streams.items():
            stream.set_allowed(org_id in (self.data.available if self.data else ()))
            self.config_entry.async_create_background_task(
                self.hass, stream.run(), f"{DOMAIN} measurements {org_id}"
            )

    # --- topology -------------------------------------------------------------------------

    @override
    def _device_specs(self) -> Iterable[DeviceSpec]:
        """A device per organization, location and device, under its parent."""
        for org in self.organizations.values():
            if not org.objects:
                continue  # never listed: nothing to show yet
            yield DeviceSpec(
                identifier=it_device_id(org.id, org.id),
                manufacturer=MANUFACTURER,
                model="IT Expert organization",
                name=org.label,
            )
            rooms = org.rooms()
            for item in org.ordered_objects():
                is_device = item.kind == InventoryKind.DEVICE
                kind = (item.type or item.kind).replace("_", " ").capitalize()
                yield DeviceSpec(
                    identifier=it_device_id(org.id, item.id),
                    manufacturer=MANUFACTURER if is_device else None,
                    model=(item.model or kind) if is_device else kind,
                    serial_number=item.serial_number,
                    name=item.label or kind,
                    suggested_area=rooms.get(item.id),
                    via=it_device_id(org.id, org.parent_of(item) or org.id),
                )

    # --- alarm events ---------------------------------------------------------------------

    def take_events(self, organization_id: str, device_id: str) -> list[AlarmEvent]:
        """The alarm events of a device not delivered yet; they are delivered once."""
        queue = self._events.pop((organization_id, device_id), None)
        if not queue:
            return []
        self._storage.schedule(ALARM_SAVE_DELAY)  # delivered: not to fire again after a restart
        return list(queue)

    def _queue_events(self, org: Organization, before: dict[str, ITAlarm]) -> None:
        now = dt_util.utcnow()
        for event_type, alarm in alarm_transitions(before, org.alarms):
            if alarm.device_id:
                queue = self._events.setdefault(
                    (org.id, alarm.device_id), deque(maxlen=UNDELIVERED_EVENTS_MAX)
                )
                queue.append(AlarmEvent(event_type, alarm, now))
        for key, queue in list(self._events.items()):
            while queue and now - queue[0].seen > UNDELIVERED_EVENTS_MAX_AGE:
                queue.popleft()
            if not queue:
                del self._events[key]

    # --- polling --------------------------------------------------------------------------

    async def _sync_resource[T](
        self,
        org: Organization,
        resource: Resource,
        *,
        store: dict[str, T],
        key: Callable[[T], str],
        snapshot: Callable[[str], Awaitable[Snapshot[T]]],
        changes: Callable[[str, int], Awaitable[Changes[T]]],
    ) -> bool:
        """Bring `store` up to date; whether it may have changed."""
        now = dt_util.utcnow()
        if org.needs_full_list(resource, now):
            listed = await snapshot(org.id)
            apply_snapshot(store, listed, key)
            org.offsets[resource] = listed.offset
            org.listed_at[resource] = now
            updated = True
        else:
            changed = await changes(org.id, org.offsets[resource])
            apply_changes(store, changed, key)
            org.offsets[resource] = changed.offset
            updated = bool(changed.changes)
        org.read_at[resource] = now
        return updated

    async def _sync_organization(self, org: Organization, changed: Changed) -> None:
        """Inventory, then sensors, then alarms: in order, so parents come before children.

        The devices whose alarms changed go into `changed`: only their entities are told.
        """
        client = self.client
        if await self._sync_resource(
            org,
            Resource.INVENTORY,
            store=org.objects,
            key=_object_id,
            snapshot=client.inventory,
            changes=client.inventory_changes,
        ):
            self._topology_dirty = True
        if await self._sync_resource(
            org,
            Resource.SENSORS,
            store=org.sensors,
            key=_sensor_id,
            snapshot=client.sensors,
            changes=client.sensor_changes,
        ):
            # Only then: the stream rebuilds its set of known sensors each time.
            self.streams[org.id].set_known_sensors(org.sensors)
            self._topology_dirty = True
        before = dict(org.alarms)
        offset = org.offsets.get(Resource.ALARMS)
        await self._sync_resource(
            org,
            Resource.ALARMS,
            store=org.alarms,
            key=_alarm_id,
            snapshot=client.alarms,
            changes=client.alarm_changes,
        )
        org.index_alarms()
        changed.keys.update(
            device_key(org.id, device_id)
            for device_id in devices_with_changed_alarms(before, org.alarms)
        )
        if org.id in self._alarm_memory.last_reads:
            self._queue_events(org, before)
        else:
            # The first list: its active alarms were raised before anyone looked.
            self._alarm_memory.last_reads[org.id] = org.alarms
        # The alarms read and their offset go together into the file, at once when they moved.
        moved = org.offsets.get(Resource.ALARMS) != offset
        self._storage.schedule(ALARM_SAVE_DELAY if moved else READ_SAVE_DELAY)

    @override
    async def _async_update_data(self) -> ITExpertData:
        """One cycle over every selected organization, concurrently."""
        try:
            covered = set(await self.client.organizations())
        except AuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="it_invalid_auth"
            ) from err
        except EcoStruxureError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="it_update_failed",
                translation_placeholders={"error": str(err)},
                retry_after=err.retry_after if isinstance(err, RateLimitedError) else None,
            ) from err
        data = ITExpertData()
        changed = Changed()
        polled = [org for org in self.organizations.values() if org.id in covered]
        results = await asyncio.gather(
            *(self._sync_organization(org, changed) for org in polled), return_exceptions=True
        )
        for org, result in zip(polled, results, strict=True):
            if isinstance(result, AuthenticationError):
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="it_invalid_auth"
                ) from result
            if result is None:
                data.available.add(org.id)
            elif isinstance(result, ForbiddenError):
                data.revoked.add(org.id)
            elif isinstance(result, EcoStruxureError):
                data.failed[org.id] = str(result)
            else:
                raise result
        self._log_availability(data)
        data.revoked.update(org_id for org_id in self.organizations if org_id not in covered)
        self._update_consent(data)
        if self._topology_dirty:
            self._topology_dirty = False
            # Sensors are entities' sources without a device of their own.
            await self._async_topology_refreshed(
                sources=tuple(
                    (org.id, frozenset(org.sensors)) for org in self.organizations.values()
                )
            )
        if self.organizations and not data.available and not data.revoked:
            retry_after = [
                r.retry_after
                for r in results
                if isinstance(r, RateLimitedError) and r.retry_after is not None
            ]
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="it_update_failed",
                translation_placeholders={"error": next(iter(data.failed.values()), "")},
                retry_after=max(retry_after) if retry_after else None,
            )
        if self.data is not None:
            # An organization that starts or stops answering changes as a whole.
            changed.groups.update(self.data.available ^ data.available)
            # Devices with events not delivered yet: their entity may have just been added.
            changed.keys.update(device_key(*device) for device in self._events)
            self._changes = changed
        return data

    def _log_availability(self, data: ITExpertData) -> None:
        """Log once when an organization stops answering and once when it is back."""
        for org_id, error in data.failed.items():
            if org_id not in self._unavailable:
                self._unavailable.add(org_id)
                LOGGER.info(
                    "Organization %s is unavailable: %s", self.organizations[org_id].label, error
                )
        for org_id in self._unavailable & data.available:
            self._unavailable.discard(org_id)
            LOGGER.info("Organization %s is available again", self.organizations[org_id].label)

    def _update_consent(self, data: ITExpertData) -> None:
        """Repair issues for organizations that withdrew their consent; streams follow."""
        previous = self.data.revoked if self.data else set()
        for org_id, org in self.organizations.items():
            issue_id = f"consent_revoked_{org_id}"
            stream = self.streams[org_id]
            if org_id in data.revoked:
                if org_id not in previous:
                    LOGGER.warning(
                        "The IT Expert API key no longer gives access to organization %s",
                        org.label,
                    )
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="consent_revoked",
                    translation_placeholders={"organization": org.label},
                )
                # What is known may be stale when access returns: list everything again then.
                org.offsets.clear()
                stream.set_allowed(False)
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                stream.set_allowed(org_id in data.available or stream.allowed)

    def diagnostics(self) -> dict[str, Any]:
        """Counts and states for the diagnostics download (no labels or serial numbers)."""
        data = self.data
        return {
            org_id: {
                "available": bool(data and org_id in data.available),
                "revoked": bool(data and org_id in data.revoked),
                "failure": data.failed.get(org_id) if data else None,
                "objects_by_kind": {
                    kind: sum(1 for o in org.objects.values() if o.kind == kind)
                    for kind in InventoryKind
                },
                "sensors": len(org.sensors),
                "alarms": len(org.alarms),
                "active_alarms": sum(len(a) for a in org.active_by_device.values()),
                "offsets": dict(org.offsets),
                "stream": self.streams[org_id].diagnostics(),
            }
            for org_id, org in self.organizations.items()
        }


def _object_id(item: InventoryObject) -> str:
    return item.id


def _sensor_id(item: Sensor) -> str:
    return item.id


def _alarm_id(item: ITAlarm) -> str:
    return item.id
