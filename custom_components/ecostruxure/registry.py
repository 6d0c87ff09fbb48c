"""The one place that tells the services apart: each service's parts, by the entry's service.

The integration's top-level modules look an entry's service up here and hand the entry to its
package (facility_expert/ or it_expert/). A third service is one more package and one more
line below.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeIs

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_SERVICE, SERVICE_FACILITY_EXPERT, SERVICE_IT_EXPERT
from .facility_expert import (
    binary_sensor as fe_binary_sensor,
    diagnostics as fe_diagnostics,
    entry as fe_entry,
    event as fe_event,
    flow as fe_flow,
    sensor as fe_sensor,
)
from .facility_expert.coordinator import EcoStruxureConfigEntry
from .flow import FlowPart
from .it_expert import (
    binary_sensor as it_binary_sensor,
    diagnostics as it_diagnostics,
    entry as it_entry,
    event as it_event,
    flow as it_flow,
    sensor as it_sensor,
)
from .it_expert.coordinator import ITExpertConfigEntry

# An entry of either service; each hook below receives entries of its own service only.
type AnyEntry = EcoStruxureConfigEntry | ITExpertConfigEntry
type PlatformSetup = Callable[[HomeAssistant, Any, AddConfigEntryEntitiesCallback], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceParts:
    """What the top-level modules need of one service's package."""

    # Create the coordinator and its first refresh; `start` runs once the entities exist.
    setup: Callable[[HomeAssistant, Any], Awaitable[None]]
    start: Callable[[HomeAssistant, Any], None]
    platforms: Mapping[Platform, PlatformSetup]
    # The unique ids the entry may take, in order (one per site or organization it holds).
    anchors: Callable[[Any], list[str]]
    remove: Callable[[HomeAssistant, Any], Awaitable[None]]
    device_removable: Callable[[Any, dr.AnyDeviceEntry], bool]
    entry_diagnostics: Callable[[Any], dict[str, Any]]
    device_diagnostics: Callable[[Any, dr.AnyDeviceEntry], dict[str, Any]]
    flow: FlowPart


SERVICES: Final[Mapping[str, ServiceParts]] = {
    SERVICE_FACILITY_EXPERT: ServiceParts(
        setup=fe_entry.async_setup_entry,
        start=fe_entry.async_start,
        platforms={
            Platform.BINARY_SENSOR: fe_binary_sensor.async_setup_entry,
            Platform.EVENT: fe_event.async_setup_entry,
            Platform.SENSOR: fe_sensor.async_setup_entry,
        },
        anchors=fe_entry.anchors,
        remove=fe_entry.async_remove_entry,
        device_removable=fe_entry.device_removable,
        entry_diagnostics=fe_diagnostics.entry_diagnostics,
        device_diagnostics=fe_diagnostics.device_diagnostics,
        flow=fe_flow.PART,
    ),
    SERVICE_IT_EXPERT: ServiceParts(
        setup=it_entry.async_setup_entry,
        start=it_entry.async_start,
        platforms={
            Platform.BINARY_SENSOR: it_binary_sensor.async_setup_entry,
            Platform.EVENT: it_event.async_setup_entry,
            Platform.SENSOR: it_sensor.async_setup_entry,
        },
        anchors=it_entry.anchors,
        remove=it_entry.async_remove_entry,
        device_removable=it_entry.device_removable,
        entry_diagnostics=it_diagnostics.entry_diagnostics,
        device_diagnostics=it_diagnostics.device_diagnostics,
        flow=it_flow.PART,
    ),
}


def service_of(entry: AnyEntry) -> str:
    """The entry's service.

    Entries name it since config entry 1.2 (async_migrate_entry writes it). One still at 1.1
    has not been set up since (a disabled entry, say) yet may be removed or opened in a flow:
    it is read as the migration will write it.
    """
    if entry.minor_version < 2 and CONF_SERVICE not in entry.data:
        return SERVICE_FACILITY_EXPERT
    return str(entry.data[CONF_SERVICE])


def parts_of(entry: AnyEntry) -> ServiceParts:
    """The parts of the entry's service."""
    return SERVICES[service_of(entry)]


def is_it_expert(entry: AnyEntry) -> TypeIs[ITExpertConfigEntry]:
    """Whether the entry reads IT Expert."""
    return service_of(entry) == SERVICE_IT_EXPERT


async def async_setup_platform_entry(
    platform: Platform,
    hass: HomeAssistant,
    entry: AnyEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Hand a platform's setup of `entry` to the entry's service."""
    await parts_of(entry).platforms[platform](hass, entry, async_add_entities)
