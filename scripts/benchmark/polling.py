"""Facility Expert at one size: setup, then polling cycles of the integration and of a bare client.

The simulator's clock is frozen, so no value moves unless `vary_values` moves it: before each
measured cycle a fixed share of the values changes, and the state writes are counted.
"""

import asyncio
from collections.abc import Sequence
import cProfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
import gc
import json
from pathlib import Path
import re
import time
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

import aiohttp

# The platforms are imported before the baseline is measured: memory growth is then what
# the entities cost, not the code.
from homeassistant.components import binary_sensor, event, sensor  # noqa: F401
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from custom_components.ecostruxure import (  # noqa: F401
    binary_sensor as _binary_sensor,
    event as _event,
    sensor as _sensor,
)
from custom_components.ecostruxure.api.facility_expert import paths
from custom_components.ecostruxure.api.pacing import DEFAULT_CONCURRENCY
from custom_components.ecostruxure.capacity import MAX_ENTITIES
from custom_components.ecostruxure.const import (
    ALARM_WINDOW_MARGIN,
    CONF_BASE_URL,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
)
from custom_components.ecostruxure.facility_expert.coordinator import EcoStruxureCoordinator
from custom_components.ecostruxure.facility_expert.entity import EcoStruxureEntity
from simulator import SimulatorConfig

from .hass import add_entry, home_assistant
from .measure import Blocks, Cost, LoopMonitor, measured, peak_rss_kib, rss_kib
from .parsing import ParseFigures, measure_parsing
from .simproc import Served, ServedSite, SimulatorProcess

# The share of values that changes before each measured cycle.
VARIED_FRACTION = 0.05

# Entity ids: new ones start with the site's name ("site"), or Home Assistant's own rule
# (device and entity name, "ha"), as before issue 16, to show what the site's name saves.
ID_RULES = ("site", "ha")

# What Home Assistant appends to an entity id already taken: _2, _3...
_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<number>[0-9]+)$")


@dataclass(slots=True)
class CycleFigures:
    """One polling cycle of every entry (or of the bare client)."""

    wall: float
    cpu: float
    requests: int
    bytes_sent: int
    by_operation: dict[str, int]
    peak_in_flight: int
    rejected_busy: int
    loop_block: float
    longest_callback: float
    gc_pause: float
    longest_callback_no_gc: float = 0.0  # of the callbacks no collection struck
    state_writes: int = 0
    changed_values: int = 0  # values the simulator changed
    changed_entities: int = 0  # of which an enabled entity shows


@dataclass(slots=True)
class SizeFigures:
    """Everything measured at one size."""

    sites: int
    assets_per_site: int
    latency: float  # added to every answer of the service, seconds
    entries: list[int]  # sites per entry
    entities_expected: int  # enabled, as capacity.enabled_entities counts them
    entities: int  # states after setup
    setup_wall: float = 0.0
    setup_cpu: float = 0.0
    setup_loop_block: float = 0.0
    setup_longest_callback: float = 0.0
    setup_longest_callback_no_gc: float = 0.0  # of the callbacks no collection struck
    setup_gc_pause: float = 0.0
    # One full garbage collection timed on purpose, with Home Assistant alone and after setup:
    # what any full collection costs at that heap, whoever's objects fill it.
    full_gc_baseline: float = 0.0
    full_gc_after_setup: float = 0.0
    gc_objects_baseline: int = 0
    gc_objects_after_setup: int = 0
    setup_requests: int = 0
    rss_baseline_kib: int = 0
    rss_after_setup_kib: int = 0
    rss_after_cycles_kib: int = 0
    peak_rss_kib: int = 0
    first_cycle_state_writes: int = 0  # the first cycle after setup, nothing changed
    idle_state_writes: int = 0  # the next one, nothing changed either
    failed_refreshes: int = 0
    ids_rule: str = "site"
    entity_ids: int = 0  # the integration's, in the entity registry
    suffixed_ids: int = 0  # of which Home Assistant had to end in _2, _3...
    integration: list[CycleFigures] = field(default_factory=list)
    bare: list[CycleFigures] = field(default_factory=list)
    parsing: ParseFigures = field(default_factory=ParseFigures)

    def to_json(self) -> dict[str, Any]:
        """Plain data, for the parent process."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SizeFigures:
        """Back from `to_json`."""
        cycles = {
            kind: [CycleFigures(**cycle) for cycle in data[kind]]
            for kind in ("integration", "bare")
        }
        return cls(**{**data, **cycles, "parsing": ParseFigures(**data["parsing"])})


def split_sites(sites: Sequence[ServedSite], cap: int = MAX_ENTITIES) -> list[list[str]]:
    """Sites over entries as a user gets there through the config flow.

    All sites are offered and selected; when the count is over the cap the step refuses, and
    the user keeps as many as fit, in the list's order, and adds the rest as a next entry.
    """
    entries: list[list[str]] = []
    current: list[str] = []
    count = 0
    for site in sites:
        if site.enabled_entities > cap:
            raise ValueError(f"Site {site.id} alone has more than {cap} entities")
        if current and count + site.enabled_entities > cap:
            entries.append(current)
            current, count = [], 0
        current.append(site.id)
        count += site.enabled_entities
    if current:
        entries.append(current)
    return entries


class BareClient:
    """The lower bound: the coordinator's two requests per site, plain aiohttp, JSON parsed."""

    def __init__(self, session: aiohttp.ClientSession, served: Served) -> None:
        """Use `session`; as many requests at a time as the integration's client."""
        self._session = session
        self._base_url = served.base_url
        self._headers = {
            paths.HEADER_SUBSCRIPTION_KEY: served.subscription_key,
            paths.HEADER_TECHNICAL_TOKEN: served.technical_token,
            "Accept": "application/json",
        }
        self._slots = asyncio.Semaphore(DEFAULT_CONCURRENCY)

    async def cycle(self, site_ids: Sequence[str]) -> None:
        """Latest values and alarms of every site, concurrently, as the coordinator asks."""
        since = (datetime.now(UTC) - ALARM_WINDOW_MARGIN).isoformat().replace("+00:00", "Z")
        alarms = [
            ("status", "all"),
            ("from", since),
            ("offset", "0"),
            ("limit", str(paths.PAGE_LIMIT_MAX)),
        ]
        await asyncio.gather(
            *(
                request
                for site_id in site_ids
                for request in (
                    self._get(paths.LATEST_VALUES, site_id, ()),
                    self._get(paths.ALARMS, site_id, alarms),
                )
            )
        )

    async def latest_bodies(self, site_ids: Sequence[str]) -> list[bytes]:
        """Every site's latest values, as the bytes the service sent."""
        return [await self._get(paths.LATEST_VALUES, site_id, ()) for site_id in site_ids]

    async def _get(self, template: str, site_id: str, params: Sequence[tuple[str, str]]) -> bytes:
        url = self._base_url + template.format(site_id=quote(site_id, safe=""))
        async with (
            self._slots,
            self._session.get(url, params=list(params), headers=self._headers) as response,
        ):
            body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"The bare client got {response.status} from {url}")
        json.loads(body)
        return body


