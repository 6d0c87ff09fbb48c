"""What is measured and how: wall and CPU time, memory, the event loop's longest block."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import gc
from pathlib import Path
import resource
import statistics
import time

# The monitor's tick: a block shorter than this is not seen.
LOOP_TICK = 0.005


@dataclass(slots=True)
class Cost:
    """Wall and CPU seconds of a span of work (CPU: the whole process, all threads)."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def measured() -> Iterator[Cost]:
    """Measure the `with` block; the figures are filled in when it ends."""
    cost = Cost()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield cost
    finally:
        cost.wall = time.perf_counter() - wall
        cost.cpu = time.process_time() - cpu


@dataclass(frozen=True, slots=True)
class Blocks:
    """How long the event loop was held, three ways (seconds)."""

    loop: float = 0.0  # the longest a due timer waited: callbacks back to back, GC included
    callback: float = 0.0  # the longest single callback (asyncio debug's "slow callback")
    gc: float = 0.0  # the longest garbage collection, wherever it struck
    callback_no_gc: float = 0.0  # the longest single callback no collection struck


class LoopMonitor:
    """The longest the event loop was kept from running a due timer, and why.

    A task sleeps LOOP_TICK at a time and records how late it wakes: the time the loop spent
    in other callbacks before it could run a due one, which is what a user of the loop feels
    (several callbacks run back to back in one iteration count as one block). Each callback
    is timed too, as asyncio's debug mode does for its slow-callback warning, but without
    debug mode's other costs (which would distort the CPU figures). Garbage-collection pauses
    are timed with gc.callbacks: they block the loop wherever they strike.
    """

    def __init__(self) -> None:
        """Nothing is watched until `start`."""
        self._loop = self._callback = self._gc = self._callback_no_gc = 0.0
        self._gc_began = 0.0
        self._collections = 0
        self._task: asyncio.Task[None] | None = None
        self._run = asyncio.events.Handle._run  # noqa: SLF001 - what the loop calls

    def start(self) -> None:
        """Start watching the running loop and the collector."""
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="loop monitor")
        gc.callbacks.append(self._collected)
        run = self._run

        def timed(handle: asyncio.Handle) -> None:
            began, collections = time.perf_counter(), self._collections
            try:
                run(handle)
            finally:
                took = time.perf_counter() - began
                self._callback = max(self._callback, took)
                if collections == self._collections:
                    self._callback_no_gc = max(self._callback_no_gc, took)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]  # noqa: SLF001

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LOOP_TICK
            await asyncio.sleep(LOOP_TICK)
            self._loop = max(self._loop, loop.time() - due)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self._gc = max(self._gc, time.perf_counter() - self._gc_began)
            self._collections += 1

    async def take(self) -> Blocks:
        """The longest blocks since the previous `take`; starts over.

        It lets the monitor wake first, so that a block that just ended is counted.
        """
        await asyncio.sleep(2 * LOOP_TICK)
        blocks = Blocks(self._loop, self._callback, self._gc, self._callback_no_gc)
        self._loop = self._callback = self._gc = self._callback_no_gc = 0.0
        return blocks

    async def stop(self) -> None:
        """Stop watching."""
        asyncio.events.Handle._run = self._run  # type: ignore[method-assign]  # noqa: SLF001
        gc.callbacks.remove(self._collected)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def rss_kib() -> int:
    """The process's resident memory now (VmRSS), in KiB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def peak_rss_kib() -> int:
    """The process's peak resident memory so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def median(values: list[float]) -> float:
    """The median, 0 for nothing."""
    return statistics.median(values) if values else 0.0
