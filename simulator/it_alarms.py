"""IT Expert alarms: what they look like, and the ones an organization raises by itself.

Generated alarms are planned per hour slot from the seed, so the alarms of any hour are known
without history: the simulator applies the raise, escalate and clear events of a plan as the
simulated clock passes them.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
import math
from typing import Final

from .building import Json
from .it_inventory import ALARM_KINDS, make_id
from .signals import uniform, unit_interval

SLOT_SECONDS: Final = 3600
MAX_DURATION: Final = 2400  # seconds: a generated alarm clears within the slot after its own


def iso_seconds(timestamp: float) -> str:
    """An alarm's time as the service writes it: UTC, whole seconds, `Z`."""
    moment = datetime.fromtimestamp(math.floor(timestamp), UTC)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class SimAlarm:
    """An alarm as it stands now; never deleted, only cleared (and aged out later)."""

    id: str
    device_id: str
    label: str
    message: str | None
    severity: str
    activated: float
    cleared: float | None = None
    reactivations: int = 0

    def to_json(self) -> Json:
        """The alarm as the service lists it."""
        return {
            "id": self.id,
            "deviceId": self.device_id,
            "label": self.label,
            "message": self.message,
            "severity": self.severity,
            "activatedTime": iso_seconds(self.activated),
            "clearedTime": None if self.cleared is None else iso_seconds(self.cleared),
            "alarmReactivationCount": self.reactivations,
        }


@dataclass(frozen=True, slots=True)
class PlannedAlarm:
    """A generated alarm: raised at `alarm.activated`, maybe worse later, cleared at `clear_at`."""

    alarm: SimAlarm
    clear_at: float
    escalate_at: float | None = None
    escalated_severity: str | None = None

    def raised(self) -> SimAlarm:
        """A fresh copy of the alarm as raised."""
        return replace(self.alarm)


@dataclass(frozen=True, slots=True)
class AlarmPlanner:
    """The alarms an organization raises by itself among `devices` (id, type)."""

    seed: int
    organization_id: str
    devices: tuple[tuple[str, str], ...]
    per_hour: float

    def plan(self, slot: int) -> list[PlannedAlarm]:
        """The alarms raised in hour `slot`."""
        if self.per_hour <= 0 or not self.devices:
            return []
        # Up to three times the mean per hour, each with the same chance: `per_hour` a slot.
        tries = max(1, math.ceil(self.per_hour * 3))
        chance = self.per_hour / tries
        plans = []
        for attempt in range(tries):
            parts = (self.seed, self.organization_id, slot, attempt)
            if unit_interval(*parts) >= chance:
                continue
            device_id, kind = self.devices[int(unit_interval(*parts, "device") * len(self.devices))]
            kinds = ALARM_KINDS[kind]
            label, severity, message, worse = kinds[int(unit_interval(*parts, "kind") * len(kinds))]
            start = slot * SLOT_SECONDS + uniform(0, SLOT_SECONDS, *parts, "start")
            duration = uniform(120, MAX_DURATION, *parts, "duration")
            # Some alarms came back several times before this activation.
            again = unit_interval(*parts, "reactivated")
            alarm = SimAlarm(
                make_id(*parts, "alarm"),
                device_id,
                label,
                message,
                severity,
                start,
                reactivations=0 if again < 0.8 else 1 + int(again * 10) % 3,
            )
            escalates = worse is not None and unit_interval(*parts, "escalates") < 0.3
            plans.append(
                PlannedAlarm(
                    alarm,
                    start + duration,
                    start + duration / 2 if escalates else None,
                    worse if escalates else None,
                )
            )
        return plans

    def events(self, after: float, upto: float) -> list[tuple[float, int, PlannedAlarm]]:
        """The (time, event, plan) of the alarms' events in (after, upto], in time order."""
        found = []
        first = math.floor((after - MAX_DURATION) / SLOT_SECONDS)
        for slot in range(first, math.floor(upto / SLOT_SECONDS) + 1):
            for planned in self.plan(slot):
                for when, event in (
                    (planned.alarm.activated, RAISE),
                    (planned.escalate_at, ESCALATE),
                    (planned.clear_at, CLEAR),
                ):
                    if when is not None and after < when <= upto:
                        found.append((when, event, planned))
        found.sort(key=lambda item: (item[0], item[1]))
        return found


# Events of a plan, in the order they apply when they fall on the same instant.
RAISE: Final = 0
ESCALATE: Final = 1
CLEAR: Final = 2
