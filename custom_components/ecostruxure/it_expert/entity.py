"""Base entity of IT Expert: attached to an organization's object, fed by the coordinator."""

from typing import override

from homeassistant.helpers.device_registry import DeviceInfo

from ..coordinator import ListenKey
from ..entity import ChangeOnlyEntity
from .coordinator import ITExpertCoordinator
from .data import Organization, it_device_id


class ITExpertEntity(ChangeOnlyEntity[ITExpertCoordinator]):
    """An entity of an organization's device (or of the organization itself)."""

    def __init__(
        self,
        coordinator: ITExpertCoordinator,
        organization_id: str,
        object_id: str,
        key: str,
        listen: ListenKey | None = None,
    ) -> None:
        """Attach the entity to the device of `object_id`; `listen`: what it shows."""
        super().__init__(coordinator, listen)
        self.organization_id = organization_id
        self.object_id = object_id
        self._attr_unique_id = f"{organization_id}-{object_id}-{key}"
        self._attr_device_info = DeviceInfo(identifiers={it_device_id(organization_id, object_id)})

    @override
    def _entity_id_owner(self) -> str | None:
        """With several organizations, new ids start with the organization's name.

        With one, HA's own rule stays: there is nothing to tell apart, and ids stay short.
        """
        if len(self.coordinator.organization_ids) < 2:
            return None
        return self.organization.label

    @property
    def organization(self) -> Organization:
        """What is known of the entity's organization."""
        return self.coordinator.organizations[self.organization_id]

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the organization does not answer or withdrew its consent."""
        data = self.coordinator.data
        return super().available and data is not None and self.organization_id in data.available
