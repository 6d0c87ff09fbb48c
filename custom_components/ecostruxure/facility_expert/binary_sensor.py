"""Binary sensors: one per alarm type an asset can raise, and the state of each site."""

from collections.abc import Iterable
from typing import Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..api import Alarm, Asset
from .coordinator import EcoStruxureConfigEntry, EcoStruxureCoordinator
from .data import SiteTopology, alarms_key
from .descriptions import (
    ALARM_DEVICE_CLASSES,
    SITE_BINARY_SENSORS,
    SiteBinarySensorEntityDescription,
    alarm_description,
)
from .entity import EcoStruxureEntity, async_add_site_entities


class AlarmBinarySensor(EcoStruxureEntity, BinarySensorEntity):
    """On while an alarm of one type is active on one asset."""

    def __init__(
        self, coordinator: EcoStruxureCoordinator, site_id: str, asset: Asset, alarm_type: str
    ) -> None:
        """Describe the sensor from the alarm type."""
        super().__init__(
            coordinator,
            site_id,
            f"{site_id}-{asset.id}-alarm-{alarm_type}",
            asset,
            alarms_key(site_id, asset.id),
        )
        self.asset_id = asset.id
        self.alarm_type = alarm_type
        self.entity_description = alarm_description(alarm_type)
        if alarm_type not in ALARM_DEVICE_CLASSES:
            self._attr_translation_placeholders = {"alarm_type": alarm_type.replace("_", " ")}

    @property
    @override
    def available(self) -> bool:
        """Unavailable too while the alarm operation is disabled."""
        site = self.site_values
        return super().available and site is not None and site.alarms is not None

    def _newest(self) -> Alarm | None:
        site = self.site_values
        for alarm in site.active_alarms(self.asset_id) if site else ():
            if alarm.type == self.alarm_type:
                return alarm
        return None

    @property
    @override
    def is_on(self) -> bool:
        """Whether an alarm of this type is active on the asset."""
        return self._newest() is not None

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """The newest alarm: state and attributes follow from it (one scan, no rendering)."""
        return (self.available, self._newest())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The active alarm's label, message, severity and activation time."""
        alarm = self._newest()
        if alarm is None:
            return None
        return {
            "label": alarm.label,
            "message": alarm.message,
            "severity": alarm.severity,
            "activated_at": alarm.activated_at.isoformat(),
        }


class SiteBinarySensor(EcoStruxureEntity, BinarySensorEntity):
    """A yes/no fact about a whole site."""

    entity_description: SiteBinarySensorEntityDescription

    def __init__(
        self,
        coordinator: EcoStruxureCoordinator,
        site_id: str,
        description: SiteBinarySensorEntityDescription,
    ) -> None:
        """Attach the sensor to the site's device."""
        super().__init__(coordinator, site_id, f"{site_id}-{description.key}")
        self.entity_description = description

    @property
    @override
    def is_on(self) -> bool | None:
        """The value computed from this cycle's answers."""
        site = self.site_values
        return None if site is None else self.entity_description.value_fn(site)

    @override
    def _fingerprint(self) -> tuple[object, ...]:
        """Whether it is on: the state follows from it (no attributes of its own)."""
        return (self.available, self.is_on)


def _binary_sensors(
    coordinator: EcoStruxureCoordinator, topology: SiteTopology
) -> Iterable[EcoStruxureEntity]:
    site_id = topology.site.id
    for description in SITE_BINARY_SENSORS:
        yield SiteBinarySensor(coordinator, site_id, description)
    for asset in topology.assets.values():
        for alarm_type in dict.fromkeys(asset.alarm_types):
            yield AlarmBinarySensor(coordinator, site_id, asset, alarm_type)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EcoStruxureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every site and asset."""
    await async_add_site_entities(entry, _binary_sensors)
