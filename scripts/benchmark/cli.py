"""`scripts/bench`: runs every size and the stream in processes of their own, prints tables."""

import argparse
import asyncio
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any

from . import report
from .hass import quiet_logs
from .polling import ID_RULES, SizeFigures, run_size
from .stream import StreamFigures, run_stream

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = "1x20,10x50,50x100"
DEFAULT_RATES = "100,500,1000,2000,5000,10000"
# A worker that takes longer than this is stuck; the whole run is meant to take minutes.
WORKER_TIMEOUT = 600


def _sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        sites, _, assets = part.strip().partition("x")
        if not sites.isdigit() or not assets.isdigit() or int(sites) < 1 or int(assets) < 1:
            raise argparse.ArgumentTypeError(f"{part!r} is not SITESxASSETS, e.g. 10x50")
        sizes.append((int(sites), int(assets)))
    return sizes


def _rates(text: str) -> list[int]:
    if not text:
        return []
    try:
        rates = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of rates") from None
    if not all(1 <= rate <= 10_000 for rate in rates):
        raise argparse.ArgumentTypeError("rates are from 1 to 10000 a second")
    return rates


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the integration's cost and scale against the simulator.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes(DEFAULT_SIZES),
        help=f"sites x assets per site, comma-separated (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--cycles", type=int, default=10, help="measured polling cycles per size (default 10)"
    )
    parser.add_argument(
        "--rates",
        type=_rates,
        default=_rates(DEFAULT_RATES),
        help=f"IT Expert stream rates per second, '' to skip (default {DEFAULT_RATES})",
    )
    parser.add_argument(
        "--window", type=float, default=5.0, help="seconds measured per stream rate (default 5)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile statistics of setup and cycles there (slows the figures down)",
    )
    parser.add_argument(
        "--remote-latency-ms",
        type=float,
        default=100.0,
        help="measure the top size again with this service latency, 0 to skip (default 100)",
    )
    parser.add_argument(
        "--ids-before",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="set every size up again with Home Assistant's own entity-id rule, as before "
        "ids started with the site's name (default on)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--ids-rule", choices=ID_RULES, default="site", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("size", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    return parser


def _worker(args: argparse.Namespace) -> int:
    """One size, or the stream, in this process; the figures go to `--output` as JSON."""
    quiet_logs()
    figures: Any
    if args.worker == "size":
        ((sites, assets),) = args.sizes
        figures = asyncio.run(
            run_size(
                sites,
                assets,
                args.cycles,
                latency=args.latency_ms / 1000,
                profile_dir=args.profile,
                ids_rule=args.ids_rule,
            )
        )
    else:
        figures = asyncio.run(run_stream(args.rates, args.window))
    args.output.write_text(json.dumps(figures.to_json()), encoding="utf-8")
    return 0


def _run_worker(arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ecostruxure-bench-") as folder:
        output = Path(folder) / "figures.json"
        subprocess.run(
            [sys.executable, "-m", "scripts.benchmark", *arguments, "--output", str(output)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
            timeout=WORKER_TIMEOUT,
        )
        figures: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
        return figures


def _size(
    sites: int,
    assets: int,
    cycles: int,
    *,
    latency_ms: float = 0,
    profile: Path | None = None,
    ids_rule: str = "site",
) -> SizeFigures:
    _progress(
        f"bench: {sites} sites × {assets} assets"
        + (f", {latency_ms:g} ms service latency" if latency_ms else "")
        + (", Home Assistant's entity-id rule" if ids_rule != "site" else "")
        + " ..."
    )
    return SizeFigures.from_json(
        _run_worker(
            [
                "--worker=size",
                f"--sizes={sites}x{assets}",
                f"--cycles={cycles}",
                f"--latency-ms={latency_ms}",
                f"--ids-rule={ids_rule}",
                *(["--profile", str(profile.resolve())] if profile else []),
            ]
        )
    )


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables."""
    args = _parser().parse_args(argv)
    if args.worker:
        return _worker(args)
    started = time.monotonic()
    load = os.getloadavg()[0]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    ordered: list[tuple[int, int]] = sorted(args.sizes, key=lambda size: size[0] * size[1])
    sizes = [_size(s, a, args.cycles, profile=args.profile) for s, a in ordered]
    remote = None
    if args.remote_latency_ms:
        # The top size again, the service 100 ms away: requests now overlap, as they do in
        # real life (on loopback each is answered before the next is sent).
        sites, assets = ordered[-1]
        remote = _size(sites, assets, min(args.cycles, 3), latency_ms=args.remote_latency_ms)
    ids_before = []
    if args.ids_before:
        # Every size once more, ids as Home Assistant makes them: the suffixes it needs and
        # the setup time they cost. Their cycles are not measured.
        ids_before = [_size(s, a, 0, ids_rule="ha") for s, a in ordered]
    stream = None
    if args.rates:
        _progress("bench: IT Expert stream ...")
        rates = ",".join(map(str, args.rates))
        stream = StreamFigures.from_json(
            _run_worker(["--worker=stream", f"--rates={rates}", f"--window={args.window}"])
        )
    all_sizes = [*sizes, *([remote] if remote else [])]
    print(f"Machine: {report.machine()}; load average {load:.2f} at the start")
    print("\nSetup and memory (RSS: VmRSS; 'before' is Home Assistant running, no entry)\n")
    print(report.setup_table(all_sizes))
    print(
        f"\nPer polling cycle, every entry at once ({args.cycles} cycles, median / max; "
        "bare: plain aiohttp, the same requests)\n"
    )
    print(report.cycle_table(all_sizes))
    for figures in all_sizes:
        if figures.failed_refreshes:
            print(f"warning: {figures.failed_refreshes} refreshes failed at {figures.sites} sites")
    print("\nHTTP and state writes per cycle (medians)\n")
    print(report.http_table(all_sizes))
    print("\nEntity ids ending in a numeric suffix (_2, _3...) that Home Assistant added\n")
    print(report.ids_table(sizes, ids_before))
    if stream is not None:
        print(
            f"\nIT Expert live stream ({stream.sensors:,} sensors, {stream.entities:,} entities; "
            f"{args.window:g} s per rate)\n"
        )
        print(report.stream_table(stream))
    print("\nTargets\n")
    print(report.targets_table(report.targets(sizes, remote, stream, ids_before=ids_before)))
    print(f"\nThe benchmark took {time.monotonic() - started:.0f} s.")
    return 0
