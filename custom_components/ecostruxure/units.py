"""Units the services send, as Home Assistant knows them."""

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.components.sensor.const import DEVICE_CLASS_UNITS


def device_class_accepts(device_class: SensorDeviceClass | None, unit: str | None) -> bool:
    """Whether Home Assistant accepts `unit` for `device_class` (and can convert it)."""
    if device_class is None:
        return True
    return unit in DEVICE_CLASS_UNITS.get(device_class, set())
