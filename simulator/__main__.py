"""Command line: `python -m simulator --port 8765 --sites 3 --assets 20`."""

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from .facility_expert import Simulator, SimulatorConfig
from .faults import FaultRule
from .it_expert import ITExpertConfig, KeyKind
from .server import SimulatorServer
from .variations import Variations


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = SimulatorConfig()
    it_defaults = ITExpertConfig()
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Serve simulated EcoStruxure Facility Expert and IT Expert APIs on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--sites", type=int, default=defaults.sites)
    parser.add_argument(
        "--assets", type=int, default=defaults.assets_per_site, help="assets per site (at least 8)"
    )
    parser.add_argument("--subscription-key", default=defaults.subscription_key)
    parser.add_argument("--technical-token", default=defaults.technical_token)
    parser.add_argument(
        "--alarms-per-hour",
        type=float,
        default=defaults.alarms_per_site_per_hour,
        help="alarms each site raises by itself per hour",
    )
    parser.add_argument(
        "--outage-probability",
        type=float,
        default=defaults.outage_probability,
        help="chance that a gateway goes offline on a given day",
    )
    parser.add_argument(
        "--it-organizations",
        type=int,
        default=it_defaults.organizations,
        help="IT Expert customer organizations (a demo organization comes on top)",
    )
    parser.add_argument(
        "--it-alarms-per-hour",
        type=float,
        default=it_defaults.alarms_per_organization_per_hour,
        help="alarms each IT Expert organization raises by itself per hour",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a fault rule, e.g. \'{"status": 500, "count": 3}\' (repeatable)',
    )
    parser.add_argument(
        "--variations",
        default="default",
        metavar="SPEC",
        help="answer differently within the contracts: comma-separated names such as "
        "small-pages,bare-lists,nulls,missing,unknown-enums,odd-ids,mixed-offsets,shuffled,"
        "untyped-sensors, page-cap=N, all or random:SEED (see docs/simulator.md)",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    config = SimulatorConfig(
        seed=args.seed,
        sites=args.sites,
        assets_per_site=args.assets,
        subscription_key=args.subscription_key,
        technical_token=args.technical_token,
        alarms_per_site_per_hour=args.alarms_per_hour,
        outage_probability=args.outage_probability,
        it_expert=ITExpertConfig(
            seed=args.seed,
            organizations=args.it_organizations,
            alarms_per_organization_per_hour=args.it_alarms_per_hour,
        ),
        variations=Variations.parse(args.variations),
    )
    simulator = Simulator(config)
    for fault in args.fault:
        simulator.faults.add(FaultRule(**json.loads(fault)))
    async with SimulatorServer(simulator, args.host, args.port) as server:
        print(f"Facility Expert API: {server.base_url}")
        print(f"Control endpoint:    {server.control_url}")
        print(f"Sites: {len(simulator.sites)} with {args.assets} assets each.")
        if simulator.variations.active:
            print(f"Variations: {simulator.variations}")
        it = simulator.it_expert
        print(f"IT Expert API:       {server.it_base_url}")
        for kind in KeyKind:
            names = ", ".join(org.label for org in it.covered(it.config.key(kind)))
            print(f"  {kind} key: {it.config.key(kind)}  ({names})")
        for org in [*it.organizations, it.demo_organization]:
            print(f"  organization {org.id}  {org.label}")
        print("Ctrl-C stops.")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Explicit handlers: a process started in the background inherits an ignored SIGINT.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted."""
    args = _arguments(argv)
    try:
        json_faults = [json.loads(f) for f in args.fault]
        for fault in json_faults:
            FaultRule(**fault)
    except (ValueError, TypeError) as err:
        print(f"simulator: invalid --fault: {err}", file=sys.stderr)
        return 2
    try:
        Variations.parse(args.variations)
    except ValueError as err:
        print(f"simulator: invalid --variations: {err}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
