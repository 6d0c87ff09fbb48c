"""The simulator in a process of its own: its CPU time is not counted as the integration's.

The benchmark talks to it over real loopback HTTP like the integration does, and controls it
(statistics, `vary_values`) over a pipe.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import multiprocessing
from multiprocessing.connection import Connection
import time
from types import TracebackType
from typing import Any, Self

from custom_components.ecostruxure.api.facility_expert.parsing import parse_assets
from custom_components.ecostruxure.capacity import enabled_entities
from simulator import FaultRule, SimulatedClock, Simulator, SimulatorConfig, SimulatorServer
from simulator.facility_expert import API_PREFIX


@dataclass(frozen=True, slots=True)
class ServedSite:
    """A site of the simulator and the entities it creates (counted as the config flow does)."""

    id: str
    enabled_entities: int


@dataclass(frozen=True, slots=True)
class Served:
    """Where the simulator listens and what it serves."""

    base_url: str
    it_base_url: str
    subscription_key: str
    technical_token: str
    sites: tuple[ServedSite, ...]
    it_key: str  # the customer key: it covers the first organization
    it_organization: str
    seed: int


class SimulatorProcess:
    """`with SimulatorProcess(config, frozen=True) as sim:` serves until the block ends."""

    def __init__(self, config: SimulatorConfig, *, frozen: bool) -> None:
        """Prepare; the process starts on entering the block."""
        self._config = config
        self._frozen = frozen
        # spawn, not fork: the parent runs Home Assistant's threads, which fork does not copy.
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, config, frozen), name="simulator", daemon=True
        )
        self._served: Served | None = None

    @property
    def served(self) -> Served:
        """Where it listens (once started)."""
        if self._served is None:
            raise RuntimeError("The simulator process is not running")
        return self._served

    def __enter__(self) -> Self:
        """Start the process and wait until it listens."""
        self._process.start()
        self._served = self._conn.recv()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the process."""
        with contextlib.suppress(EOFError, OSError):  # already gone
            self.call("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def call(self, command: str, argument: object = None) -> Any:
        """Run a command in the simulator process and return its answer (blocks)."""
        self._conn.send((command, argument))
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer  # raised in the simulator process, for this command
        return answer

    async def acall(self, command: str, argument: object = None) -> Any:
        """`call`, without blocking the event loop."""
        return await asyncio.to_thread(self.call, command, argument)

    async def stats(self) -> dict[str, Any]:
        """The Facility Expert and IT Expert counters, and the process's CPU seconds."""
        stats: dict[str, Any] = await self.acall("stats")
        return stats

    async def reset(self) -> None:
        """Forget what was counted."""
        await self.acall("reset")

    async def set_latency(self, seconds: float) -> None:
        """Delay every Facility Expert answer by `seconds` (0: as fast as it can)."""
        await self.acall("latency", seconds)

    async def vary(self, fraction: float) -> list[tuple[str, str]]:
        """`Simulator.vary_values(fraction)`: the (site, measurement) ids changed."""
        varied: list[tuple[str, str]] = await self.acall("vary", fraction)
        return varied


def _serve(conn: Connection, config: SimulatorConfig, frozen: bool) -> None:
    """The process's main function."""
    asyncio.run(_serve_async(conn, config, frozen))


async def _serve_async(conn: Connection, config: SimulatorConfig, frozen: bool) -> None:
    # Its clock starts at the real now, as Home Assistant's does.
    sim = Simulator(config, SimulatedClock(datetime.now(UTC), frozen=frozen))
    async with SimulatorServer(sim) as server:
        sites = tuple(
            ServedSite(site.id, enabled_entities(parse_assets({"assets": assets})))
            for site in sim.sites
            # The assets as the config flow reads them, counted as it counts them.
            for assets in ([a.to_json() for a in site.assets.values()],)
        )
        it = sim.it_expert
        conn.send(
            Served(
                base_url=server.base_url,
                it_base_url=server.it_base_url,
                subscription_key=config.subscription_key,
                technical_token=config.technical_token,
                sites=sites,
                it_key=it.config.customer_key,
                it_organization=it.organizations[0].id,
                seed=it.config.seed,
            )
        )
        while True:
            try:
                command, argument = await asyncio.to_thread(conn.recv)
            except EOFError:
                return  # the parent is gone
            if command == "stop":
                conn.send(None)
                return
            try:
                conn.send(_run(sim, command, argument))
            except Exception as err:  # noqa: BLE001 - the parent raises it
                conn.send(err)


def _run(sim: Simulator, command: str, argument: object) -> object:
    if command == "stats":
        return {
            "facility_expert": sim.stats.to_json(),
            "it_expert": sim.it_expert.stats.to_json(),
            "cpu": time.process_time(),
        }
    if command == "reset":
        sim.stats.reset()
        sim.it_expert.stats.reset()
        return None
    if command == "vary" and isinstance(argument, float):
        return sim.vary_values(argument)
    if command == "latency" and isinstance(argument, float):
        # Every Facility Expert answer that much later, as from a service far away.
        sim.faults.clear()
        if argument:
            sim.faults.add(FaultRule(latency=argument, path="^" + API_PREFIX))
        return None
    raise ValueError(f"Unknown command {command!r}")
