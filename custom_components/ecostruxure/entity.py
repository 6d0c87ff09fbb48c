"""What the entities of both services share: change-only writes, entities following a topology."""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
import functools
from typing import Any, Protocol, override

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import EntityPlatform, async_get_current_platform
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator
from slugify import slugify as unicode_slugify

# Entities added per step of the event loop (see _BatchedAdder).
ADD_BATCH_SIZE = 50
# Entities built (objects only, not added) per step of the event loop.
BUILD_STEP = 500


@functools.lru_cache(maxsize=4096)
def _slug(part: str) -> str:
    """The slug of one part of an entity id, as Home Assistant's slugify makes it ("" for none).

    Site, device and entity names repeat across thousands of entities, and transliterating
    accented names is what made suggesting their ids slow.
    """
    return unicode_slugify(part, separator="_")


class ChangeOnlyEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """A coordinator entity that writes its state only when something visible changed.

    With thousands of entities most values do not change from one cycle to the next;
    skipping those writes keeps the event bus and the recorder quiet.
    """

    _attr_has_entity_name = True
    _written: tuple[object, ...] | None = None

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what a user sees changed."""
        seen = self._fingerprint()
        if seen != self._written:
            self._written = seen
            self.async_write_ha_state()

    @override
    async def async_added_to_hass(self) -> None:
        """Remember what was written first, so the next cycle compares against it."""
        await super().async_added_to_hass()
        self._written = self._fingerprint()

    @callback
    def async_write_state_now(self) -> None:
        """Write the state even if it looks unchanged (an event is a state of its own)."""
        self.async_write_ha_state()
        self._written = self._fingerprint()

    def _fingerprint(self) -> tuple[object, ...]:
        """What a user sees of the entity: written again only when it changes."""
        return (self.available, self.state, repr(self.extra_state_attributes))

    def _entity_id_owner(self) -> str | None:
        """The name new entity ids start with (site, organization); None: HA's own rule."""
        return None

    @override
    def add_to_platform_start(
        self,
        hass: HomeAssistant,
        platform: EntityPlatform,
        parallel_updates: asyncio.Semaphore | None,
    ) -> None:
        """Link to the entity's device; suggest an id that starts with the owner's name.

        The coordinator registered the device with everything it shows: linking to it spares
        the platform a device registry update per entity (tens of thousands at a large
        portfolio's setup). Without it (yet), device_info lets the platform create it.

        Asset names repeat across sites ("TGBT" in every building): HA's own rule (device
        name + entity name) then ends ids in _2, _3... Setting entity_id before the entity
        is added is HA's way to suggest one; the friendly name does not change, and an
        entity already in the registry keeps its id.
        """
        super().add_to_platform_start(hass, platform, parallel_updates)
        identifiers = self.device_info.get("identifiers") if self.device_info else None
        entry = platform.config_entry
        device = (
            dr.async_get(hass).async_get_device_by_identifier(
                next(iter(identifiers)), entry.entry_id
            )
            if identifiers and entry is not None
            else None
        )
        if device is not None and entry is not None and device.config_entry_id == entry.entry_id:
            self.device_entry = device
            self._attr_device_info = None
        owner = self._entity_id_owner()
        if owner is None or self.unique_id is None:
            return
        registry = er.async_get(hass)
        if registry.async_get_entity_id(platform.domain, platform.platform_name, self.unique_id):
            return
        parts = [owner]
        if device is not None:
            device_name = device.name_by_user or device.name
            if device_name and device_name != owner:
                parts.append(device_name)
        # Entity's own rule for its part: the English (object id) name, not the UI language.
        if name := super().suggested_object_id:
            parts.append(name)
        if object_id := "_".join(filter(None, map(_slug, parts))):
            self.entity_id = f"{platform.domain}.{object_id}"


class TopologySource(Protocol):
    """A coordinator that tells when the objects behind its entities change."""

    def async_add_topology_listener(
        self, listener: Callable[[], Awaitable[None]]
    ) -> Callable[[], None]:
        """Call (and await) `listener` on every change; returns the remover."""


@callback
def _async_remove_vanished(
    platform: EntityPlatform, entry: ConfigEntry[Any], unique_ids: set[str]
) -> None:
    """Remove the registry entries (and so the entities) of sources that vanished."""
    registry = er.async_get(platform.hass)
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        if registered.domain == platform.domain and registered.unique_id in unique_ids:
            registry.async_remove(registered.entity_id)


