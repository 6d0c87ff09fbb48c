"""IT Expert's live stream: how many measurements a second the integration keeps up with.

The integration's own path runs: the entry is set up in Home Assistant and its
MeasurementStream reads, parses, applies and flushes to the entities. Only the client differs:
its live stream is the simulator's live-simulator endpoint at a chosen rate, whose fake sensor
ids are mapped onto the organization's real sensors, so that the entities follow them.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
import gc
from typing import Any
from unittest.mock import patch

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from custom_components.ecostruxure.api.it_expert.client import (
    DEFAULT_IDLE_TIMEOUT,
    ITExpertClient,
)
from custom_components.ecostruxure.api.it_expert.models import (
    Sensor,
    SensorReading,
    SensorValueType,
)
from custom_components.ecostruxure.const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    DEFAULT_SCAN_INTERVAL,
    SERVICE_IT_EXPERT,
)
from custom_components.ecostruxure.it_expert.coordinator import ITExpertCoordinator
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from simulator import ITExpertConfig, SimulatorConfig
from simulator.it_common import simulated_id

from .hass import add_entry, home_assistant
from .measure import LoopMonitor, measured
from .simproc import Served, SimulatorProcess

# One organization of 8 rooms of 8 racks: about a thousand sensors to spread readings over.
ORGANIZATION = ITExpertConfig(
    organizations=1,
    rooms_per_organization=8,
    racks_per_room=8,
    alarms_per_organization_per_hour=0,
    partner_specific_organizations=(0,),
)
# Kept up: at least this share of the offered rate processed, and no drop.
KEEPS_UP = 0.95


@dataclass(slots=True)
class RateFigures:
    """One rate, measured over a window."""

    offered: int
    seconds: float
    sent: float  # lines the simulator sent, per second
    processed: float  # lines the stream parsed and applied (or ignored as not newer)
    state_writes: float  # per second
    cpu_percent: float  # of one core, the Home Assistant process
    simulator_cpu_percent: float
    loop_block: float
    longest_callback: float
    gc_pause: float
    drops: int
    # Garbage collections during the window: young ones (generations 0 and 1) and full ones,
    # whose pause grows with every object of the process.
    young_collections: int = 0
    full_collections: int = 0

    @property
    def keeps_up(self) -> bool:
        """Whether the integration took what was offered."""
        return self.drops == 0 and self.processed >= KEEPS_UP * self.offered


@dataclass(slots=True)
class StreamFigures:
    """The organization's size and every rate measured."""

    sensors: int
    entities: int
    rates: list[RateFigures] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data, for the parent process."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StreamFigures:
        """Back from `to_json`."""
        return cls(
            sensors=data["sensors"],
            entities=data["entities"],
            rates=[RateFigures(**rate) for rate in data["rates"]],
        )


