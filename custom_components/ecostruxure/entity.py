"""Base entities: everything an EcoStruxure entity shares."""

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Asset
from .coordinator import (
    EcoStruxureConfigEntry,
    EcoStruxureCoordinator,
    SiteTopology,
    SiteValues,
    asset_device_id,
    site_device_id,
)


class EcoStruxureEntity(CoordinatorEntity[EcoStruxureCoordinator]):
    """An entity of a site (or of one of its assets), fed by the coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: EcoStruxureCoordinator,
        site_id: str,
        unique_id: str,
        asset: Asset | None = None,
    ) -> None:
        """Attach the entity to its site's or asset's device."""
        super().__init__(coordinator)
        self.site_id = site_id
        self.asset = asset
        self._attr_unique_id = unique_id
        self._attr_device_info = DeviceInfo(
            identifiers={asset_device_id(site_id, asset.id) if asset else site_device_id(site_id)}
        )
        self._written: tuple[object, ...] | None = None

    @property
    def site_values(self) -> SiteValues | None:
        """The entity's site in this cycle's answers; None when the site failed."""
        data = self.coordinator.data
        return None if data is None else data.sites.get(self.site_id)

    @property
    def available(self) -> bool:
        """Unavailable while the site does not answer: never a made-up value."""
        return super().available and self.site_values is not None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when something a user can see changed.

        With thousands of entities most values do not change from one cycle to the next;
        skipping those writes keeps the event bus and the recorder quiet.
        """
        seen = self._fingerprint()
        if seen != self._written:
            self._written = seen
            self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Remember what was written first, so the next cycle compares against it."""
        await super().async_added_to_hass()
        self._written = self._fingerprint()

    def _fingerprint(self) -> tuple[object, ...]:
        """What a user sees of the entity: written again only when it changes."""
        return (self.available, self.state, repr(self.extra_state_attributes))


@callback
def async_add_topology_entities(
    entry: EcoStruxureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[EcoStruxureCoordinator, SiteTopology], Iterable[EcoStruxureEntity]],
) -> None:
    """Add the entities of every site and asset, now and whenever new assets appear.

    Entities of a vanished asset go with its device; if it comes back, they come back.
    """
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def add_new() -> None:
        current: dict[str, EcoStruxureEntity] = {}
        for topology in coordinator.topology.values():
            for entity in build(coordinator, topology):
                current[entity.unique_id or ""] = entity
        new = [entity for key, entity in current.items() if key not in known]
        known.clear()
        known.update(current)
        if new:
            async_add_entities(new)

    add_new()
    entry.async_on_unload(coordinator.async_add_topology_listener(add_new))
