"""Alarm reads kept across reloads of an entry, for the alarm events of both services."""

from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN


@dataclass(slots=True)
class AlarmMemory[T]:
    """An entry's alarm reads per site or organization, kept across reloads (not restarts).

    A reload (reauthentication, new options) makes a new coordinator and new entities. They
    go on from what is kept here, so that an alarm raised or cleared during the reload fires
    once, and one already fired does not fire again.
    """

    # Per site or organization: the last read of its alarms; absent until the first read,
    # whose active alarms were raised before anyone looked and fire nothing.
    last_reads: dict[str, T] = field(default_factory=dict)
    # Per site: the read its event entity last compared (Facility Expert, whose entities
    # compare reads themselves; the IT Expert coordinator queues the events instead).
    delivered: dict[str, T] = field(default_factory=dict)


DATA_ALARM_MEMORY: HassKey[dict[str, AlarmMemory[Any]]] = HassKey(f"{DOMAIN}_alarm_memory")


def alarm_memory[T](hass: HomeAssistant, entry_id: str) -> AlarmMemory[T]:
    """The entry's alarm memory, made empty on first use."""
    memories = hass.data.setdefault(DATA_ALARM_MEMORY, {})
    memory: AlarmMemory[T] = memories.setdefault(entry_id, AlarmMemory())
    return memory


def forget_alarm_memory(hass: HomeAssistant, entry_id: str) -> None:
    """Drop the alarm memory of a removed entry."""
    hass.data.get(DATA_ALARM_MEMORY, {}).pop(entry_id, None)