class RatedClient(ITExpertClient):
    """The integration's client, whose live stream is the live-simulator at `rate`."""

    rate = 100
    # Fake sensor id of the live-simulator → a real sensor of the organization.
    targets: dict[str, str]

    def live_measurements(
        self,
        organization_id: str,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[SensorReading]:
        """The live-simulator's readings, as if of the organization's own sensors."""
        return self._mapped(
            self.simulated_live_measurements(
                organization_id,
                per_second=self.rate,
                sensor_count=len(self.targets),
                idle_timeout=idle_timeout,
                on_connected=on_connected,
            )
        )

    async def _mapped(
        self, readings: AsyncGenerator[SensorReading]
    ) -> AsyncGenerator[SensorReading]:
        targets = self.targets
        async with aclosing(readings) as source:
            async for r in source:
                yield SensorReading(
                    targets.get(r.sensor_id, r.sensor_id), r.timestamp, r.value, r.offset
                )


def map_sensors(seed: int, organization_id: str, sensors: Sequence[Sensor]) -> dict[str, str]:
    """Each fake sensor onto a real one of the same value type, round robin.

    The live-simulator's sensor number n reports text when n % 20 == 19, numbers otherwise:
    there are enough fake sensors for every real one, text ones included, to get readings.
    """
    numeric = [s.id for s in sensors if s.value_type != SensorValueType.STRING]
    text = [s.id for s in sensors if s.value_type == SensorValueType.STRING] or numeric
    targets: dict[str, str] = {}
    counts = {False: 0, True: 0}
    for number in range(max(len(sensors), 20 * len(text))):
        is_text = number % 20 == 19
        pool = text if is_text else numeric
        targets[simulated_id(seed, organization_id, number)] = pool[counts[is_text] % len(pool)]
        counts[is_text] += 1
    return targets


async def run_stream(rates: Sequence[int], window: float) -> StreamFigures:
    """Raise the rate step by step until the integration falls behind."""
    config = SimulatorConfig(sites=0, it_expert=ORGANIZATION)
    # A running clock: readings of a frozen one would all carry one timestamp (not newer).
    with SimulatorProcess(config, frozen=False) as sim:
        served = sim.served
        org = served.it_organization
        async with home_assistant() as hass:
            client = RatedClient(
                async_get_clientsession(hass), served.it_key, base_url=served.it_base_url
            )
            sensors = (await client.sensors(org)).items
            client.targets = map_sensors(served.seed, org, sensors)
            stream = await _set_up(hass, served, client)
            figures = StreamFigures(len(sensors), len(hass.states.async_entity_ids()))
            writes = 0

            @callback
            def count_write(_: Event[Any]) -> None:
                nonlocal writes
                writes += 1

            hass.bus.async_listen(EVENT_STATE_CHANGED, count_write)
            monitor = LoopMonitor()
            monitor.start()
            for rate in rates:
                client.rate = rate
                await _reconnect(stream)
                await asyncio.sleep(1.0)  # settle: connection, first flush
                counters = dict(stream.counters)
                before = await sim.stats()
                writes = 0
                await monitor.take()
                collections = [g["collections"] for g in gc.get_stats()]
                with measured() as cost:
                    await asyncio.sleep(window)
                    done = stream.counters["readings"] + stream.counters["ignored"]
                    window_writes = writes
                collected = [
                    g["collections"] - n for g, n in zip(gc.get_stats(), collections, strict=True)
                ]
                blocks = await monitor.take()
                after = await sim.stats()
                processed = done - counters["readings"] - counters["ignored"]
                sent = after["it_expert"]["linesSent"] - before["it_expert"]["linesSent"]
                rate_figures = RateFigures(
                    offered=rate,
                    seconds=cost.wall,
                    sent=sent / cost.wall,
                    processed=processed / cost.wall,
                    state_writes=window_writes / cost.wall,
                    cpu_percent=100 * cost.cpu / cost.wall,
                    simulator_cpu_percent=100 * (after["cpu"] - before["cpu"]) / cost.wall,
                    loop_block=blocks.loop,
                    longest_callback=blocks.callback,
                    gc_pause=blocks.gc,
                    drops=stream.counters["drops"] - counters["drops"],
                    young_collections=collected[0] + collected[1],
                    full_collections=collected[2],
                )
                figures.rates.append(rate_figures)
                if not rate_figures.keeps_up:
                    break
            await monitor.stop()
    return figures


async def _set_up(hass: HomeAssistant, served: Served, client: RatedClient) -> MeasurementStream:
    entry_id = add_entry(
        hass,
        f"it_expert:{served.it_organization}",
        {
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: served.it_key,
            CONF_BASE_URL: served.it_base_url,
        },
        {
            CONF_ORGANIZATIONS: [served.it_organization],
            CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
        },
    )
    # The entry gets the rated client instead of the one it would make.
    with patch(
        "custom_components.ecostruxure.it_expert.entry.it_expert_client_for", return_value=client
    ):
        if not await hass.config_entries.async_setup(entry_id):
            raise RuntimeError("The IT Expert entry failed to set up")
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or not isinstance(entry.runtime_data, ITExpertCoordinator):
        raise RuntimeError("The IT Expert entry has no coordinator")
    stream = entry.runtime_data.streams[served.it_organization]
    await _wait_for(lambda: stream.connected, 10)
    return stream


async def _reconnect(stream: MeasurementStream) -> None:
    """Connect again (what a withdrawn and restored consent does), at the client's new rate."""
    connections = stream.counters["connections"]
    stream.set_allowed(False)
    stream.set_allowed(True)
    await _wait_for(lambda: stream.counters["connections"] > connections, 10)


async def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    # Polled: the stream has no event to wait on, and a benchmark must not add one to it.
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
