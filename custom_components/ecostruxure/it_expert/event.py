"""IT Expert alarm events: an event entity per device, fired as alarms are raised and cleared."""

from collections.abc import Iterable
from datetime import datetime
from typing import override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from ..api.it_expert.models import InventoryKind, InventoryObject, ITAlarm
from ..entity import async_add_topology_entities
from .coordinator import ITExpertConfigEntry, ITExpertCoordinator
from .data import device_key
from .descriptions import ALARM_EVENTS, alarm_events_enabled
from .entity import ITExpertEntity


def _details(alarm: ITAlarm) -> dict[str, str | int | None]:
    return {
        "alarm_id": alarm.id,
        "label": alarm.label,
        "message": alarm.message,
        "severity": alarm.severity,
        "activated_at": alarm.activated.isoformat() if alarm.activated else None,
        "cleared_at": alarm.cleared.isoformat() if alarm.cleared else None,
        "reactivation_count": alarm.reactivation_count,
    }


class DeviceAlarmEvents(ITExpertEntity, EventEntity):
    """Fires alarm_raised / alarm_cleared with the alarm's details, each exactly once."""

    entity_description = ALARM_EVENTS

    def __init__(
        self, coordinator: ITExpertCoordinator, organization_id: str, device: InventoryObject
    ) -> None:
        """Attach the entity to its device."""
        super().__init__(
            coordinator,
            organization_id,
            device.id,
            ALARM_EVENTS.key,
            device_key(organization_id, device.id),
        )
        self._attr_entity_registry_enabled_default = alarm_events_enabled(device)

    @override
    async def async_added_to_hass(self) -> None:
        """Fire what happened before the device was listed (the inventory lags the alarms).

        Done once the entity is in the state machine: each event needs a state of its own.
        """
        await super().async_added_to_hass()
        self.async_on_remove(async_call_later(self.hass, 0, self._catch_up))

    @callback
    def _catch_up(self, _: datetime) -> None:
        self._fire_pending()

    @callback
    def _fire_pending(self) -> None:
        for event in self.coordinator.take_events(self.organization_id, self.object_id):
            self._trigger_event(event.event_type, _details(event.alarm))
            self.async_write_state_now()  # one state write per event

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Fire this cycle's raises and clears of the device."""
        self._fire_pending()
        super()._handle_coordinator_update()


def build_events(coordinator: ITExpertCoordinator) -> Iterable[Entity]:
    """An alarm event entity per listed device."""
    # Copies: a refresh may change them while the entities are built (over several steps).
    for org in list(coordinator.organizations.values()):
        for item in list(org.objects.values()):
            if item.kind == InventoryKind.DEVICE:
                yield DeviceAlarmEvents(coordinator, org.id, item)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ITExpertConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of every IT Expert object, as the inventory changes."""
    coordinator = entry.runtime_data
    await async_add_topology_entities(entry, coordinator, lambda: build_events(coordinator))
