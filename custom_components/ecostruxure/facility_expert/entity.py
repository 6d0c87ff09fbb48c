"""Base entity of Facility Expert: attached to a site or one of its assets."""

from collections.abc import Callable, Iterable
from typing import override

from homeassistant.helpers.device_registry import DeviceInfo

from ..api import Asset
from ..coordinator import ListenKey
from ..entity import ChangeOnlyEntity, async_add_topology_entities
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import SiteTopology, SiteValues, asset_device_id, site_device_id


class EcoStruxureEntity(ChangeOnlyEntity[EcoStruxureCoordinator]):
    """An entity of a site (or of one of its assets), fed by the coordinator."""

    def __init__(
        self,
        coordinator: EcoStruxureCoordinator,
        site_id: str,
        unique_id: str,
        asset: Asset | None = None,
        listen: ListenKey | None = None,
    ) -> None:
        """Attach the entity to its site's or asset's device; `listen`: what it shows."""
        super().__init__(coordinator, listen)
        self.site_id = site_id
        self.asset = asset
        self._attr_unique_id = unique_id
        self._attr_device_info = DeviceInfo(
            identifiers={asset_device_id(site_id, asset.id) if asset else site_device_id(site_id)}
        )

    @override
    def _entity_id_owner(self) -> str | None:
        """New ids start with the site's name: asset names repeat across sites."""
        topology = self.coordinator.topology.get(self.site_id)
        return topology.site.name if topology is not None else None

    @property
    def site_values(self) -> SiteValues | None:
        """The entity's site in this cycle's answers; None when the site failed."""
        data = self.coordinator.data
        return None if data is None else data.sites.get(self.site_id)

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the site does not answer: never a made-up value."""
        return super().available and self.site_values is not None


async def async_add_site_entities(
    entry: EcoStruxureConfigEntry,
    build: Callable[[EcoStruxureCoordinator, SiteTopology], Iterable[EcoStruxureEntity]],
) -> None:
    """Add the entities of every Facility Expert site and asset, as the topology changes."""
    coordinator = entry.runtime_data
    await async_add_topology_entities(
        entry,
        coordinator,
        lambda: (
            entity
            for topology in list(coordinator.topology.values())
            for entity in build(coordinator, topology)
        ),
    )
