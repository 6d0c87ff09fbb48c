"""A simulator of Schneider Electric's EcoStruxure cloud APIs, for tests, demo and benchmarks.

Facility Expert and IT Expert are served side by side on one port.

Run it with `python -m simulator --help`; see docs/simulator.md.
"""

from .building import ASSET_KINDS, SimAsset, SimMeasurement, SimSite
from .clock import SimulatedClock
from .facility_expert import Simulator, SimulatorConfig, Stats
from .faults import BodyFault, FaultRule, Faults
from .it_alarms import SimAlarm
from .it_expert import ITExpertConfig, ITExpertSimulator, ITStats, KeyKind
from .it_inventory import SimDevice, SimLocation, SimOrganization, SimSensor
from .server import SimulatorServer
from .variations import Variations

__all__ = [
    "ASSET_KINDS",
    "BodyFault",
    "FaultRule",
    "Faults",
    "ITExpertConfig",
    "ITExpertSimulator",
    "ITStats",
    "KeyKind",
    "SimAlarm",
    "SimAsset",
    "SimDevice",
    "SimLocation",
    "SimMeasurement",
    "SimOrganization",
    "SimSensor",
    "SimSite",
    "SimulatedClock",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "Stats",
    "Variations",
]
