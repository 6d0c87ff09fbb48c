"""What the coordinators of both services share: a topology that devices and entities follow.

A service's coordinator describes its devices (`_device_specs`); the base keeps the device
registry in line with them (create, update name/model/firmware, remove) and tells the
platforms, which add the entities of new objects and remove those of vanished ones
(entity.async_add_topology_entities).
"""

from abc import abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
import time
from typing import Any, Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

# Devices created or updated per step of the event loop.
DEVICE_BATCH_SIZE = 100

# Told of a topology change; what it returns is awaited before the refresh goes on.
type TopologyListener = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSpec:
    """A device as the service describes it; `via` is its parent's identifier, listed before."""

    identifier: tuple[str, str]
    name: str
    manufacturer: str | None = None
    model: str | None = None
    model_id: str | None = None
    serial_number: str | None = None
    sw_version: str | None = None
    suggested_area: str | None = None
    via: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ListenKey:
    """What an entity shows: `key` (a measurement, an asset's alarms) within `group` (a site).

    Given as the entity's coordinator context, it has the entity called back only when the
    key, or its whole group, changed (TopologyCoordinator.async_update_listeners).
    """

    group: str
    key: Hashable


@dataclass(slots=True)
class Changed:
    """What one refresh changed: whole groups (availability), and single keys."""

    groups: set[str] = field(default_factory=set)
    keys: set[ListenKey] = field(default_factory=set)


# Listeners are called back to back for at most this long before the event loop gets a
# turn: a state write costs tens of microseconds, and after a recovery every entity writes.
DISPATCH_SLICE: Final = 0.008
# How many listeners are called between two looks at the clock; a batch is never smaller
# than the first look, so that an entry with few entities is told at once.
_DISPATCH_CHECK_EVERY: Final = 128


class _Listener:
    """A callback, and whether it still listens (a later batch may come after its removal)."""

    __slots__ = ("active", "update_callback")

    def __init__(self, update_callback: CALLBACK_TYPE) -> None:
        self.update_callback = update_callback
        self.active = True


class TopologyCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator whose devices and entities follow a topology of the service.

    Entities that listen with a ListenKey are called back only for what changed, when the
    refresh says what did (`_changes`): with thousands of entities and a few percent of the
    values moving, calling every entity each cycle to find out was most of a cycle's cost.
    Everyone is called back after a first refresh, a failure and a recovery, and whenever
    the data was set without saying what changed. Many callbacks are made in batches that
    let the event loop run between them (DISPATCH_SLICE).
    """

    config_entry: ConfigEntry[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up as a DataUpdateCoordinator, with no listener and no topology yet."""
        super().__init__(*args, **kwargs)
        self._topology_listeners: list[TopologyListener] = []
        self._topology_key: Hashable = None
        self._topology_lock = asyncio.Lock()
        self._unkeyed: list[_Listener] = []
        self._keyed: dict[str, dict[Hashable, list[_Listener]]] = {}
        # What the refresh in progress changed; None: tell everyone.
        self._changes: Changed | None = None
        self._told_success = False  # whether the listeners last heard of a success

    @callback
    @override
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Listen for data updates; with a ListenKey as context, for that key's only."""
        remove = super().async_add_listener(update_callback, context)
        if isinstance(context, ListenKey):
            group = self._keyed.setdefault(context.group, {})
            listeners = group.setdefault(context.key, [])
        else:
            listeners = self._unkeyed
        listener = _Listener(update_callback)
        listeners.append(listener)

        @callback
        def remove_listener() -> None:
            remove()
            listener.active = False
            listeners.remove(listener)
            if isinstance(context, ListenKey) and not listeners:
                group = self._keyed[context.group]
                del group[context.key]
                if not group:
                    del self._keyed[context.group]

        return remove_listener

    @callback
    @override
    def async_update_listeners(self) -> None:
        """Call back the listeners of what changed; everyone unless a success follows one."""
        changes, self._changes = self._changes, None
        told_success, self._told_success = self._told_success, self.last_update_success
        called = list(self._unkeyed)
        if changes is None or not told_success or not self.last_update_success:
            for every_key in self._keyed.values():
                for listeners in every_key.values():
                    called.extend(listeners)
        else:
            for group in changes.groups:
                for listeners in self._keyed.get(group, {}).values():
                    called.extend(listeners)
            for key in changes.keys:
                if key.group not in changes.groups and (group_keys := self._keyed.get(key.group)):
                    called.extend(group_keys.get(key.key, ()))
        done = self._call_for_a_slice(called, 0)
        if done < len(called):
            self.hass.async_create_task(
                self._async_call_rest(called, done), f"{self.name} listeners", eager_start=False
            )

    async def _async_call_rest(self, called: list[_Listener], done: int) -> None:
        while done < len(called):
            await asyncio.sleep(0)
            done = self._call_for_a_slice(called, done)

    def _call_for_a_slice(self, called: list[_Listener], start: int) -> int:
        """Call listeners from `start` for about DISPATCH_SLICE; where the next batch starts."""
        deadline = time.perf_counter() + DISPATCH_SLICE
        for index in range(start, len(called)):
            if (
                index > start
                and (index - start) % _DISPATCH_CHECK_EVERY == 0
                and time.perf_counter() > deadline
            ):
                return index
            listener = called[index]
            if not listener.active:
                continue  # removed while waiting for its batch
            try:
                listener.update_callback()
            except Exception:
                self.logger.exception(
                    "Unexpected error updating listener %s for %s",
                    id(listener.update_callback),
                    self.name,
                )
        return len(called)

    @callback
    def async_add_topology_listener(self, listener: TopologyListener) -> Callable[[], None]:
        """Call `listener` whenever objects appear, change or go; returns the remover."""
        self._topology_listeners.append(listener)
        return lambda: self._topology_listeners.remove(listener)

    @abstractmethod
    def _device_specs(self) -> Iterable[DeviceSpec]:
        """The devices of the topology, parents before their children."""

    async def _async_topology_refreshed(
        self, *, always: bool = False, sources: Hashable = None
    ) -> None:
        """Bring devices in line with the topology and tell the platforms, if it changed.

        The key compares what the devices show (a rename is a change) and `sources`, what
        entities are built from besides devices (IT Expert sensors). `always` tells the
        platforms even when nothing changed. One refresh at a time, in the order they came:
        the device sync yields, and a later topology must not be overtaken by an earlier one.
        The entities of new objects are in place before the refresh goes on, so that the
        values and alarms that follow reach them (an alarm of a new device fires its event).
        """
        async with self._topology_lock:
            specs = tuple(self._device_specs())
            key = (specs, sources)
            if not always and key == self._topology_key:
                return
            self._topology_key = key
            await self._async_sync_devices(specs)
            await asyncio.gather(*(listener() for listener in list(self._topology_listeners)))

    async def _async_sync_devices(self, specs: Iterable[DeviceSpec]) -> None:
        """Create, update and remove devices, DEVICE_BATCH_SIZE per step of the event loop.

        Thousands of devices at once (a large portfolio's first start) would hold the loop
        for a good part of a second.
        """
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        device_ids: dict[tuple[str, str], str] = {}
        for count, spec in enumerate(specs, 1):
            device = registry.async_get_or_create(
                config_entry_id=entry_id,
                identifiers={spec.identifier},
                manufacturer=spec.manufacturer,
                model=spec.model,
                model_id=spec.model_id,
                serial_number=spec.serial_number,
                sw_version=spec.sw_version,
                name=spec.name,
                suggested_area=spec.suggested_area,
                via_device_id=device_ids.get(spec.via) if spec.via else None,
            )
            device_ids[spec.identifier] = device.id
            if count % DEVICE_BATCH_SIZE == 0:
                await asyncio.sleep(0)
        gone = [
            device.id
            for device in dr.async_entries_for_config_entry(registry, entry_id)
            if not device.identifiers & device_ids.keys()
        ]
        for count, device_id in enumerate(gone, 1):
            registry.async_remove_device(device_id)
            if count % DEVICE_BATCH_SIZE == 0:
                await asyncio.sleep(0)