def _cycle_figures(cost: Cost, stats: dict[str, Any], blocks: Blocks) -> CycleFigures:
    served = stats["facility_expert"]
    return CycleFigures(
        wall=cost.wall,
        cpu=cost.cpu,
        requests=served["requests"],
        bytes_sent=served["bytesSent"],
        by_operation=served["byOperation"],
        peak_in_flight=served["peakInFlight"],
        rejected_busy=served["rejectedBusy"],
        loop_block=blocks.loop,
        longest_callback=blocks.callback,
        gc_pause=blocks.gc,
        longest_callback_no_gc=blocks.callback_no_gc,
    )


async def run_size(
    sites: int,
    assets_per_site: int,
    cycles: int,
    *,
    latency: float = 0.0,
    profile_dir: Path | None = None,
    ids_rule: str = "site",
) -> SizeFigures:
    """Set up every entry of the size in one Home Assistant, then measure `cycles` cycles.

    Two cycles with nothing changed come first: the first after setup catches up with the
    alarms of the margin before it, the second shows what a cycle writes when nothing moved.
    """
    if ids_rule == "site":
        return await _run_size(sites, assets_per_site, cycles, latency, profile_dir)
    # Home Assistant's own rule: the entities suggest no id.
    with patch.object(EcoStruxureEntity, "_entity_id_owner", lambda _: None):
        figures = await _run_size(sites, assets_per_site, cycles, latency, profile_dir)
    figures.ids_rule = ids_rule
    return figures


def _timed_full_collection() -> float:
    """Seconds one full garbage collection takes now (run twice: the first frees garbage)."""
    gc.collect()
    start = time.perf_counter()
    gc.collect()
    return time.perf_counter() - start


def count_suffixed(registry: er.EntityRegistry) -> tuple[int, int]:
    """The integration's entity ids, and how many of them Home Assistant had to suffix.

    An id ending in _<number> counts when the id without it is taken too: Home Assistant
    tried that one first.
    """
    ids = [e.entity_id for e in registry.entities.values() if e.platform == DOMAIN]
    suffixed = sum(
        1
        for entity_id in ids
        if (match := _SUFFIX.match(entity_id))
        and int(match["number"]) >= 2
        and registry.async_is_registered(match["base"])
    )
    return len(ids), suffixed


