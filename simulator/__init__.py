"""A simulator of Schneider Electric's EcoStruxure cloud APIs, for tests, demo and benchmarks.

Run it with `python -m simulator --help`; see docs/simulator.md.
"""

from .building import ASSET_KINDS, SimAsset, SimMeasurement, SimSite
from .clock import SimulatedClock
from .facility_expert import Simulator, SimulatorConfig, Stats
from .faults import BodyFault, FaultRule, Faults
from .server import SimulatorServer

__all__ = [
    "ASSET_KINDS",
    "BodyFault",
    "FaultRule",
    "Faults",
    "SimAsset",
    "SimMeasurement",
    "SimSite",
    "SimulatedClock",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "Stats",
]
