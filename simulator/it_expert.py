"""A simulator of the EcoStruxure IT Expert REST API, served next to the Facility Expert one.

It follows the working contract (docs/it-expert-contract.md): the paths of the client's
`it_expert.paths` module under `/rest/v1`, bearer keys of four kinds and customer consent,
snapshots and changes with integer offsets, and gzip NDJSON measurement streams (it_streams.py).
The data are functions of the seed and the simulated clock; clock-driven events (alarms,
devices listed late, measurement reports) are applied lazily whenever a request comes in.
"""

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
import hashlib
import json
import math
from typing import Final

from custom_components.ecostruxure.api.it_expert import paths as it_paths

from . import it_alarms
from .building import Json
from .clock import SimulatedClock
from .faults import Faults
from .it_alarms import SimAlarm
from .it_common import IT_API_PREFIX, OpenStream, simulated_id
from .it_inventory import (
    ALARM_KINDS,
    DEVICE_TYPES,
    NUMERIC,
    STRING,
    OrganizationBuilder,
    Placement,
    SimDevice,
    SimOrganization,
    SimSensor,
    make_id,
)
from .it_logs import OFFSET_LOG, ChangeLog, MeasurementLog, encode_offset
from .signals import uniform
from .variations import Variations, odd_id

ALARM_HISTORY_DAYS: Final = 7  # cleared alarms stay in the snapshot this long
_DAY: Final = 86_400.0


class KeyKind(StrEnum):
    """The kinds of API key: what each covers is decided when a request comes in."""

    CUSTOMER = "customer"  # the customer's own organization (the first one)
    PARTNER_ALL = "partner-all"  # every customer that consents
    PARTNER_SPECIFIC = "partner-specific"  # a chosen subset of the consenting customers
    DEMO = "demo"  # the demo organization only


@dataclass(frozen=True, slots=True)
class ITExpertConfig:
    """What the IT Expert simulator serves. Every field has a sensible default."""

    seed: int = 1
    organizations: int = 3  # customers; the demo organization comes on top
    rooms_per_organization: int = 2
    racks_per_room: int = 2
    outlets_per_pdu: int = 8
    alarms_per_organization_per_hour: float = 2.0
    customer_key: str = "AK1/sim-customer/it-expert-key"
    partner_all_key: str = "AK1/sim-partner/all-customers"
    partner_specific_key: str = "AK1/sim-partner/specific-customers"
    partner_specific_organizations: tuple[int, ...] = (1,)  # indexes of customers
    demo_key: str = "AK1/sim-demo/demo-key"
    heartbeat_seconds: float = 10.0  # real time
    poll_seconds: float = 0.1  # real time: how often a stream looks at a running clock
    offset_every: int = 5  # every Nth measurement line carries an offset
    report_seconds: int = 300  # simulated: how often a sensor reports
    replays_per_hour: int = 10  # simulated hour, per organization
    measurement_log_lines: int = 50_000  # kept for replays
    changes_page_size: int = 50
    changes_retention_hours: float = it_paths.CHANGES_RETENTION_HOURS
    repeat_changes: bool = False  # re-send the last change already seen, as the service may
    # Answers that differ from the defaults within the contract: simulator/variations.py.
    variations: Variations = field(default_factory=Variations)

    def __post_init__(self) -> None:
        """Refuse sizes the simulator cannot serve."""
        if self.organizations < 1 or self.rooms_per_organization < 1 or self.racks_per_room < 0:
            raise ValueError("At least one organization and one room per organization")
        if self.outlets_per_pdu < 1 or self.offset_every < 1 or self.report_seconds < 1:
            raise ValueError("outlets_per_pdu, offset_every and report_seconds must be >= 1")
        if min(self.heartbeat_seconds, self.poll_seconds) <= 0:
            raise ValueError("heartbeat_seconds and poll_seconds must be positive")
        if self.changes_page_size < 1 or self.measurement_log_lines < 1:
            raise ValueError("changes_page_size and measurement_log_lines must be >= 1")
        if not all(0 <= i < self.organizations for i in self.partner_specific_organizations):
            raise ValueError("partner_specific_organizations are indexes of customers")
        keys = (self.customer_key, self.partner_all_key, self.partner_specific_key, self.demo_key)
        if len(set(keys)) != len(keys) or not all(keys):
            raise ValueError("The four keys must be distinct and non-empty")

    def key(self, kind: KeyKind) -> str:
        """The key of a kind."""
        return {
            KeyKind.CUSTOMER: self.customer_key,
            KeyKind.PARTNER_ALL: self.partner_all_key,
            KeyKind.PARTNER_SPECIFIC: self.partner_specific_key,
            KeyKind.DEMO: self.demo_key,
        }[kind]