async def _run_size(
    sites: int,
    assets_per_site: int,
    cycles: int,
    latency: float,
    profile_dir: Path | None,
) -> SizeFigures:
    config = SimulatorConfig(seed=1, sites=sites, assets_per_site=assets_per_site)
    with SimulatorProcess(config, frozen=True) as sim:
        served = sim.served
        await sim.set_latency(latency)
        groups = split_sites(served.sites)
        async with home_assistant() as hass, aiohttp.ClientSession() as session:
            figures = SizeFigures(
                sites=sites,
                assets_per_site=assets_per_site,
                latency=latency,
                entries=[len(group) for group in groups],
                entities_expected=sum(site.enabled_entities for site in served.sites),
                entities=0,
            )
            monitor = LoopMonitor()
            monitor.start()
            figures.full_gc_baseline = _timed_full_collection()
            figures.gc_objects_baseline = len(gc.get_objects())
            figures.rss_baseline_kib = rss_kib()
            profiler = cProfile.Profile() if profile_dir else None
            coordinators = await _set_up(
                hass, sim, groups, figures, monitor=monitor, profiler=profiler
            )
            name = f"{sites}x{assets_per_site}"
            if profiler is not None and profile_dir is not None:
                profiler.dump_stats(profile_dir / f"{name}-setup.prof")
            figures.full_gc_after_setup = _timed_full_collection()
            figures.gc_objects_after_setup = len(gc.get_objects())
            figures.rss_after_setup_kib = rss_kib()
            figures.entity_ids, figures.suffixed_ids = count_suffixed(er.async_get(hass))
            writes = 0

            @callback
            def count_write(_: Event[Any]) -> None:
                nonlocal writes
                writes += 1

            hass.bus.async_listen(EVENT_STATE_CHANGED, count_write)
            registry = er.async_get(hass)
            bare = BareClient(session, served)
            site_ids = [site.id for site in served.sites]
            profiler = cProfile.Profile() if profile_dir else None
            for number in range(-2, cycles):
                varied = await sim.vary(VARIED_FRACTION) if number >= 0 else []
                await sim.reset()
                await monitor.take()
                with measured() as cost:
                    await bare.cycle(site_ids)
                blocks = await monitor.take()
                bare_cycle = _cycle_figures(cost, await sim.stats(), blocks)
                await sim.reset()
                await monitor.take()
                writes = 0
                if profiler is not None:
                    profiler.enable()
                with measured() as cost:
                    await asyncio.gather(*(c.async_refresh() for c in coordinators))
                    await hass.async_block_till_done()
                if profiler is not None:
                    profiler.disable()
                blocks = await monitor.take()
                cycle = _cycle_figures(cost, await sim.stats(), blocks)
                cycle.state_writes = writes
                cycle.changed_values = len(varied)
                cycle.changed_entities = sum(
                    _enabled(registry, f"{site_id}-{measurement_id}")
                    for site_id, measurement_id in varied
                )
                figures.failed_refreshes += sum(not c.last_update_success for c in coordinators)
                if number == -2:
                    figures.first_cycle_state_writes = writes
                elif number == -1:
                    figures.idle_state_writes = writes
                else:
                    figures.bare.append(bare_cycle)
                    figures.integration.append(cycle)
            if profiler is not None and profile_dir is not None:
                profiler.dump_stats(profile_dir / f"{name}-cycles.prof")
            figures.parsing = measure_parsing(await bare.latest_bodies(site_ids))
            gc.collect()
            figures.rss_after_cycles_kib = rss_kib()
            figures.peak_rss_kib = peak_rss_kib()
            await monitor.stop()
    return figures


def _enabled(registry: er.EntityRegistry, unique_id: str) -> bool:
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
    entry = registry.async_get(entity_id) if entity_id else None
    return entry is not None and entry.disabled_by is None


async def _set_up(
    hass: HomeAssistant,
    sim: SimulatorProcess,
    groups: list[list[str]],
    figures: SizeFigures,
    *,
    monitor: LoopMonitor,
    profiler: cProfile.Profile | None,
) -> list[EcoStruxureCoordinator]:
    """Add the entries and set them up together, as Home Assistant does at start."""
    served = sim.served
    data = {
        CONF_SUBSCRIPTION_KEY: served.subscription_key,
        CONF_TECHNICAL_TOKEN: served.technical_token,
        CONF_BASE_URL: served.base_url,
    }
    entry_ids = [
        add_entry(
            hass,
            group[0],
            data,
            {CONF_SITES: group, CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL},
        )
        for group in groups
    ]
    await sim.reset()
    await monitor.take()
    if profiler is not None:
        profiler.enable()
    with measured() as cost:
        results = await asyncio.gather(
            *(hass.config_entries.async_setup(entry_id) for entry_id in entry_ids)
        )
        await hass.async_block_till_done()
    if profiler is not None:
        profiler.disable()
    if not all(results):
        raise RuntimeError("An entry failed to set up")
    figures.setup_wall, figures.setup_cpu = cost.wall, cost.cpu
    blocks = await monitor.take()
    figures.setup_loop_block = blocks.loop
    figures.setup_longest_callback = blocks.callback
    figures.setup_longest_callback_no_gc = blocks.callback_no_gc
    figures.setup_gc_pause = blocks.gc
    figures.setup_requests = (await sim.stats())["facility_expert"]["requests"]
    figures.entities = len(hass.states.async_entity_ids())
    coordinators = []
    for entry_id in entry_ids:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or not isinstance(entry.runtime_data, EcoStruxureCoordinator):
            raise RuntimeError("An entry has no coordinator")
        coordinators.append(entry.runtime_data)
    return coordinators
