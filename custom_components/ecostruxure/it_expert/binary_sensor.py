"""IT Expert binary sensors: a problem sensor per device, the stream's state per organization."""

from collections.abc import Iterable
from typing import Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..api.it_expert.models import InventoryKind
from ..entity import async_add_topology_entities
from .const import counts_as_alarm
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .data import device_key
from .descriptions import PROBLEM, STREAM
from .entity import ITExpertEntity


class DeviceProblem(ITExpertEntity, BinarySensorEntity):
    """On while the device has an active alarm of warning severity or worse."""

    entity_description = PROBLEM

    def __init__(
        self, coordinator: ITExpertCoordinator, organization_id: str, device_id: str
    ) -> None:
        """Attach the sensor to its device."""
        super().__init__(
            coordinator,
            organization_id,
            device_id,
            PROBLEM.key,
            device_key(organization_id, device_id),
        )

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The device's active alarms: state and attributes follow from them."""
        return (self.available, tuple(self.organization.active_by_device.get(self.object_id, ())))

    @property
    @override
    def is_on(self) -> bool:
        """Whether an alarm that counts is active."""
        alarms = self.organization.active_by_device.get(self.object_id, ())
        return any(counts_as_alarm(alarm.severity) for alarm in alarms)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """The active alarms, newest first: label, severity and since when."""
        return {
            "alarms": [
                {
                    "label": alarm.label,
                    "severity": alarm.severity,
                    "activated_at": alarm.activated.isoformat() if alarm.activated else None,
                }
                for alarm in self.organization.active_by_device.get(self.object_id, ())
            ]
        }


class StreamConnected(ITExpertEntity, BinarySensorEntity):
    """Whether the organization's live measurement stream is connected."""

    entity_description = STREAM

    def __init__(self, coordinator: ITExpertCoordinator, organization_id: str) -> None:
        """Attach the sensor to the organization's device."""
        super().__init__(coordinator, organization_id, organization_id, STREAM.key)
        self._stream = coordinator.streams[organization_id]

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the stream's connects and drops."""
        await super().async_added_to_hass()
        self.async_on_remove(self._stream.async_add_status_listener(self._on_status))

    @callback
    def _on_status(self) -> None:
        self._handle_coordinator_update()

    @property
    @override
    def is_on(self) -> bool:
        """Connected now."""
        return self._stream.connected


def build_binary_sensors(coordinator: ITExpertCoordinator) -> Iterable[Entity]:
    """A problem sensor per listed device, a stream sensor per listed organization."""
    # Copies: a refresh may change them while the entities are built (over several steps).
    for org in list(coordinator.organizations.values()):
        if org.objects:
            yield StreamConnected(coordinator, org.id)
        for item in list(org.objects.values()):
            if item.kind == InventoryKind.DEVICE:
                yield DeviceProblem(coordinator, org.id, item.id)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ITExpertConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensor entities of every IT Expert object, as the inventory changes."""
    coordinator = entry.runtime_data
    await async_add_topology_entities(entry, coordinator, lambda: build_binary_sensors(coordinator))
