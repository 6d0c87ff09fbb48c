"""On first install: what a user needs is on, what repeats it or multiplies by outlet is off."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import SimulatorServer

from .test_entities import device_of, org_of, sensor_of


async def test_alarm_figures_and_outlet_events_are_off_on_first_install(
    hass: HomeAssistant,
    it_loaded: MockConfigEntry,
    simulator_server: SimulatorServer,
    entity_registry: er.EntityRegistry,
) -> None:
    org = org_of(simulator_server)
    ups, outlet = device_of(org, "UPS"), device_of(org, "OUTLET")
    bank = org.devices[outlet.parent_id or ""]

    def enabled(platform: str, unique_id: str) -> bool:
        entity = entity_registry.async_get_entity_id(platform, "ecostruxure", unique_id)
        assert entity is not None, unique_id
        registered = entity_registry.async_get(entity)
        assert registered is not None
        # Enabled entities have a state; disabled ones are not even added.
        assert (hass.states.get(entity) is not None) is (registered.disabled_by is None)
        return registered.disabled_by is None

    for device in (ups, bank, outlet):
        base = f"{org.id}-{device.id}"
        assert enabled("binary_sensor", f"{base}-problem")
        # They repeat the problem sensor (on, with the alarms as attributes).
        assert not enabled("sensor", f"{base}-alarm_count")
        assert not enabled("sensor", f"{base}-alarm_severity")
    # Alarm events: on for a device, off for the dozens of parts of a rack PDU.
    assert enabled("event", f"{org.id}-{ups.id}-alarms")
    assert enabled("event", f"{org.id}-{bank.parent_id}-alarms")
    assert not enabled("event", f"{org.id}-{bank.id}-alarms")
    assert not enabled("event", f"{org.id}-{outlet.id}-alarms")
    # What the devices measure is what a user came for: on, outlets included.
    assert enabled("sensor", f"{org.id}-{outlet.id}-sensor-{sensor_of(outlet, 'ENERGY').id}")
    assert enabled("sensor", f"{org.id}-{ups.id}-sensor-{sensor_of(ups, 'LOAD').id}")
    assert enabled("binary_sensor", f"{org.id}-{org.id}-stream")
