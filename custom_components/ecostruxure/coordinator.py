"""What the coordinators of both services share: a topology that devices and entities follow.

A service's coordinator describes its devices (`_device_specs`); the base keeps the device
registry in line with them (create, update name/model/firmware, remove) and tells the
platforms, which add the entities of new objects and remove those of vanished ones
(entity.async_add_topology_entities).
"""

from abc import abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import callback
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


class TopologyCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator whose devices and entities follow a topology of the service."""

    config_entry: ConfigEntry[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Set up as a DataUpdateCoordinator, with no listener and no topology yet."""
        super().__init__(*args, **kwargs)
        self._topology_listeners: list[TopologyListener] = []
        self._topology_key: Hashable = None
        self._topology_lock = asyncio.Lock()

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
