"""An event entity per site: one event each time an alarm is raised or cleared."""

from datetime import UTC, datetime
from typing import override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from ..api import Alarm
from ..const import ALARM_CLEARED, ALARM_RAISED
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import SiteTopology
from .entity import EcoStruxureEntity, async_add_site_entities

ALARM_EVENTS = EventEntityDescription(
    key="alarms", translation_key="alarms", event_types=[ALARM_RAISED, ALARM_CLEARED]
)


class AlarmEvents(EcoStruxureEntity, EventEntity):
    """Fires alarm_raised / alarm_cleared with the alarm's details, for automations."""

    entity_description = ALARM_EVENTS

    def __init__(self, coordinator: EcoStruxureCoordinator, site_id: str) -> None:
        """Start from the site's alarms as last read: those active then were raised before.

        A site that vanished and came back continues from its last read before it went, so
        that what happened meanwhile fires once, and what was delivered before does not again.
        """
        super().__init__(coordinator, site_id, f"{site_id}-alarms")
        # After a reload of the entry: the read the previous entity compared last.
        memory = coordinator.alarm_memory
        start = memory.delivered.get(site_id) or memory.last_reads.get(site_id)
        self._known: dict[str, Alarm] = {a.id: a for a in start.alarms} if start else {}
        # An alarm raised and cleared before that read is history, not an event: the next
        # requests reach back a little before it (ALARM_WINDOW_MARGIN) and may return one.
        self._start = start.polled if start else None

    @override
    async def async_added_to_hass(self) -> None:
        """Catch up with the current answer, which may have come before the entity was added.

        An entity made when the topology changes (a site that came back) is added while the
        cycle goes on and can miss its update; the next cycle's answer no longer holds what
        happened while the site was gone. An entity that already saw the answer fires nothing.
        Done once the entity is in the state machine: each event needs a state of its own.
        """
        await super().async_added_to_hass()
        self.async_on_remove(async_call_later(self.hass, 0, self._catch_up))

    @callback
    def _catch_up(self, _: datetime) -> None:
        self._handle_coordinator_update()

    def _details(self, alarm: Alarm) -> dict[str, str | None]:
        topology = self.coordinator.topology.get(self.site_id)
        asset = topology.assets.get(alarm.asset_id) if topology else None
        return {
            "alarm_id": alarm.id,
            "alarm_type": alarm.type,
            "asset_id": alarm.asset_id,
            "asset_name": asset.name if asset else None,
            "severity": alarm.severity,
            "label": alarm.label,
            "message": alarm.message,
            "activated_at": alarm.activated_at.isoformat(),
            "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
        }

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Compare this cycle's active alarms with the last ones and fire the differences."""
        site = self.site_values
        if site is not None and site.alarms is not None:
            received = {a.id: a for a in site.alarms}
            events: list[tuple[str, Alarm]] = []
            for alarm in sorted(received.values(), key=lambda a: a.activated_at):
                before = self._known.get(alarm.id)
                if before is None and self._cleared_before_start(alarm):
                    continue
                if before is None:
                    events.append((ALARM_RAISED, alarm))
                if not alarm.active and (before is None or before.active):
                    # Cleared since the last cycle, or raised and cleared in between.
                    events.append((ALARM_CLEARED, alarm))
            for alarm_id, before in self._known.items():
                if before.active and alarm_id not in received:
                    events.append((ALARM_CLEARED, before))  # gone from the active list
            # In the order they happened: after a restart one answer may hold several.
            events.sort(key=_when)
            self._known = received
            memory = self.coordinator.alarm_memory
            if (compared := memory.last_reads.get(self.site_id)) is not None:
                memory.delivered[self.site_id] = compared
            for event_type, alarm in events:
                self._trigger_event(event_type, self._details(alarm))
                self.async_write_state_now()  # one state write per event
        super()._handle_coordinator_update()

    def _cleared_before_start(self, alarm: Alarm) -> bool:
        """Whether the alarm was already cleared at the read the entity started from."""
        return (
            self._start is not None
            and alarm.cleared_at is not None
            and alarm.cleared_at <= self._start
        )


def _when(event: tuple[str, Alarm]) -> datetime:
    """When the event happened; a clear seen only as gone from the list, after the others."""
    event_type, alarm = event
    if event_type == ALARM_RAISED:
        return alarm.activated_at
    return alarm.cleared_at or datetime.max.replace(tzinfo=UTC)


def _events(coordinator: EcoStruxureCoordinator, topology: SiteTopology) -> list[EcoStruxureEntity]:
    return [AlarmEvents(coordinator, topology.site.id)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EcoStruxureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the alarm event entities of every site and asset."""
    await async_add_site_entities(entry, _events)
