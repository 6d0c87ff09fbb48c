"""The client against the IT Expert simulator: both sides of the contract agree."""

from contextlib import aclosing

import aiohttp

from custom_components.ecostruxure.api import ITExpertClient
from custom_components.ecostruxure.api.it_expert import InventoryKind
from simulator import KeyKind, SimulatorServer


async def test_every_operation_reads_the_simulator(
    session: aiohttp.ClientSession, simulator_server: SimulatorServer
) -> None:
    key = simulator_server.simulator.config.it_expert.key(KeyKind.CUSTOMER)
    client = ITExpertClient(session, key, base_url=simulator_server.it_base_url)
    (organization, *_) = await client.organizations()

    inventory = await client.inventory(organization)
    kinds = {item.kind for item in inventory.items}
    assert kinds == {InventoryKind.ORGANIZATION, InventoryKind.LOCATION, InventoryKind.DEVICE}
    sensors = await client.sensors(organization)
    assert sensors.items
    alarms = await client.alarms(organization)
    for changes in (
        await client.inventory_changes(organization, inventory.offset),
        await client.sensor_changes(organization, sensors.offset),
        await client.alarm_changes(organization, alarms.offset),
    ):
        assert changes.caught_up

    device = next(item for item in inventory.items if item.kind is InventoryKind.DEVICE)
    found = await client.device(organization, device.id)
    assert found is not None
    assert found.device.id == device.id
    assert found.ancestors[-1].kind is InventoryKind.ORGANIZATION
    assert await client.device(organization, "no-such-device") is None

    stream = client.simulated_live_measurements(
        organization, per_second=50, sensor_count=10, idle_timeout=10
    )
    async with aclosing(stream) as readings:
        reading = await anext(readings)
    assert reading.sensor_id
