"""Fail when a module of the integration is covered less than the threshold.

The total can hide a poorly tested module behind well tested ones; the quality scale's
test-coverage rule asks for every module. Reads coverage's JSON report:

    pytest --cov=custom_components/ecostruxure --cov-report=json:cov.json
    python scripts/coverage_per_module.py cov.json --min 95
"""

import argparse
import json
from pathlib import Path
import sys

DEFAULT_MINIMUM = 95.0


def modules_under(report: dict[str, object], minimum: float) -> dict[str, float]:
    """The modules (by path) covered less than `minimum` percent, and their coverage."""
    files = report.get("files")
    if not isinstance(files, dict) or not files:
        raise ValueError("the coverage report lists no file")
    under: dict[str, float] = {}
    for path, details in files.items():
        percent = float(details["summary"]["percent_covered"])
        if percent < minimum:
            under[str(path)] = percent
    return under


def main(argv: list[str] | None = None) -> int:
    """List the modules under the threshold; 1 if there is one, 2 if the report is unusable."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="coverage's JSON report")
    parser.add_argument("--min", type=float, default=DEFAULT_MINIMUM, dest="minimum")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        under = modules_under(report, args.minimum)
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"coverage per module: cannot read {args.report}: {err}", file=sys.stderr)
        return 2
    if not under:
        print(f"coverage per module: every module is covered at least {args.minimum:g} %")
        return 0
    print(f"coverage per module: under {args.minimum:g} %:", file=sys.stderr)
    for path, percent in sorted(under.items()):
        print(f"  {path}: {percent:.1f} %", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