@dataclass(slots=True)
class ITStats:
    """What the IT Expert simulator has been asked and has streamed."""

    requests: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    open_streams: int = 0
    peak_open_streams: int = 0
    lines_sent: int = 0
    heartbeats_sent: int = 0
    replays_served: int = 0
    replays_refused: int = 0
    streams_dropped: int = 0

    def reset(self) -> None:
        """Forget what was counted (open streams stay open)."""
        self.requests = self.lines_sent = self.heartbeats_sent = 0
        self.replays_served = self.replays_refused = self.streams_dropped = 0
        self.peak_open_streams = self.open_streams
        self.by_operation.clear()

    def to_json(self) -> Json:
        """The counters as the control endpoint shows them."""
        return {
            "requests": self.requests,
            "byOperation": dict(self.by_operation),
            "openStreams": self.open_streams,
            "peakOpenStreams": self.peak_open_streams,
            "linesSent": self.lines_sent,
            "heartbeatsSent": self.heartbeats_sent,
            "replaysServed": self.replays_served,
            "replaysRefused": self.replays_refused,
            "streamsDropped": self.streams_dropped,
        }


def iso_millis(timestamp: float) -> str:
    """A measurement's time as the service writes it: UTC, milliseconds, `Z`."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class OrganizationState:
    """An organization and what the service keeps about it: logs, alarms, consent."""

    org: SimOrganization
    builder: OrganizationBuilder
    customer: bool
    inventory: ChangeLog
    sensors: ChangeLog
    alarm_log: ChangeLog
    measurements: MeasurementLog
    materialized_until: float
    planner: it_alarms.AlarmPlanner
    consent: bool = True
    alarms: dict[str, SimAlarm] = field(default_factory=dict)
    pending: list[tuple[float, list[SimDevice]]] = field(default_factory=list)
    replays: deque[float] = field(default_factory=deque)
    phases: dict[str, float] = field(default_factory=dict)


class ITExpertSimulator:
    """The simulated IT Expert service: organizations, keys, logs, streams and faults."""

    def __init__(
        self,
        config: ITExpertConfig | None = None,
        clock: SimulatedClock | None = None,
        *,
        faults: Faults | None = None,
    ) -> None:
        """Build the organizations from the seed; `faults` may be shared with another API."""
        self.config = config or ITExpertConfig()
        self.clock = clock or SimulatedClock()
        self.faults = faults if faults is not None else Faults()
        self.stats = ITStats()
        self.repeat_changes = self.config.repeat_changes
        self.streams: set[OpenStream] = set()
        self.offset_secret = hashlib.blake2b(f"it-offsets:{self.config.seed}".encode()).digest()
        self._keys = {self.config.key(kind): kind for kind in KeyKind}
        self._revoked_keys: set[str] = set()
        self._simulated_ids: dict[tuple[str, int], list[str]] = {}
        self._raised = 0  # alarms raised by tests
        count = self.config.organizations
        self._states = [self._new_state(index, demo=False) for index in range(count)]
        self._states.append(self._new_state(count, demo=True))
        self._by_id = {state.org.id: state for state in self._states}

    def _new_state(self, index: int, *, demo: bool) -> OrganizationState:
        config = self.config
        builder = OrganizationBuilder(
            config.seed, index, demo=demo, spell_id=odd_id if config.variations.odd_ids else None
        )
        org = builder.build(
            config.rooms_per_organization, config.racks_per_room, config.outlets_per_pdu
        )
        now = self.now()
        retention = config.changes_retention_hours * 3600

        def log(resource: str) -> ChangeLog:
            return ChangeLog(int(uniform(100, 100_000, config.seed, org.id, resource)), retention)

        state = OrganizationState(
            org,
            builder,
            not demo,
            log("inventory"),
            log("sensors"),
            log("alarms"),
            MeasurementLog(config.measurement_log_lines),
            now,
            # Generated alarms pick among the devices as built.
            it_alarms.AlarmPlanner(
                config.seed,
                org.id,
                tuple((d.id, d.type) for d in org.devices.values() if d.type in ALARM_KINDS),
                config.alarms_per_organization_per_hour,
            ),
        )
        # A week of history (active and recently cleared alarms), then empty change logs.
        self._apply_events(state, now - ALARM_HISTORY_DAYS * _DAY - it_alarms.MAX_DURATION, now)
        state.alarm_log = log("alarms")
        return state

    # --- the world ----------------------------------------------------------------------

    def now(self) -> float:
        """The simulated time as a Unix timestamp."""
        return self.clock.now().timestamp()

    @property
    def organizations(self) -> list[SimOrganization]:
        """The customer organizations, in order (the customer key covers the first)."""
        return [state.org for state in self._states if state.customer]

    @property
    def demo_organization(self) -> SimOrganization:
        """The demo organization, covered by the demo key only."""
        return self._states[-1].org

    def organization(self, organization_id: str) -> SimOrganization:
        """An organization by id (KeyError if unknown)."""
        return self._by_id[organization_id].org

    def state(self, organization_id: str) -> OrganizationState:
        """What the service keeps about an organization, brought up to now (KeyError)."""
        state = self._by_id[organization_id]
        self.materialize(state)
        return state

    def covered(self, key: str) -> list[SimOrganization]:
        """The organizations a key covers now (none for an unknown or revoked key)."""
        kind = self._keys.get(key)
        if kind is None or key in self._revoked_keys:
            return []
        customers = [state for state in self._states if state.customer]
        match kind:
            case KeyKind.CUSTOMER:
                # A customer's own key: consent is about partners only.
                states = customers[:1]
            case KeyKind.PARTNER_ALL:
                states = [state for state in customers if state.consent]
            case KeyKind.PARTNER_SPECIFIC:
                wanted = self.config.partner_specific_organizations
                states = [s for i, s in enumerate(customers) if i in wanted and s.consent]
            case KeyKind.DEMO:
                states = self._states[-1:]
        return [state.org for state in states]

    # --- keys and consent -------------------------------------------------------------------

    def revoke_consent(self, organization_id: str) -> None:
        """The customer withdraws its partner's access: partner keys lose it (403)."""
        self._by_id[organization_id].consent = False

    def restore_consent(self, organization_id: str) -> None:
        """The customer consents again."""
        self._by_id[organization_id].consent = True

    def revoke_key(self, key: str) -> None:
        """A key is deleted in the web app: 401 from now on (KeyError if unknown)."""
        if key not in self._keys:
            raise KeyError(key)
        self._revoked_keys.add(key)

    def restore_key(self, key: str) -> None:
        """A revoked key works again."""
        if key not in self._keys:
            raise KeyError(key)
        self._revoked_keys.discard(key)

    def key_state(self) -> list[Json]:
        """The keys by kind, revoked or not, and what they cover (never the secret itself)."""
        return [
            {
                "kind": kind,
                "revoked": self.config.key(kind) in self._revoked_keys,
                "organizations": [org.id for org in self.covered(self.config.key(kind))],
            }
            for kind in KeyKind
        ]

    # --- clock-driven events ----------------------------------------------------------------

    def notify(self) -> None:
        """Wake the open streams: the clock moved or a line was added."""
        for stream in self.streams:
            stream.wake.set()

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock forward and let the streams see it at once."""
        self.clock.advance(delta)
        self.notify()

    def materialize(self, state: OrganizationState) -> None:
        """Apply what happened between the last request and now: events, reports, retention."""
        now = self.now()
        after = state.materialized_until
        if now > after:
            state.materialized_until = now
            self._apply_events(state, after, now)
            self._report(state, after, now)
        history = now - ALARM_HISTORY_DAYS * _DAY
        for alarm_id in [a.id for a in state.alarms.values() if (a.cleared or now) < history]:
            del state.alarms[alarm_id]  # aged out of the snapshot; never reported as deleted
        for log in (state.inventory, state.sensors, state.alarm_log):
            log.prune(now)
        hour_ago = now - 3600
        while state.replays and state.replays[0] <= hour_ago:
            state.replays.popleft()

    def _apply_events(self, state: OrganizationState, after: float, upto: float) -> None:
        planned = []
        horizon = upto - ALARM_HISTORY_DAYS * _DAY - it_alarms.MAX_DURATION
        if after < horizon:
            # A long jump: what is raised before the horizon cannot show any more, so it is
            # skipped, but the alarms already raised still clear (within MAX_DURATION).
            planned = [
                event
                for event in state.planner.events(after, after + it_alarms.MAX_DURATION)
                if event[2].alarm.activated <= after
            ]
            after = horizon
        planned += state.planner.events(after, upto)
        due = [(when, devices) for when, devices in state.pending if when <= upto]
        state.pending = [(when, devices) for when, devices in state.pending if when > upto]
        # Devices listed late come first at an equal instant: their alarm may follow.
        timeline: list[tuple[float, int, Callable[[], None]]] = [
            (when, -1, partial(self._list_devices, state, devices, when)) for when, devices in due
        ]
        timeline += [
            (when, event, partial(self._apply_alarm, state, event, plan, when))
            for when, event, plan in planned
        ]
        timeline.sort(key=lambda item: (item[0], item[1]))
        for _, _, apply in timeline:
            apply()

    def _apply_alarm(
        self, state: OrganizationState, event: int, planned: it_alarms.PlannedAlarm, when: float
    ) -> None:
        alarm = state.alarms.get(planned.alarm.id)
        if event == it_alarms.RAISE:
            if alarm is None and planned.alarm.device_id in state.org.devices:
                alarm = state.alarms[planned.alarm.id] = planned.raised()
                state.alarm_log.append(when, alarm.to_json())
            return
        if alarm is None or alarm.cleared is not None:
            return  # never raised (device removed) or cleared early by a test
        if event == it_alarms.ESCALATE and planned.escalated_severity is not None:
            alarm.severity = planned.escalated_severity
            alarm.message = f"{alarm.message} It got worse."
        else:
            alarm.cleared = when
        state.alarm_log.append(when, alarm.to_json())

    def _list_devices(
        self, state: OrganizationState, devices: list[SimDevice], when: float
    ) -> None:
        for device in devices:
            state.org.devices[device.id] = device
            state.inventory.append(when, {"inventoryObject": device.to_json()})
            for sensor in device.sensors:
                state.sensors.append(when, {"sensor": sensor.to_json()})

    def _report(self, state: OrganizationState, after: float, upto: float) -> None:
        """Each sensor's latest report in (after, upto]: a long jump gives one line each."""
        period = self.config.report_seconds
        reports = []
        for sensor in state.org.sensors():
            phase = state.phases.get(sensor.id)
            if phase is None:
                phase = state.phases[sensor.id] = uniform(0, period, self.config.seed, sensor.id)
            when = math.floor((upto - phase) / period) * period + phase
            if when > after:
                reports.append((when, sensor))
        reports.sort(key=lambda item: item[0])
        for when, sensor in reports:
            self._append_line(state, sensor.id, when, sensor.value(when))

    def _append_line(
        self, state: OrganizationState, sensor_id: str, when: float, value: float | str | None
    ) -> int:
        number = state.measurements.last + 1
        state.measurements.append(self.line(state, sensor_id, when, value, number))
        return number

    def line(
        self,
        state: OrganizationState,
        sensor_id: str,
        when: float,
        value: float | str | None,
        number: int | None = None,
    ) -> bytes:
        """A measurement line; line `number` of the log carries an offset every Nth line."""
        body: Json = {"sensorId": sensor_id, "timestamp": iso_millis(when)}
        if isinstance(value, str):
            body["stringValue"] = value
        else:
            body["numericValue"] = value
        if number is not None and number % self.config.offset_every == 0:
            body["offset"] = encode_offset(self.offset_secret, OFFSET_LOG, state.org.index, number)
        varied: object = body
        if self.config.variations.active:
            varied = self.config.variations.rewrite(body, it=True, operation="measurement")
        return json.dumps(varied, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    def simulated_sensor_ids(self, state: OrganizationState, count: int) -> list[str]:
        """The fake sensor ids of the live-simulator stream."""
        key = (state.org.id, count)
        if key not in self._simulated_ids:
            self._simulated_ids[key] = [
                simulated_id(self.config.seed, state.org.id, n) for n in range(count)
            ]
        return self._simulated_ids[key]

    # --- test control: inventory and sensors ------------------------------------------------

    def _find_device(self, device_id: str) -> tuple[OrganizationState, SimDevice]:
        for state in self._states:
            self.materialize(state)
            if device_id in state.org.devices:
                return state, state.org.devices[device_id]
            for _, devices in state.pending:
                for device in devices:
                    if device.id == device_id:
                        return state, device
        raise KeyError(device_id)

    def add_device(
        self,
        organization_id: str,
        device_type: str = "UPS",
        *,
        label: str | None = None,
        location_id: str | None = None,
        parent_id: str | None = None,
        listed_after: timedelta | None = None,
    ) -> list[SimDevice]:
        """Add a device with its sensors; returns it first, then its banks and outlets if any.

        Without a location or parent it hangs under the organization; with a parent it is
        in the parent's location. With `listed_after` the service lists it only that much later
        (eventual consistency), while alarms may already name it.
        """
        if device_type not in DEVICE_TYPES:
            raise ValueError(f"Unknown device type {device_type!r}; known: {DEVICE_TYPES}")
        state = self.state(organization_id)
        org = state.org
        if location_id is not None and location_id not in org.locations:
            raise KeyError(location_id)
        if parent_id is not None:
            parent_state, parent = self._find_device(parent_id)
            if parent_state is not state:
                raise KeyError(parent_id)
            location_id = location_id or parent.location_id
        placed = location_id is not None or parent_id is not None
        gateways = org.gateway_ids[:1] if placed else ()
        devices = state.builder.make(
            device_type,
            Placement(location_id, parent_id, gateways),
            label=label,
            outlets=self.config.outlets_per_pdu,
        )
        if listed_after is None:
            self._list_devices(state, devices, self.now())
        else:
            state.pending.append((self.now() + listed_after.total_seconds(), devices))
        self.notify()
        return devices

    def remove_device(self, device_id: str) -> list[str]:
        """Remove a device, its child devices and their sensors; returns the removed ids."""
        state, device = self._find_device(device_id)
        known = [*state.org.devices.values(), *(d for _, ds in state.pending for d in ds)]
        removed: list[SimDevice] = []

        def collect(target: SimDevice) -> None:
            for child in known:
                if child.parent_id == target.id:
                    collect(child)
            removed.append(target)  # children before their parent

        collect(device)
        now = self.now()
        gone = {target.id for target in removed}
        state.pending = [(w, [d for d in ds if d.id not in gone]) for w, ds in state.pending]
        for target in removed:
            if state.org.devices.pop(target.id, None) is None:
                continue  # not listed yet: nothing to delete
            for sensor in target.sensors:
                state.sensors.append(now, {"sensorId": sensor.id})
            state.inventory.append(now, {"inventoryObjectId": target.id})
        return [target.id for target in removed]

    def rename_device(self, device_id: str, label: str) -> None:
        """Rename a device: an inventory update."""
        state, device = self._find_device(device_id)
        device.label = label
        if device.id in state.org.devices:
            state.inventory.append(self.now(), {"inventoryObject": device.to_json()})

    def add_sensor(
        self,
        device_id: str,
        label: str = "Extra sensor",
        sensor_type: str = "TEMPERATURE",
        unit: str | None = "°C",
        value_type: str = NUMERIC,
    ) -> SimSensor:
        """Add a sensor to a device; it reports from its next due time on."""
        if value_type not in (NUMERIC, STRING):
            raise ValueError(f"valueType is {NUMERIC} or {STRING}")
        state, device = self._find_device(device_id)
        sensor = state.builder.custom_sensor(device, label, sensor_type, unit, value_type)
        device.sensors.append(sensor)
        if device.id in state.org.devices:
            state.sensors.append(self.now(), {"sensor": sensor.to_json()})
        return sensor

    def remove_sensor(self, sensor_id: str) -> None:
        """Remove a sensor: a sensor delete."""
        for state in self._states:
            self.materialize(state)
            devices = [d for _, ds in state.pending for d in ds]
            for device in [*state.org.devices.values(), *devices]:
                for sensor in device.sensors:
                    if sensor.id == sensor_id:
                        device.sensors.remove(sensor)
                        if device.id in state.org.devices:
                            state.sensors.append(self.now(), {"sensorId": sensor_id})
                        return
        raise KeyError(sensor_id)

    def restore_sensor(self, device_id: str, sensor: SimSensor) -> None:
        """Put a removed sensor back under its id: a sensor update."""
        state, device = self._find_device(device_id)
        device.sensors.append(sensor)
        if device.id in state.org.devices:
            state.sensors.append(self.now(), {"sensor": sensor.to_json()})

    # --- test control: alarms and measurements ----------------------------------------------

    def raise_alarm(
        self,
        organization_id: str,
        device_id: str,
        *,
        severity: str = "WARNING",
        label: str = "Test alarm",
        message: str | None = "Raised by a test.",
    ) -> str:
        """Raise an alarm now and return its id; the device need not be listed (or exist)."""
        state = self.state(organization_id)
        now = self.now()
        self._raised += 1
        alarm = SimAlarm(
            make_id(self.config.seed, "raised-alarm", self._raised),
            device_id,
            label,
            message,
            severity,
            now,
        )
        state.alarms[alarm.id] = alarm
        state.alarm_log.append(now, alarm.to_json())
        return alarm.id

    def clear_alarm(self, alarm_id: str) -> None:
        """Clear an active alarm now (generated or raised by a test)."""
        for state in self._states:
            self.materialize(state)
            alarm = state.alarms.get(alarm_id)
            if alarm is not None:
                if alarm.cleared is None:
                    alarm.cleared = self.now()
                    state.alarm_log.append(alarm.cleared, alarm.to_json())
                return
        raise KeyError(alarm_id)

    def alarms(self, organization_id: str) -> list[SimAlarm]:
        """The organization's alarms as the snapshot lists them now."""
        return sorted(self.state(organization_id).alarms.values(), key=lambda a: a.activated)

    def emit_measurement(
        self,
        sensor_id: str,
        value: float | str | None,
        *,
        timestamp: datetime | None = None,
        organization_id: str | None = None,
    ) -> int:
        """Append a measurement line now (any timestamp, to repeat or go back in time).

        The organization is the sensor's; a sensor it does not know needs `organization_id`.
        Returns the line's number in the measurement log.
        """
        state = None
        if organization_id is not None:
            state = self.state(organization_id)
        else:
            for candidate in self._states:
                if any(s.id == sensor_id for s in candidate.org.sensors()):
                    state = candidate
        if state is None:
            raise KeyError(sensor_id)
        if timestamp is not None and timestamp.tzinfo is None:
            raise ValueError("A measurement's timestamp must be an aware datetime")
        self.materialize(state)  # clock-driven lines first, then this one
        when = self.now() if timestamp is None else timestamp.timestamp()
        number = self._append_line(state, sensor_id, when, value)
        self.notify()
        return number

    def offset_of(self, organization_id: str, number: int) -> str:
        """The offset string of line `number` of an organization's measurement log."""
        return encode_offset(
            self.offset_secret, OFFSET_LOG, self._by_id[organization_id].org.index, number
        )

    # --- test control: streams --------------------------------------------------------------

    def _streams_of(self, organization_id: str | None) -> list[OpenStream]:
        if organization_id is not None:
            self.organization(organization_id)  # refuses an unknown organization
        return [s for s in self.streams if organization_id in (None, s.organization_id)]

    def drop_streams(self, organization_id: str | None = None, *, mid_line: bool = False) -> int:
        """Cut the open streams (of one organization); `mid_line` sends half a line first.

        Returns how many streams will drop.
        """
        streams = self._streams_of(organization_id)
        for stream in streams:
            stream.drop, stream.mid_line = True, mid_line
        self.notify()
        return len(streams)

    def rate_limit_streams(self, organization_id: str | None = None) -> int:
        """Make the open live streams write the rate-limit message and close."""
        streams = [s for s in self._streams_of(organization_id) if s.operation != "replay"]
        for stream in streams:
            stream.rate_limit = True
        self.notify()
        return len(streams)

    def control_state(self) -> Json:
        """Organizations, keys and statistics, as the control endpoint shows them."""
        organizations = []
        for state in self._states:
            self.materialize(state)
            organizations.append(
                {
                    "id": state.org.id,
                    "label": state.org.label,
                    "demo": not state.customer,
                    "consent": state.consent,
                    "devices": len(state.org.devices),
                    "sensors": sum(1 for _ in state.org.sensors()),
                    "activeAlarms": sum(1 for a in state.alarms.values() if a.cleared is None),
                    "measurementLines": state.measurements.last,
                    "offsets": {
                        "inventory": state.inventory.offset,
                        "sensors": state.sensors.offset,
                        "alarms": state.alarm_log.offset,
                    },
                }
            )
        return {
            "baseUrlPath": IT_API_PREFIX,
            "organizations": organizations,
            "keys": self.key_state(),
            "repeatChanges": self.repeat_changes,
            "deviceTypes": list(DEVICE_TYPES),
            "stats": self.stats.to_json(),
        }

    # --- HTTP -------------------------------------------------------------------------------

    def check_key(self, key: str) -> str | None:
        """Why a key is refused (401), or None when it is valid."""
        if key not in self._keys:
            return "The API key is invalid."
        if key in self._revoked_keys:
            return "The API key has been revoked."
        return None

    def take_replay(self, state: OrganizationState) -> bool:
        """Count a replay against the organization's hourly limit; False when over it."""
        self.materialize(state)
        if len(state.replays) >= self.config.replays_per_hour:
            self.stats.replays_refused += 1
            return False
        state.replays.append(self.now())
        self.stats.replays_served += 1
        return True
