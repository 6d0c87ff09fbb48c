"""Restart Home Assistant for real in a test: stop it, start another on the same storage.

The test's `hass` (the plugin's fixture) and every instance started here share the plugin's
mock storage (`hass_storage`, a dict of the JSON each `Store` would write). A restart:

- stops the running instance as Home Assistant stops: shutdown jobs, the stop event (entries
  shut down, restore state dumped, as `RestoreStateData.async_setup_dump` does outside tests),
  then the final write, which flushes every delayed `Store` save;
- saves what the plugin's instance never writes (its registries are write-less stubs, its
  config entries are saved only when they change), so that the storage holds what a real
  Home Assistant would have on disk;
- starts a second instance whose config entries, device, entity and issue registries and
  restore state all come from that storage, then sets up the integrations of those entries
  and starts (start and started events), as at boot.

Use:

    async with Restarts() as restarts:
        hass = await restarts.restart(hass)          # stop and start again
        # or, to act while Home Assistant is down:
        await restarts.stop(hass)
        simulator.clock.advance(...)
        hass = await restarts.start()

Instances started here are stopped when the block ends; the first one stays the plugin's to
tear down. The harness knows nothing of this integration: any test may use it.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any, Self
from unittest.mock import patch

from homeassistant import bootstrap, loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, Event, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    category_registry as cr,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    frame,
    issue_registry as ir,
    label_registry as lr,
    restore_state as rs,
    storage,
    translation,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_test_home_assistant

# The registries a restart reloads from storage, in the order Home Assistant loads them.
_REGISTRIES: tuple[Any, ...] = (ar, cr, dr, er, fr, ir, lr)
_GETTERS: tuple[Callable[[HomeAssistant], Any], ...] = (
    ar.async_get,
    cr.async_get,
    dr.async_get,
    er.async_get,
    fr.async_get,
    ir.async_get,
    lr.async_get,
)


async def _save_registries(hass: HomeAssistant) -> None:
    """Write each registry and the config entries as Home Assistant would have them on disk.

    `Store.async_save` is called on the class: the plugin's registries use a subclass whose
    save does nothing; the key, version and data are the real ones.
    """
    for get in _GETTERS:
        registry = get(hass)
        await storage.Store.async_save(registry._store, registry._data_to_save())
    entries = hass.config_entries
    await storage.Store.async_save(entries._store, entries._data_to_save())


class Restarts:
    """Stops a Home Assistant instance and starts another on the same storage."""

    def __init__(self) -> None:
        """Nothing started yet."""
        self._stack = AsyncExitStack()
        self.instances: list[HomeAssistant] = []  # those started here, in order
        self.count = 0  # restarts completed

    async def __aenter__(self) -> Self:
        """Ready to restart."""
        await self._stack.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the instances started here that are still running, as the plugin does."""
        for hass in self.instances:
            await _teardown(hass)
        await self._stack.__aexit__(exc_type, exc, tb)

    async def stop(self, hass: HomeAssistant) -> None:
        """Stop `hass` as Home Assistant stops, its storage written as it would be."""
        await hass.async_block_till_done()
        await _save_registries(hass)
        restore = rs.async_get(hass)

        async def dump_states(_: Event) -> None:
            await restore.async_dump_states()

        # What RestoreStateData.async_setup_dump registers outside tests.
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, dump_states)
        await hass.async_stop()
        _forget_storage_calls()

    async def start(
        self, before_setup: Callable[[HomeAssistant], None] | None = None
    ) -> HomeAssistant:
        """Start a new instance from the storage, with the stored entries set up.

        `before_setup` is called with the new instance before any entry is set up: to listen
        to what the entries do from their first moment (events fired at setup).
        """
        hass = await self._stack.enter_async_context(_started(before_setup))
        self.instances.append(hass)
        self.count += 1
        return hass

    async def restart(
        self,
        hass: HomeAssistant,
        before_setup: Callable[[HomeAssistant], None] | None = None,
    ) -> HomeAssistant:
        """Stop `hass`, then start a new instance on its storage; the new one."""
        await self.stop(hass)
        return await self.start(before_setup)


@asynccontextmanager
async def _started(
    before_setup: Callable[[HomeAssistant], None] | None,
) -> AsyncIterator[HomeAssistant]:
    # Not running while the registries load and the entries are set up, then started: as at
    # boot (the registries' handlers of the start and the stop are those of a real start).
    async with async_test_home_assistant(
        load_registries=False, initial_state=CoreState.not_running
    ) as hass:
        frame.async_setup(hass)
        await translation.async_load_integrations(hass, {"homeassistant"})
        # As the plugin's enable_custom_integrations fixture does.
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        dr.async_setup(hass)
        # Restore state is dumped at stop by `Restarts.stop`, not every 15 minutes.
        with (
            patch.object(rs.RestoreStateData, "async_setup_dump", return_value=None),
            patch("homeassistant.helpers.restore_state.start.async_at_start"),
        ):
            for registry in _REGISTRIES:
                await registry.async_load(hass)
            await rs.async_load(hass)
        hass.data[bootstrap.DATA_REGISTRIES_LOADED] = None
        await hass.config_entries.async_initialize()
        if before_setup is not None:
            before_setup(hass)
        for domain in {entry.domain for entry in hass.config_entries.async_entries()}:
            await async_setup_component(hass, domain, {})
        await hass.async_block_till_done()
        await hass.async_start()
        await hass.async_block_till_done()
        yield hass


def _forget_storage_calls() -> None:
    """Let the plugin's storage mocks forget their calls: these hold every Store written.

    Their side effects (the mock storage) stay; only the record of calls goes, which no test
    reads and which would keep each stopped instance's stores, and every write's data, alive
    (a test of many restarts, the fault soak, would see it as a leak).
    """
    for name in ("_async_load", "_async_write_data", "async_remove"):
        reset = getattr(getattr(storage.Store, name), "reset_mock", None)
        if reset is not None:
            reset()


async def _teardown(hass: HomeAssistant) -> None:
    """Unload the loaded entries and stop, as the plugin's `hass` fixture ends."""
    if hass.is_stopping or hass.state is CoreState.not_running:
        return
    for entry in hass.config_entries.async_entries():
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_stop(force=True)
