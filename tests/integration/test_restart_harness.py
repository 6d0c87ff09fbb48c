"""The restart harness: a second Home Assistant starts from what the first one stored."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, restore_state as rs
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.const import DOMAIN
from tests.restart import Restarts


async def test_restart_brings_back_entries_registries_states_and_stores(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Entry, renamed entity id, last state and a delayed Store save all survive a restart."""
    registry = er.async_get(hass)
    entity = next(  # event entities restore their state
        e
        for e in er.async_entries_for_config_entry(registry, loaded_entry.entry_id)
        if e.domain == "event"
    )
    registry.async_update_entity(entity.entity_id, new_entity_id=f"{entity.domain}.renamed")
    await hass.async_block_till_done()
    state = hass.states.get(f"{entity.domain}.renamed")
    assert state is not None
    store: Store[dict[str, int]] = Store(hass, 1, "restart_harness")
    store.async_delay_save(lambda: {"saved": 1}, 3600)  # flushed only by the final write

    async with Restarts() as restarts:
        second = await restarts.restart(hass)
        assert restarts.count == 1
        entry = second.config_entries.async_get_entry(loaded_entry.entry_id)
        assert entry is not None
        assert entry.state is ConfigEntryState.LOADED
        assert entry.options == loaded_entry.options
        moved = er.async_get(second).async_get(f"{entity.domain}.renamed")
        assert moved is not None
        assert moved.unique_id == entity.unique_id
        assert second.states.get(f"{entity.domain}.renamed") is not None
        stored = rs.async_get(second).last_states.get(f"{entity.domain}.renamed")
        assert stored is not None
        assert stored.state.state == state.state
        assert await Store[dict[str, int]](second, 1, "restart_harness").async_load() == {
            "saved": 1
        }

        # And again: an instance started by the harness restarts too.
        third = await restarts.restart(second)
        assert restarts.count == 2
        third_entry = third.config_entries.async_get_entry(loaded_entry.entry_id)
        assert third_entry is not None
        assert third_entry.state is ConfigEntryState.LOADED
        assert third.states.get(f"{entity.domain}.renamed") is not None
    assert DOMAIN in third.config.components


async def test_the_storage_mocks_keep_nothing_of_a_stopped_instance(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Restarted many times (the fault soak), a test does not keep every instance's writes.

    The plugin's storage mocks record each call with its Store (its instance, its data).
    """
    async with Restarts() as restarts:
        second = await restarts.restart(hass)
        third = await restarts.restart(second)
        for mocked in (Store._async_load, Store._async_write_data, Store.async_remove):
            assert all(
                call.args[0].hass is third
                for call in mocked.call_args_list  # type: ignore[attr-defined]
            )
        assert Store._async_load.call_args_list  # type: ignore[attr-defined]
