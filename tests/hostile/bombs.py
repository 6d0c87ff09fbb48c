"""Answers built to hurt a client: compression bombs, and ways to measure what they cost."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
import re
import struct
import time
import zlib

_MIB = 1024 * 1024


def gzip_bomb(decoded_bytes: int, *, fill: bytes = b"\0", exact: bool = False) -> bytes:
    """A gzip body of `decoded_bytes` (rounded up to whole MiB) of `fill`, about 1000 times smaller.

    Built in milliseconds: every MiB is compressed the same way after a full flush, so one
    block is repeated. The trailer's checksum is only computed when `exact` (seconds per
    GiB): a client that stops at its cap never reads it.
    """
    chunk = (fill * (_MIB // len(fill) + 1))[:_MIB]
    count = max(1, -(-decoded_bytes // _MIB))
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = raw.compress(chunk) + raw.flush(zlib.Z_FULL_FLUSH)
    block = raw.compress(chunk) + raw.flush(zlib.Z_FULL_FLUSH)
    end = raw.flush()
    crc = 0
    if exact:
        for _ in range(count):
            crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count * _MIB) & 0xFFFFFFFF)
    return header + first + block * (count - 1) + end + trailer


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident memory (or its peak, VmHWM), in KiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    match = re.search(rf"{field}:\s+(\d+)", status)
    return int(match.group(1)) if match else 0


def reset_peak_rss() -> bool:
    """Start VmHWM afresh (Linux); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


@dataclass(slots=True)
class Cost:
    """What running something cost: peak memory growth and the longest event-loop stall."""

    rss_growth_mib: float
    longest_stall_ms: float
    outcome: str


async def measure[T](
    run: Callable[[], Awaitable[T]], *, tick: float = 0.005
) -> tuple[Cost, T | BaseException]:
    """Run `run`, with a ticker on the loop; the peak RSS growth and the longest tick gap."""
    before = rss_kib()
    exact_peak = reset_peak_rss()
    peak = before
    longest = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest, peak
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(tick)
            now = time.perf_counter()
            longest = max(longest, now - last - tick)
            last = now
            peak = max(peak, rss_kib())

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    result: T | BaseException
    try:
        result = await run()
        outcome = "ok"
    except Exception as err:  # noqa: BLE001 - the outcome is what is measured
        result = err
        outcome = type(err).__name__
    done.set()
    await task
    if exact_peak:
        peak = max(peak, rss_kib("VmHWM"))
    return Cost((peak - before) / 1024, longest * 1000, outcome), result