class _BatchedAdder:
    """One platform's entities, added in order by one task, ADD_BATCH_SIZE at a time.

    Home Assistant's platform adds one call's entities without yielding (registry entry and
    first state, ~0.3 ms each): tens of thousands at once would hold the event loop for
    seconds. Between batches the loop runs whatever else is due.
    """

    def __init__(self, entry: ConfigEntry[Any], platform: EntityPlatform) -> None:
        """Add to `platform` for `entry`; nothing queued yet."""
        self._entry = entry
        self._platform = platform
        # Every source's entity, added or still queued: a later change neither adds it twice
        # nor adds one whose source vanished meanwhile.
        self._known: dict[str, Entity] = {}
        self._queue: deque[Entity] = deque()
        self._task: asyncio.Task[None] | None = None
        self._building = asyncio.Lock()
        self._stopped = False

    async def async_rebuild(self, build: Callable[[], Iterable[Entity]]) -> None:
        """Build what the topology describes, then add what is new; return once added.

        Thousands of entity objects take a while to build too: BUILD_STEP at a time. One
        build at a time, in the order asked, so that the latest topology has the last word.
        """
        async with self._building:
            current: dict[str, Entity] = {}
            for count, entity in enumerate(build(), 1):
                current[entity.unique_id or ""] = entity
                if count % BUILD_STEP == 0:
                    await asyncio.sleep(0)
            self.async_update(current)
        await self.async_wait()

    @callback
    def async_update(self, current: dict[str, Entity]) -> None:
        """Queue the entities of new sources; remove those of vanished ones."""
        if self._stopped:
            return
        if vanished := self._known.keys() - current.keys():
            _async_remove_vanished(self._platform, self._entry, vanished)
            for key in vanished:
                del self._known[key]
        new = [entity for key, entity in current.items() if key not in self._known]
        if not new:
            return
        for entity in new:
            self._known[entity.unique_id or ""] = entity
        self._queue.extend(new)
        if self._task is None:
            self._task = self._entry.async_create_task(
                self._platform.hass,
                self._async_add_queued(),
                f"{self._platform.platform_name} add {self._platform.domain} entities",
                eager_start=False,
            )

    async def _async_add_queued(self) -> None:
        try:
            while self._queue:
                batch: list[Entity] = []
                while self._queue and len(batch) < ADD_BATCH_SIZE:
                    entity = self._queue.popleft()
                    if self._known.get(entity.unique_id or "") is entity:
                        batch.append(entity)
                if batch:
                    await self._platform.async_add_entities(batch)
                await asyncio.sleep(0)
        finally:
            self._task = None

    async def async_wait(self) -> None:
        """Return when everything queued so far is added (or adding stopped)."""
        # Never from the adding task itself (a change told while adding): it would wait for
        # itself; what it queued is added before it ends anyway.
        if self._task is not None and self._task is not asyncio.current_task():
            await asyncio.wait([self._task])

    @callback
    def async_stop(self) -> None:
        """Add nothing more: the entry unloads, and its platform is about to be reset."""
        self._stopped = True
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()


async def async_add_topology_entities(
    entry: ConfigEntry[Any],
    source: TopologySource,
    build: Callable[[], Iterable[Entity]],
) -> None:
    """Add the entities `build` describes, now and whenever the topology changes.

    Returns once the first ones are added, in batches that let the event loop run between
    (_BatchedAdder); later changes are added the same way, in order, and the coordinator
    awaits them before it goes on with the values.
    An entity whose source vanished is removed (with its device, or alone when the device
    stays, such as a deleted IT Expert sensor); if the source comes back, so does the entity.
    Must be called from a platform's setup: the platform tells which entities are its own.
    `build` is consumed over several steps of the event loop: it must iterate over a copy of
    what a refresh changes in place.
    """
    platform = async_get_current_platform()
    adder = _BatchedAdder(entry, platform)

    @callback
    def add_new() -> Awaitable[None]:
        return adder.async_rebuild(build)

    @callback
    def stop_when_unloading() -> None:
        if entry.state not in (ConfigEntryState.SETUP_IN_PROGRESS, ConfigEntryState.LOADED):
            adder.async_stop()

    entry.async_on_unload(source.async_add_topology_listener(add_new))
    entry.async_on_unload(entry.async_on_state_change(stop_when_unloading))
    # Home Assistant waits for the entities a platform adds outside the platform's setup
    # timeout (60 s), which a large portfolio on slow hardware may need: so does this.
    async with platform.hass.timeout.async_freeze(platform.domain):
        await add_new()
