"""IT sensors listed without a `type`: an unambiguous unit gives the device class."""

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api.it_expert.models import Sensor
from custom_components.ecostruxure.it_expert.descriptions import reading_description
from simulator import SimulatorServer

from .test_entities import device_of, entity_id, org_of, sensor_of, state


@pytest.mark.parametrize(
    ("unit", "device_class", "shown_unit"),
    [
        ("°C", SensorDeviceClass.TEMPERATURE, "°C"),
        ("degF", SensorDeviceClass.TEMPERATURE, "°F"),
        ("%RH", SensorDeviceClass.HUMIDITY, "%"),
        ("% rh", SensorDeviceClass.HUMIDITY, "%"),
        ("W", SensorDeviceClass.POWER, "W"),
        ("kW", SensorDeviceClass.POWER, "kW"),
        ("kWh", SensorDeviceClass.ENERGY, "kWh"),
        ("VA", SensorDeviceClass.APPARENT_POWER, "VA"),
        ("kVA", SensorDeviceClass.APPARENT_POWER, "kVA"),
        ("V", SensorDeviceClass.VOLTAGE, "V"),
        ("A", SensorDeviceClass.CURRENT, "A"),
        ("Hz", SensorDeviceClass.FREQUENCY, "Hz"),
        ("min", SensorDeviceClass.DURATION, "min"),
        # A plain percentage may be a load, a charge, a fan speed or a humidity: no class.
        ("%", None, "%"),
        ("m³/h", None, "m³/h"),
        (None, None, None),
    ],
)
def test_a_sensor_without_a_type_is_classed_by_an_unambiguous_unit(
    unit: str | None, device_class: SensorDeviceClass | None, shown_unit: str | None
) -> None:
    description = reading_description(Sensor(id="s", device_id="d", unit=unit, type=None))
    assert description.device_class == device_class
    assert description.native_unit_of_measurement == shown_unit


def test_the_type_wins_over_the_unit() -> None:
    load = reading_description(Sensor(id="s", device_id="d", unit="%RH", type="LOAD"))
    assert load.device_class is None
    humidity = reading_description(Sensor(id="s", device_id="d", unit="%", type="HUMIDITY"))
    assert humidity.device_class == SensorDeviceClass.HUMIDITY


async def test_untyped_sensors_of_the_service_show_with_their_kind(
    hass: HomeAssistant,
    it_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    org = org_of(simulator_server)
    monitor, ups, outlet = (device_of(org, t) for t in ("ENVIRONMENTAL_MONITOR", "UPS", "OUTLET"))
    humidity, temperature = sensor_of(monitor, "HUMIDITY"), sensor_of(monitor, "TEMPERATURE")
    load, energy = sensor_of(ups, "LOAD"), sensor_of(outlet, "ENERGY")
    humidity.unit = "%RH"
    for device in org.devices.values():
        for sensor in device.sensors:
            sensor.type = None  # the service lists no type at all
    it_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(it_entry.entry_id)
    await hass.async_block_till_done()

    def attributes(device_id: str, sensor_id: str) -> dict[str, object]:
        unique_id = f"{org.id}-{device_id}-sensor-{sensor_id}"
        return dict(state(hass, entity_id(entity_registry, "sensor", unique_id)).attributes)

    shown = attributes(monitor.id, humidity.id)
    assert (shown["device_class"], shown["unit_of_measurement"]) == ("humidity", "%")
    assert attributes(monitor.id, temperature.id)["device_class"] == "temperature"
    shown = attributes(outlet.id, energy.id)
    assert shown["device_class"] == "energy"
    assert shown["state_class"] == SensorStateClass.TOTAL_INCREASING
    shown = attributes(ups.id, load.id)
    assert "device_class" not in shown
    assert shown["unit_of_measurement"] == "%"
