"""IT Expert data: device identifiers, organizations and alarm transitions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from homeassistant.util import dt as dt_util

from ..api.it_expert.models import (
    Changes,
    InventoryKind,
    InventoryObject,
    ITAlarm,
    Sensor,
    Snapshot,
)
from ..api.json_reading import NAME_MAX
from ..const import (
    ALARM_CLEARED,
    ALARM_RAISED,
    DOMAIN,
)
from ..coordinator import ListenKey
from ..topology import nearest_matching, parents_first
from .const import (
    FULL_SYNC_INTERVAL,
    OFFSET_MAX_AGE,
)


def device_key(organization_id: str, device_id: str) -> ListenKey:
    """What a device's alarm entities listen to: the device's alarms."""
    return ListenKey(organization_id, ("device", device_id))


def sensor_key(organization_id: str, sensor_id: str) -> ListenKey:
    """What a reading sensor listens to from the coordinator: its organization only.

    Its readings come from the stream; a polling cycle changes only whether the
    organization answers (a change of the whole group). A key of its own keeps its removal
    from the coordinator's listeners cheap.
    """
    return ListenKey(organization_id, ("sensor", sensor_id))


def devices_with_changed_alarms(before: dict[str, ITAlarm], after: dict[str, ITAlarm]) -> set[str]:
    """The devices with an alarm that appeared, changed or went between two reads."""
    devices: set[str] = set()
    if before == after:
        return devices
    for alarm_id, alarm in after.items():
        previous = before.get(alarm_id)
        if previous != alarm:
            devices.add(alarm.device_id or "")
            if previous is not None:
                devices.add(previous.device_id or "")
    for alarm_id in before.keys() - after.keys():
        devices.add(before[alarm_id].device_id or "")
    devices.discard("")
    return devices


def it_device_id(organization_id: str, object_id: str) -> tuple[str, str]:
    """Device identifier of an organization, location or device of IT Expert.

    Object ids are only promised unique within an organization: the organization scopes them.
    The organization itself is the object whose id is the organization's.
    """
    return (DOMAIN, f"it:{organization_id}:{object_id}")


class Resource(StrEnum):
    """What is synchronized by snapshot and changes."""

    INVENTORY = "inventory"
    SENSORS = "sensors"
    ALARMS = "alarms"


@dataclass(slots=True)
class AlarmEvent:
    """An alarm raised or cleared, waiting for the event entity of its device."""

    event_type: str
    alarm: ITAlarm
    seen: datetime


@dataclass(slots=True)
class Organization:
    """What is known of one organization, kept up to date by snapshots and changes."""

    id: str
    objects: dict[str, InventoryObject] = field(default_factory=dict)
    sensors: dict[str, Sensor] = field(default_factory=dict)
    alarms: dict[str, ITAlarm] = field(default_factory=dict)
    offsets: dict[Resource, int] = field(default_factory=dict)
    listed_at: dict[Resource, datetime] = field(default_factory=dict)
    read_at: dict[Resource, datetime] = field(default_factory=dict)
    # Active alarms per device, rebuilt when the alarms change.
    active_by_device: dict[str, list[ITAlarm]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The organization's name, or its id until the inventory names it."""
        own = self.objects.get(self.id)
        # An id may be longer than a name may (json_reading.ID_MAX > NAME_MAX).
        return own.label if own is not None and own.label else self.id[:NAME_MAX]

    def ordered_objects(self) -> list[InventoryObject]:
        """Locations and devices, every parent before its children."""
        return parents_first(
            (o for o in self.objects.values() if o.kind != InventoryKind.ORGANIZATION),
            key=lambda o: o.id,
            parent=self.parent_of,
        )

    def parent_of(self, item: InventoryObject) -> str | None:
        """The listed object `item` hangs under: parent device, location, else the organization.

        The inventory is eventually consistent: a parent not listed yet is skipped.
        """
        for candidate in (item.parent_id, item.location_id):
            if candidate and candidate != item.id and candidate in self.objects:
                return candidate
        return None

    def rooms(self) -> dict[str, str | None]:
        """The label of the nearest location of type ROOM above each object (itself first).

        One linear pass for all objects: a walk per object would be quadratic in a deep tree.
        """
        nearest = nearest_matching(
            self.objects,
            parent=self.parent_of,
            match=lambda o: o.kind == InventoryKind.LOCATION and (o.type or "").upper() == "ROOM",
        )
        return {
            object_id: None if room_id is None else self.objects[room_id].label
            for object_id, room_id in nearest.items()
        }

    def index_alarms(self) -> None:
        """Group the active alarms by device, newest first."""
        index: dict[str, list[ITAlarm]] = {}
        for alarm in self.alarms.values():
            if alarm.active and alarm.device_id:
                index.setdefault(alarm.device_id, []).append(alarm)
        for alarms in index.values():
            alarms.sort(key=lambda a: a.activated or dt_util.utc_from_timestamp(0), reverse=True)
        self.active_by_device = index

    def needs_full_list(self, resource: Resource, now: datetime) -> bool:
        """Whether the next read of `resource` must be a full list rather than changes."""
        listed, read = self.listed_at.get(resource), self.read_at.get(resource)
        return (
            resource not in self.offsets
            or listed is None
            or read is None
            or now - listed > FULL_SYNC_INTERVAL
            or now - read > OFFSET_MAX_AGE
        )


@dataclass(slots=True)
class ITExpertData:
    """One cycle: which organizations answered, which failed and why, which lost consent."""

    available: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)


def apply_snapshot[T](store: dict[str, T], snapshot: Snapshot[T], key: Callable[[T], str]) -> None:
    """Replace what `store` holds with the snapshot's items, by key."""
    store.clear()
    store.update((key(item), item) for item in snapshot.items)


def apply_changes[T](store: dict[str, T], changes: Changes[T], key: Callable[[T], str]) -> None:
    """Apply the changes to `store`: an item put, or a deleted id removed."""
    # In order, and harmless when repeated: the service may send a change twice.
    for change in changes.changes:
        if change.item is not None:
            store[key(change.item)] = change.item
        elif change.deleted_id is not None:
            store.pop(change.deleted_id, None)


def alarm_transitions(
    before: dict[str, ITAlarm], after: dict[str, ITAlarm]
) -> list[tuple[str, ITAlarm]]:
    """The raises and clears between two states of an organization's alarms, oldest first."""
    events: list[tuple[str, ITAlarm]] = []
    epoch = dt_util.utc_from_timestamp(0)
    for alarm in sorted(after.values(), key=lambda a: a.activated or epoch):
        previous = before.get(alarm.id)
        if alarm.active and (previous is None or not previous.active):
            events.append((ALARM_RAISED, alarm))  # new, or reactivated
        elif not alarm.active:
            if previous is None:
                # Raised and cleared between two cycles: both happened.
                events.append((ALARM_RAISED, alarm))
                events.append((ALARM_CLEARED, alarm))
            elif previous.active:
                events.append((ALARM_CLEARED, alarm))
    for alarm_id, previous in before.items():
        if alarm_id not in after and previous.active:
            # Aged out of the list: it can only have been cleared.
            events.append((ALARM_CLEARED, previous))
    return events
