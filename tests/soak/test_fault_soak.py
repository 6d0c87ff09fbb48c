"""Fault soak: thousands of polling cycles of simulated time, under seeded random faults.

A Facility Expert entry (three sites) and an IT Expert entry (two organizations, live streams)
run side by side against the simulator for `CYCLES` polling intervals of simulated time, while
the simulator answers with the faults of a seeded schedule: 429 with and without Retry-After,
500, 503, timeouts, dropped connections, truncated and non-JSON bodies, sites vanishing and
returning, keys revoked and restored (through re-authentication), IT Expert streams cut in
the middle of a line, and restarts of Home Assistant (stopped for half a minute to 20 minutes,
started again from its storage: tests/restart.py) with faults in the cycles around them and IT
Expert alarms raised and cleared while it is stopped. The test then checks that nothing was
lost: no unhandled exception and no secret in the log, entities unavailable exactly while
their data failed, energy never going back or to 0, every alarm either service raised or
cleared seen exactly once as an event, after each restart every IT Expert sensor showing the
latest reading made (those measured while stopped replayed), no growth of tasks, connections
or memory, and never more than 4 requests at a time.

How time moves. Each cycle moves Home Assistant's clock (freezegun) and the simulator's by
the scan interval, then calls each coordinator's `async_refresh()`, as Home Assistant's
scheduler would; the entries have polling disabled, so that nothing polls behind the test's
back. The `advance` fixture of `tests/integration` fires time-changed events instead, which
needs the event loop's clock frozen too. Here the loop must keep real time: a timeout is
aiohttp's timer firing while the simulator answers late, and the IT Expert streams reconnect
after (shortened) backoffs. `PollTimer` mirrors what the scheduler decides — the next poll
after the interval, after the service's Retry-After when a cycle failed with one, none after
rejected secrets until re-authentication reloads the entry — and the test checks it against
the schedule.
"""

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import gc
import json
import logging
import os
from pathlib import Path
import random
import re
from typing import Any

import aiohttp
import freezegun
from freezegun.api import FrozenDateTimeFactory, real_monotonic, real_perf_counter
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api import ConnectionLimit, FacilityExpertClient
from custom_components.ecostruxure.api.it_expert.client import ITExpertClient
from custom_components.ecostruxure.api.transport import HttpTransport
from custom_components.ecostruxure.const import (
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_IT_EXPERT,
)
from custom_components.ecostruxure.facility_expert import entry as facility_expert_entry
from custom_components.ecostruxure.it_expert import const as it_const
from custom_components.ecostruxure.it_expert.stream import MeasurementStream
from simulator import (
    BodyFault,
    FaultRule,
    ITExpertConfig,
    ITExpertSimulator,
    KeyKind,
    SimSite,
    SimulatedClock,
    Simulator,
    SimulatorConfig,
    SimulatorServer,
)
from simulator.facility_expert import API_PREFIX
from tests.restart import Restarts

SEED = 20260615
CYCLES = 2000
SCAN = timedelta(seconds=60)
START = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
SITES = 3
ORGANIZATIONS = 2
# Short enough that a timeout costs little real time, long enough (a hundred times a normal
# answer on loopback) that no answer times out unless a fault delays it, even on a busy
# machine; and a slow answer would be retried.
CLIENT_TIMEOUT = 0.5
CONCURRENCY_CAP = 4  # the client's default
# Resources are compared between the end of the first thousand cycles and the end.
CHECKPOINT = 1000
# The integration refreshes a site's topology every 6 hours: a site that came back is seen by
# then (TOPOLOGY_REFRESH_INTERVAL, and one more cycle since it must be exceeded).
RETURN_WITHIN = 6 * 60 + 1
# Quiet cycles: at the start, before each resource checkpoint, and at the end (so that every
# alarm of the simulator has been polled when the expected events are counted).
QUIET = 5
# Restarts of Home Assistant, spread evenly over the cycles; each is down half a minute (less
# than the IT stream's grace) or 4.5 to 19.5, and a site fails in the cycles around it. It is
# started again half a minute before the end of its cycle, in which its IT Expert streams run:
# their first live reading is where the replay of what was measured while stopped ends (the
# service wants a replay's end).
RESTARTS = 6
STARTED_BEFORE_END = timedelta(seconds=30)
RESTART_CYCLES = tuple(round(CYCLES * (i + 0.5) / RESTARTS) for i in range(RESTARTS))
# IT Expert alarms: some 70 raises and clears over the run, with the soak's own raised and
# cleared while Home Assistant is stopped (the service's own rarely fall in those minutes).
IT_ALARMS_PER_HOUR = 0.5  # per organization

SUBSCRIPTION_KEY = "soak-subscription-key-5f1c07"
TECHNICAL_TOKEN = "soak-technical-token-9b2e41"
IT_KEY = "AK1/soak-partner/all-customers-3d7a2c"

# Fault kinds: how the simulator misbehaves, and whether the client's own retry can hide one
# occurrence (429 within 60 s, 500/502/504, dropped connections and timeouts are retried).
RETRY_AFTER_SHORT = "5"  # waited for inside the request
RETRY_AFTER_LONG = 150  # beyond the client's 60 s: the next poll waits instead
FAULT_KINDS: dict[str, tuple[dict[str, Any], bool]] = {
    "429": ({"status": 429}, True),
    "429 Retry-After 5 s": ({"status": 429, "retry_after": RETRY_AFTER_SHORT}, True),
    "429 Retry-After 150 s": ({"status": 429, "retry_after": str(RETRY_AFTER_LONG)}, False),
    "500": ({"status": 500}, True),
    "503": ({"status": 503, "title": "ServiceUnavailable"}, False),
    "timeout": ({"latency": CLIENT_TIMEOUT * 4}, True),
    "dropped connection": ({"body": BodyFault.DROP}, True),
    "truncated body": ({"body": BodyFault.TRUNCATED}, False),
    "non-JSON body": ({"body": BodyFault.NON_JSON}, False),
}
# Timeouts cost real time (CLIENT_TIMEOUT per attempt): they are drawn less often.
FAULT_WEIGHTS = {kind: 0.25 if kind == "timeout" else 1.0 for kind in FAULT_KINDS}

# What the integration creates once per entry (and again at each reload) and must release.
LONG_LIVED: frozenset[type] = frozenset(
    {Entity, DataUpdateCoordinator, FacilityExpertClient, ITExpertClient, HttpTransport}
    | {ConnectionLimit, MeasurementStream}
)


def real_clock(clock: Callable[[], float] = real_perf_counter) -> float:
    """Real seconds, even under the frozen clock.

    freezegun replaces the real time functions it finds among modules' attributes when it
    starts, this module's included; a default argument is out of its sight.
    """
    return clock()


# --- the schedule -------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What happens in one cycle, and what every site must then show."""

    rules: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, rule)
    remove_site: int | None = None
    restore_site: int | None = None
    revoke: bool = False
    reauthenticate: bool = False
    drop_stream: int | None = None
    poll: bool = True  # whether Home Assistant polls Facility Expert in this cycle
    restart: int = 0  # minutes Home Assistant is down before this cycle starts it again
    # Per site: "ok", "failed", "gone" (no entities), "returning" (restored in the service:
    # still gone, or back and ok) or "returning failed" (still gone, or back and failing).
    status: list[str] = field(default_factory=lambda: ["ok"] * SITES)


def site_path(site_id: str) -> str:
    """A fault path matching every request about one site (and nothing of IT Expert)."""
    return f"^{re.escape(API_PREFIX)}/sites/{re.escape(site_id)}(/|$)"


ALL_SITES_PATH = f"^{re.escape(API_PREFIX)}/sites/"


def mark_failed(plan: Plan, index: int) -> None:
    """A site's data fail in this cycle (a site Home Assistant does not show cannot fail)."""
    plan.status[index] = {"ok": "failed", "returning": "returning failed"}.get(
        plan.status[index], plan.status[index]
    )


def build_schedule(rng: random.Random, site_ids: list[str]) -> list[Plan]:
    """The seeded faults of every cycle (index 0 is the setup), one event at a time."""
    plans = [Plan() for _ in range(CYCLES + 1)]
    checkpoints = (CHECKPOINT, CYCLES)

    around_restarts = {c + d for c in RESTART_CYCLES for d in (-1, 0, 1)}

    def quiet(cycle: int) -> bool:
        return cycle <= QUIET or any(0 <= c - cycle < QUIET for c in checkpoints)

    def busy(cycle: int) -> bool:
        return quiet(cycle) or cycle in around_restarts

    def room(first: int, length: int, *, restarts: bool = False) -> bool:
        """Whether cycles [first, first + length) fit before the next checkpoint's quiet.

        And, unless `restarts`, between the restarts and the faults planned around them.
        """
        free = quiet if restarts else busy
        return all(not free(c) for c in range(first, first + length)) and (first + length <= CYCLES)

    def fail(cycles: range, sites: list[int], kind: str, *, absorbed: bool = False) -> None:
        options, _ = FAULT_KINDS[kind]
        for cycle in cycles:
            for index in sites:
                path = ALL_SITES_PATH if len(sites) == SITES else site_path(site_ids[index])
                # Absorbed: one occurrence, which the client's retry hides. Otherwise every
                # request of the site fails, its retries included, for the whole cycle.
                plans[cycle].rules.append(
                    (kind, {**options, "path": path, "count": 1 if absorbed else None})
                )
                if len(sites) == SITES:
                    break  # one rule covers them all
            if not absorbed:
                for index in sites:
                    mark_failed(plans[cycle], index)

    cycle = QUIET + 1
    away_until = 0  # one site away at a time: two away and the third failing is an outage
    while cycle <= CYCLES:
        if busy(cycle):
            cycle += 1
            continue
        if rng.random() < 0.01:
            plans[cycle].drop_stream = rng.randrange(ORGANIZATIONS)
        roll = rng.random()
        kind = rng.choices(list(FAULT_KINDS), weights=list(FAULT_WEIGHTS.values()))[0]
        length = 1 if kind == "timeout" else rng.randint(1, 3)
        if roll < 0.72:
            cycle += 1
        elif roll < 0.80:
            retryable = [k for k, (_, can_absorb) in FAULT_KINDS.items() if can_absorb]
            absorbed_kind = rng.choices(retryable, [FAULT_WEIGHTS[k] for k in retryable])[0]
            fail(range(cycle, cycle + 1), [rng.randrange(SITES)], absorbed_kind, absorbed=True)
            cycle += 1
        elif roll < 0.92 and room(cycle, length):
            fail(range(cycle, cycle + length), [rng.randrange(SITES)], kind)
            cycle += length
        elif roll < 0.97 and room(cycle, 3):
            if kind.startswith("429 Retry-After 150"):
                # Every site refused with a long Retry-After: the cycle fails, and Home
                # Assistant's next poll waits for it (the first cycle past 150 s).
                fail(range(cycle, cycle + 1), list(range(SITES)), kind)
                waited = -(-RETRY_AFTER_LONG // int(SCAN.total_seconds()))
                for later in range(cycle + 1, cycle + waited):
                    plans[later].poll = False
                    for index in range(SITES):
                        mark_failed(plans[later], index)
                cycle += waited
            else:
                fail(range(cycle, cycle + length), list(range(SITES)), kind)
                cycle += length
        elif roll < 0.994:
            index, gone = rng.randrange(SITES), rng.randint(1, 8)
            # Home Assistant may restart while the site comes back, not while it is gone.
            if (
                cycle < away_until
                or not room(cycle, gone)
                or not room(cycle, gone + RETURN_WITHIN, restarts=True)
            ):
                cycle += 1
                continue
            away_until = cycle + gone + RETURN_WITHIN
            plans[cycle].remove_site = index
            plans[cycle + gone].restore_site = index
            for later in range(cycle, cycle + gone + RETURN_WITHIN):
                plans[later].status[index] = "gone" if later < cycle + gone else "returning"
            cycle += gone  # other faults may happen while it comes back
        else:
            revoked = rng.randint(1, 4)
            if not room(cycle, revoked + 1):
                cycle += 1
                continue
            plans[cycle].revoke = True
            for later in range(cycle, cycle + revoked):
                for index in range(SITES):
                    mark_failed(plans[later], index)
                plans[later].poll = later == cycle  # none after the rejection, until reauth
            plans[cycle + revoked].reauthenticate = True
            plans[cycle + revoked].poll = False  # the reload polls
            cycle += revoked + 1
    kinds, weights = list(FAULT_KINDS), list(FAULT_WEIGHTS.values())
    retryable = [k for k, (_, can_absorb) in FAULT_KINDS.items() if can_absorb]
    for index, cycle in enumerate(RESTART_CYCLES):
        # Every other one shorter than the IT stream's grace (restored readings shown).
        plans[cycle].restart = 1 if index % 2 else rng.randint(5, 20)
        for around in (cycle - 1, cycle + 1):
            kind = rng.choices(kinds, weights=weights)[0]
            fail(range(around, around + 1), [rng.randrange(SITES)], kind)
        # During the setup after the restart: one failure, which the client's retry hides.
        absorbed = rng.choices(retryable, [FAULT_WEIGHTS[k] for k in retryable])[0]
        fail(range(cycle, cycle + 1), [rng.randrange(SITES)], absorbed, absorbed=True)
    return plans


# --- what Home Assistant's scheduler would do -------------------------------------------


class PollTimer:
    """When a coordinator polls next, as DataUpdateCoordinator._schedule_refresh decides."""

    def __init__(self, now: datetime) -> None:
        """Polled at setup."""
        self.due: datetime | None = now + SCAN

    def polled(self, coordinator: DataUpdateCoordinator[Any], now: datetime) -> None:
        """Schedule the next poll from the outcome of the one that just ran."""
        error = None if coordinator.last_update_success else coordinator.last_exception
        if isinstance(error, ConfigEntryAuthFailed):
            self.due = None  # Home Assistant stops polling until the entry is reloaded
        elif isinstance(error, UpdateFailed) and error.retry_after is not None:
            self.due = now + timedelta(seconds=error.retry_after)
        else:
            self.due = now + SCAN


# --- the log ------------------------------------------------------------------------------


class LogCheck(logging.Handler):
    """Reads every log record as it is emitted: secrets, tracebacks, errors.

    A handler rather than caplog: caplog keeps every record, and tens of thousands of debug
    records would both slow the soak and show as memory growth. Home Assistant's coordinator
    logs an outage at error level once (and its recovery), with the failure's traceback at
    debug level: those are expected and counted, every other error or traceback is a problem.
    """

    # What Home Assistant's coordinator logs, once per outage, on our logger: expected.
    OUTAGE = "Error fetching %s data: %s"
    AUTH_FAILED = "Authentication failed while fetching %s data: %s"
    RECOVERED = "Fetching %s data recovered"
    EXPECTED = (OUTAGE, AUTH_FAILED, RECOVERED)
    FULL_ERROR = "Full error:"  # at debug, with the traceback of the failure just logged
    EXPECTED_WARNINGS = re.compile(
        r"Site \S+ is no longer available from the service"  # a site vanished
        # Home Assistant's loader, once, about any custom integration.
        r"|We found a custom integration ecostruxure which has not been tested"
    )

    def __init__(self, secrets: list[str]) -> None:
        """Look for these secrets."""
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.secrets = secrets
        self.records = 0
        self.expected: Counter[str] = Counter()
        self.problems: list[str] = []
        self.recent: deque[str] = deque(maxlen=40)  # shown when an assertion fails

    def emit(self, record: logging.LogRecord) -> None:
        """Check one record (formatted with its traceback, if any)."""
        self.records += 1
        text = self.format(record)
        self.recent.append(text[:300])
        for secret in self.secrets:
            if secret in text:
                self.problems.append(f"secret in the log: {text[:300]}")
        ours = record.name.startswith("custom_components.ecostruxure")
        if (
            ours
            and record.msg in self.EXPECTED
            and isinstance(record.args, tuple)
            and record.args[0] == DOMAIN
        ):
            self.expected[record.msg] += 1  # of the Facility Expert coordinator
            return
        if ours and record.msg == self.FULL_ERROR and record.levelno == logging.DEBUG:
            self.expected[self.FULL_ERROR] += 1
            return
        if record.exc_info:
            self.problems.append(f"traceback: {text[:1000]}")
        elif record.levelno >= logging.ERROR:
            self.problems.append(f"error: {text[:500]}")
        elif record.levelno >= logging.WARNING and not self.EXPECTED_WARNINGS.match(
            record.getMessage()
        ):
            self.problems.append(f"warning: {text[:500]}")


@contextmanager
def checking_log(secrets: list[str]) -> Iterator[LogCheck]:
    """Debug logging of the integration, read by a LogCheck, for the duration."""
    check = LogCheck(secrets)
    ours = logging.getLogger("custom_components.ecostruxure")
    level, propagate = ours.level, ours.propagate
    ours.setLevel(logging.DEBUG)
    # Our debug records go to the check only; pytest's handlers (on the root logger) would
    # keep them all. Everything else reaches the check through the root logger.
    ours.propagate = False
    ours.addHandler(check)
    root = logging.getLogger()
    root_level = root.level
    # Others' info records (entities registered at each reload) are of no interest here;
    # pytest would keep them all, which would show as memory growth.
    root.setLevel(logging.WARNING)
    root.addHandler(check)
    try:
        yield check
    finally:
        root.removeHandler(check)
        root.setLevel(root_level)
        ours.removeHandler(check)
        ours.setLevel(level)
        ours.propagate = propagate


# --- resources ----------------------------------------------------------------------------


def of_integration(item: object) -> bool:
    """Whether an object is of a class of the integration (or of a test's subclass of one)."""
    return any(cls.__module__.startswith("custom_components.") for cls in type(item).__mro__)


def owned(roots: list[object]) -> int:
    """How many containers and objects of the integration the roots hold, transitively.

    The walk stops at everything else (Home Assistant, aiohttp, strings, datetimes): it
    counts the integration's own state — data, topology, alarms, readings, queues.
    """
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        stack += (
            ref
            for ref in gc.get_referents(item)
            if isinstance(ref, dict | list | tuple | set | frozenset | deque) or of_integration(ref)
        )
    return len(seen)


@dataclass(frozen=True, slots=True)
class Resources:
    """What must not grow over the soak."""

    tasks: int
    file_descriptors: int
    connections: int
    instances: Counter[str]  # of LONG_LIVED classes of the integration, by class
    owned: int  # containers and objects these instances hold
    objects: int
    rss: int

    @classmethod
    def measure(cls, hass: HomeAssistant) -> Resources:
        """Measure now, after a full garbage collection."""
        gc.collect()
        connector = async_get_clientsession(hass).connector
        assert isinstance(connector, aiohttp.TCPConnector)
        objects = gc.get_objects()
        # By the class's bases: isinstance() with abstract classes caches every type it is
        # asked about, which would show as growth at the next measure.
        long_lived = [
            o for o in objects if of_integration(o) and not LONG_LIVED.isdisjoint(type(o).__mro__)
        ]
        statm = Path("/proc/self/statm").read_text(encoding="ascii").split()
        return cls(
            tasks=len(asyncio.all_tasks()),
            file_descriptors=sum(1 for _ in Path("/proc/self/fd").iterdir()),
            # Idle keep-alive connections plus those in use (the two streams among them).
            connections=sum(len(idle) for idle in connector._conns.values())
            + len(connector._acquired),
            instances=Counter(type(o).__qualname__ for o in long_lived),
            owned=owned(long_lived),
            objects=len(objects),
            rss=int(statm[1]) * os.sysconf("SC_PAGE_SIZE"),
        )


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three small sites with lively alarms and gateway outages; two small IT customers."""
    return SimulatorConfig(
        seed=SEED,
        sites=SITES,
        assets_per_site=12,
        subscription_key=SUBSCRIPTION_KEY,
        technical_token=TECHNICAL_TOKEN,
        alarms_per_site_per_hour=3,
        outage_probability=0.5,
        it_expert=ITExpertConfig(
            seed=SEED,
            organizations=ORGANIZATIONS,
            rooms_per_organization=1,
            racks_per_room=1,
            outlets_per_pdu=2,
            alarms_per_organization_per_hour=IT_ALARMS_PER_HOUR,
            partner_all_key=IT_KEY,
            heartbeat_seconds=0.2,
            poll_seconds=0.02,
            offset_every=1,
            # Bounded early, so that the simulator's own memory stops growing before the
            # first checkpoint (replays of older gaps are refused, which the stream handles).
            measurement_log_lines=2000,
        ),
    )


@pytest.fixture
def simulator(simulator_config: SimulatorConfig) -> Simulator:
    """The simulator's clock stands at the soak's start until a cycle moves it."""
    return Simulator(simulator_config, SimulatedClock(START, frozen=True))


@pytest.fixture
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Facility Expert clients with a short timeout, whose retry waits are recorded.

    The integration still makes its clients (one connection limit per account, shared across
    reloads); only their timeout and their way of waiting change. A retry's wait (Retry-After,
    backoff) is seconds of real time: it is not slept, and a few milliseconds are slept
    instead, so that the simulator notices a connection the client gave up on before the
    retry comes (else it would count both in flight). IT Expert streams reconnect after real
    time: their timings are shrunk as in the IT Expert tests.
    """
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await asyncio.sleep(0.005)

    class SoakClient(FacilityExpertClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, request_timeout=CLIENT_TIMEOUT, sleep=sleep)

    monkeypatch.setattr(facility_expert_entry, "FacilityExpertClient", SoakClient)
    monkeypatch.setattr(it_const, "STREAM_FLUSH_INTERVAL", 0.01)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_INITIAL", 0.05)
    monkeypatch.setattr(it_const, "STREAM_BACKOFF_MAX", 0.2)
    return waits


async def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Let the event loop run until `condition` (streams are real connections)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


# --- what was expected, what was seen ------------------------------------------------------

type EventKey = tuple[str, str, str]  # site or organization id, event type, alarm id


@dataclass(slots=True)
class Observed:
    """What Home Assistant showed, gathered from its state machine as it happened."""

    events: Counter[EventKey] = field(default_factory=Counter)
    last_event: dict[str, str] = field(default_factory=dict)
    rewrites: list[str] = field(default_factory=list)
    energy: dict[str, float] = field(default_factory=dict)
    energy_problems: list[str] = field(default_factory=list)
    it_unavailable: list[str] = field(default_factory=list)
    # IT Expert readings of before a restart older than the stream's grace: unavailable at
    # the start, by design, until the stream brings new ones (within the cycle).
    it_unavailable_at_restart: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MadeAlarm:
    """An alarm of the simulator, of a Facility Expert site or an IT Expert organization."""

    owner: str  # the site or organization id
    id: str
    activated: float
    cleared: float | None


def made_alarms(sim: Simulator, sites: list[SimSite], organizations: list[str]) -> list[MadeAlarm]:
    """Every alarm of the simulator that may have changed since the start.

    No alarm of the simulator lasts more than an hour (Facility Expert's generated ones 2 to
    40 minutes, communication losses 10 to 60; IT Expert's 2 to 40), so those raised two
    hours before the start are all those that may clear after it.
    """
    since = START.timestamp() - 2 * 3600
    made = [
        MadeAlarm(site.id, alarm.id, alarm.activated, alarm.cleared)
        for site in sites
        for alarm in sim.alarms(site, "all", since, None)
    ]
    made += [
        MadeAlarm(organization_id, alarm.id, alarm.activated, alarm.cleared)
        for organization_id in organizations
        for alarm in sim.it_expert.alarms(organization_id)
        if alarm.activated > since or alarm.cleared is None or alarm.cleared > since
    ]
    return made


def expected_events(alarms: list[MadeAlarm], end: datetime) -> Counter[EventKey]:
    """Every raise and clear the simulator made from the start to `end`, from its alarms.

    Alarms already active at the start were raised before the integration looked: only their
    clear is an event; alarms over before it are history. As no alarm lasts more than an hour,
    the documented limitation of alarms active for more than a day never applies here.

    Re-authentication reloads the entry: what a site raised or cleared between its last read
    before the keys were refused and the reload's first read is expected too, exactly once
    (the entry's alarm reads outlive its reloads).
    """
    made: Counter[EventKey] = Counter()
    first, last = START.timestamp(), end.timestamp()
    for alarm in alarms:
        if first < alarm.activated <= last:
            made[alarm.owner, "alarm_raised", alarm.id] += 1
        if alarm.cleared is not None and first < alarm.cleared <= last:
            made[alarm.owner, "alarm_cleared", alarm.id] += 1
    return made


def made_while_down(
    alarms: list[MadeAlarm], downtimes: list[tuple[datetime, datetime]]
) -> Counter[str]:
    """How many raises and clears happened while Home Assistant was stopped, per owner."""
    windows = [(stopped.timestamp(), started.timestamp()) for stopped, started in downtimes]
    return Counter(
        alarm.owner
        for alarm in alarms
        for moment in (alarm.activated, alarm.cleared)
        if moment is not None and any(stopped < moment <= started for stopped, started in windows)
    )


def latest_readings(
    it: ITExpertSimulator, organizations: list[str]
) -> dict[str, float | str | None]:
    """Per sensor, the value of the newest line of the organizations' measurement logs."""
    latest: dict[str, tuple[str, float | str | None]] = {}
    for organization_id in organizations:
        log = it.state(organization_id).measurements
        for line in log.between(0, log.last):
            body = json.loads(line)
            value = body.get("numericValue", body.get("stringValue"))
            sensor_id, timestamp = body["sensorId"], body["timestamp"]
            if sensor_id not in latest or timestamp >= latest[sensor_id][0]:
                latest[sensor_id] = (timestamp, float(value) if isinstance(value, int) else value)
    return {sensor_id: value for sensor_id, (_, value) in latest.items()}


class SoakRun:
    """The two entries, the cycles that drive them, and what Home Assistant showed."""

    def __init__(
        self,
        hass: HomeAssistant,
        server: SimulatorServer,
        freezer: FrozenDateTimeFactory,
        plans: list[Plan],
        restarts: Restarts,
    ) -> None:
        """Prepare; `set_up` adds the entries."""
        self.hass = hass
        self.restarts = restarts
        self.sim = server.simulator
        self.it = self.sim.it_expert
        self.freezer = freezer
        self.plans = plans
        self.site_ids = [site.id for site in self.sim.sites]
        self.organizations = [org.id for org in self.it.organizations]
        self.fe_entry = MockConfigEntry(
            domain=DOMAIN,
            title="EcoStruxure",
            unique_id=self.site_ids[0],
            data={
                CONF_SUBSCRIPTION_KEY: SUBSCRIPTION_KEY,
                CONF_TECHNICAL_TOKEN: TECHNICAL_TOKEN,
                CONF_BASE_URL: server.base_url,
            },
            options={CONF_SITES: self.site_ids, CONF_SCAN_INTERVAL: SCAN.seconds},
            pref_disable_polling=True,  # the soak polls (see the module's docstring)
        )
        self.it_entry = MockConfigEntry(
            domain=DOMAIN,
            title="IT Expert",
            unique_id=f"it_expert:{self.organizations[0]}",
            data={
                CONF_SERVICE: SERVICE_IT_EXPERT,
                CONF_API_KEY: IT_KEY,
                CONF_BASE_URL: server.it_base_url,
            },
            options={CONF_ORGANIZATIONS: self.organizations, CONF_SCAN_INTERVAL: SCAN.seconds},
            pref_disable_polling=True,
        )
        self.timer = PollTimer(START)
        self.observed = Observed()
        self.faults: Counter[str] = Counter()
        self.site_entities: list[list[str]] = []
        self.event_entities: dict[str, str] = {}  # entity id -> site or organization id
        self.energy_entities: set[str] = set()
        self.it_entities: set[str] = set()
        self.it_readings: dict[str, str] = {}  # entity id -> IT Expert sensor id
        self.it_devices: dict[str, list[str]] = {}  # per organization, devices with events
        self.it_test_alarm: str | None = None  # raised while stopped, cleared at the next stop
        self.returned: set[int] = set()  # vanished sites shown again
        self.last_read = [0] * SITES  # per site, the last cycle it showed its data
        self.cycle_number = 0
        self.coordinator_ok = True
        self.stale_restart = False  # restarting after more than the IT stream's grace
        self.restart_seconds = 0.0  # real time spent stopping and starting Home Assistant
        self.replays_checked = 0  # restarts after which every IT sensor showed the latest
        self.replays_within_restart_cycle = 0  # of these, in the cycle of the restart
        # After a start, until the replay is checked: each organization's last measurement line.
        self.replay_marks: dict[str, int] | None = None
        # Per restart: from the last poll before the stop to the first after the start.
        self.downtimes: list[tuple[datetime, datetime]] = []
        self.expected_log: Counter[str] = Counter()
        self._unlisten: list[Callable[[], None]] = []

    # --- setup and teardown ---------------------------------------------------------------

    async def set_up(self) -> None:
        """Add both entries, note their entities, and start watching the state machine."""
        hass = self.hass
        for entry in (self.fe_entry, self.it_entry):
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
        streams = self.it_entry.runtime_data.streams
        await wait_for(lambda: all(stream.connected for stream in streams.values()))
        registry = er.async_get(hass)
        facility = [
            e
            for e in er.async_entries_for_config_entry(registry, self.fe_entry.entry_id)
            if e.disabled_by is None
        ]
        self.site_entities = [
            [e.entity_id for e in facility if e.unique_id.startswith(f"{site_id}-")]
            for site_id in self.site_ids
        ]
        assert all(len(entities) > 20 for entities in self.site_entities)
        self.event_entities = {
            e.entity_id: e.unique_id.removesuffix("-alarms")
            for e in facility
            if e.domain == "event"
        }
        assert len(self.event_entities) == SITES
        it_entries = [
            e
            for e in er.async_entries_for_config_entry(registry, self.it_entry.entry_id)
            if e.disabled_by is None
        ]
        self.it_entities = {e.entity_id for e in it_entries}
        for e in it_entries:
            organization_id = next(o for o in self.organizations if e.unique_id.startswith(o))
            object_key = e.unique_id.removeprefix(f"{organization_id}-")
            if e.domain == "event":
                self.event_entities[e.entity_id] = organization_id
                device_id = object_key.removesuffix("-alarms")
                self.it_devices.setdefault(organization_id, []).append(device_id)
            elif e.domain == "sensor" and "-sensor-" in object_key:
                self.it_readings[e.entity_id] = object_key.partition("-sensor-")[2]
        assert sorted(self.it_devices) == sorted(self.organizations)
        assert len(self.it_readings) > 10 * ORGANIZATIONS
        self.energy_entities = {
            state.entity_id
            for state in hass.states.async_all("sensor")
            if state.attributes.get("device_class") == "energy"
        }
        assert len(self.energy_entities & self.it_entities) >= ORGANIZATIONS
        assert len(self.energy_entities - self.it_entities) >= SITES
        self._listen(hass)
        self._check_states(self.plans[0])

    def _listen(self, hass: HomeAssistant) -> None:
        """Watch the state machine of `hass` (from before its entries are set up)."""
        self._unlisten = [
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._state_changed),
            hass.bus.async_listen(
                EVENT_STATE_REPORTED, self._state_reported, event_filter=self._is_event_entity
            ),
        ]

    async def _stop(self) -> None:
        """Stop Home Assistant, as for an update."""
        for unlisten in self._unlisten:
            unlisten()
        old = self.hass
        self.downtimes.append((self.sim.clock.now(), self.sim.clock.now()))
        await self.restarts.stop(old)
        # The process of a stopped Home Assistant ends; here the test keeps the instance:
        # let go of what the entries held (as the plugin does at the end of a test), and of
        # the connection limits, or the resource checks would count them as growth.
        for entry in (self.fe_entry, self.it_entry):
            if entry.state is ConfigEntryState.LOADED:
                await old.config_entries.async_unload(entry.entry_id)
        old.data.pop(facility_expert_entry.DATA_CONNECTION_LIMITS, None)

    async def _start(self, now: datetime) -> None:
        """Start Home Assistant again from its storage: the entries' setup polls."""
        self.downtimes[-1] = (self.downtimes[-1][0], now)
        self.hass = hass = await self.restarts.start(self._listen)
        fe_entry = hass.config_entries.async_get_entry(self.fe_entry.entry_id)
        it_entry = hass.config_entries.async_get_entry(self.it_entry.entry_id)
        assert fe_entry is not None
        assert it_entry is not None
        assert fe_entry.state is it_entry.state is ConfigEntryState.LOADED
        self.fe_entry, self.it_entry = fe_entry, it_entry
        streams = it_entry.runtime_data.streams
        await wait_for(lambda: all(stream.connected for stream in streams.values()))
        # Readings shown unavailable at the start (older than the grace) are back at once.
        await wait_for(
            lambda: all(
                (state := hass.states.get(entity)) is not None and state.state != STATE_UNAVAILABLE
                for entity in self.it_entities
            )
        )
        self.stale_restart = False
        self.timer = PollTimer(now)
        self.faults["Home Assistant restarted"] += 1
        self.replay_marks = {
            organization_id: self.it.state(organization_id).measurements.last
            for organization_id in self.organizations
        }

    async def tear_down(self) -> None:
        """Unload both entries (entities become unavailable: no longer watched)."""
        for unlisten in self._unlisten:
            unlisten()
        for entry in (self.fe_entry, self.it_entry):
            assert await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        await wait_for(lambda: self.it.stats.open_streams == 0)

    # --- one cycle ------------------------------------------------------------------------

    async def cycle(self, number: int) -> None:
        """Move both clocks by the scan interval, apply the cycle's faults, poll, check."""
        self.cycle_number = number
        plan = self.plans[number]
        sim = self.sim
        if plan.restart:
            began = real_clock()
            await self._stop()
            self.restart_seconds += real_clock() - began
            down = SCAN * plan.restart - STARTED_BEFORE_END
            self._while_stopped(down)
            self.stale_restart = down >= it_const.STREAM_GRACE
        else:
            self._tick(SCAN)
        now = sim.clock.now()
        if plan.restore_site is not None:
            sim.restore_site(self.site_ids[plan.restore_site])
        if plan.remove_site is not None:
            sim.remove_site(self.site_ids[plan.remove_site])
            self.returned.discard(plan.remove_site)
            self.faults["site vanished"] += 1
        if plan.revoke:
            sim.revoke_credentials()
            self.faults["keys revoked"] += 1
        if plan.reauthenticate:
            await self._reauthenticate(now)
        for kind, options in plan.rules:
            sim.faults.add(FaultRule(**options))
            self.faults[kind] += 1
        # The cycle's end, for a Home Assistant stopped at its start as for one running.
        end = now + STARTED_BEFORE_END if plan.restart else now
        due = self.timer.due is not None and self.timer.due <= end
        assert due == plan.poll, f"cycle {number}: Home Assistant polls: {due}"
        if plan.restart:
            began = real_clock()
            await self._start(now)  # the setup polls
            self.restart_seconds += real_clock() - began
            self._tick(STARTED_BEFORE_END)
        elif due:
            coordinator = self.fe_entry.runtime_data
            await coordinator.async_refresh()
            self.timer.polled(coordinator, now)
        await self.it_entry.runtime_data.async_refresh()
        sim.faults.clear()  # what a cycle's faults did not use does not spill over
        if plan.drop_stream is not None:
            await self._drop_stream(self.organizations[plan.drop_stream])
        await self.hass.async_block_till_done()
        self._expect_log(plan, self._check_states(plan))
        if self.replay_marks is not None:
            await self._check_readings_replayed()

    def _tick(self, delta: timedelta) -> None:
        self.freezer.tick(delta)
        self.it.advance(delta)  # the clock both services share; open streams see it at once

    def _while_stopped(self, down: timedelta) -> None:
        """IT Expert alarms change while Home Assistant is stopped, at quarters of `down`.

        The alarm raised at the previous stop clears, another is raised (to clear at the next
        stop), and in a stop past the stream's grace one more is raised and cleared: each
        change fires once after the start, in order.
        """
        number = len(self.downtimes)
        organization_id = self.organizations[number % ORGANIZATIONS]
        devices = self.it_devices[organization_id]
        quarter = down / 4
        self._tick(quarter)
        if self.it_test_alarm is not None:
            self.it.clear_alarm(self.it_test_alarm)
        self._tick(quarter)
        self.it.state(organization_id)  # the service's own changes until now come first
        self.it_test_alarm = self.it.raise_alarm(organization_id, devices[number % len(devices)])
        brief = None
        if down >= it_const.STREAM_GRACE:
            device_id = devices[(number + 1) % len(devices)]
            brief = self.it.raise_alarm(organization_id, device_id, label="Brief test alarm")
        self._tick(quarter)
        if brief is not None:
            self.it.clear_alarm(brief)
        self._tick(down - 3 * quarter)

    async def _check_readings_replayed(self) -> None:
        """The IT sensors show the latest readings made, those made while stopped included.

        The streams replay these from the offsets stored at the stop, up to their first live
        reading, as the service wants a replay's end; the live readings are newer. Checked in
        the first cycle in which every organization made a live reading since the start; no
        fault of this soak makes the service refuse a replay (none may be refused).
        """
        assert self.replay_marks is not None
        if any(
            self.it.state(organization_id).measurements.last <= mark
            for organization_id, mark in self.replay_marks.items()
        ):
            return  # no live reading yet: no replay either
        streams = self.it_entry.runtime_data.streams
        latest = latest_readings(self.it, self.organizations)

        def wrong() -> list[str]:
            return [
                f"{entity}: {shown} instead of {latest.get(sensor_id)}"
                for entity, sensor_id in self.it_readings.items()
                if (shown := self._reading_shown(entity)) != latest.get(sensor_id)
            ]

        try:
            await wait_for(lambda: not wrong(), seconds=10)
        except AssertionError:
            counters = {org: stream.counters for org, stream in streams.items()}
            raise AssertionError(f"cycle {self.cycle_number}: {wrong()[:5]}, {counters}") from None
        for organization_id, stream in streams.items():
            counters = stream.counters
            assert counters["replays_completed"] == counters["replays"] >= 1, (
                organization_id,
                counters,
            )
            assert counters["replays_refused"] == 0, (organization_id, counters)
        self.replays_checked += 1
        self.replays_within_restart_cycle += self.cycle_number in RESTART_CYCLES
        self.replay_marks = None

    def _reading_shown(self, entity_id: str) -> float | str | None:
        """What an IT sensor shows, as the simulator's reading it comes from."""
        state = self.hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return None
        try:
            return float(state.state)
        except ValueError:
            return state.state

    async def _reauthenticate(self, now: datetime) -> None:
        """The secrets work again: the user confirms them in the re-authentication flow."""
        self.sim.revoke_credentials(
            new_subscription_key=SUBSCRIPTION_KEY, new_technical_token=TECHNICAL_TOKEN
        )
        flows = [
            flow
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
        ]
        assert len(flows) == 1, flows
        result = await self.hass.config_entries.flow.async_configure(
            flows[0]["flow_id"],
            {CONF_SUBSCRIPTION_KEY: SUBSCRIPTION_KEY, CONF_TECHNICAL_TOKEN: TECHNICAL_TOKEN},
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        await self.hass.async_block_till_done()  # the entry reloads: its first poll is now
        assert self.fe_entry.runtime_data.last_update_success
        self.timer = PollTimer(now)

    async def _drop_stream(self, organization_id: str) -> None:
        """Cut an organization's stream mid-line and wait until it is back."""
        stream = self.it_entry.runtime_data.streams[organization_id]
        drops = stream.counters["drops"]
        assert self.it.drop_streams(organization_id, mid_line=True) >= 1
        self.faults["stream dropped mid-line"] += 1
        await wait_for(lambda: stream.counters["drops"] > drops and stream.connected)

    # --- what Home Assistant shows --------------------------------------------------------

    def _shown(self, index: int) -> str:
        states = [self.hass.states.get(entity) for entity in self.site_entities[index]]
        present = [state for state in states if state is not None]
        unavailable = sum(state.state == STATE_UNAVAILABLE for state in present)
        if not present:
            return "gone"
        if len(present) == len(states) and unavailable in (0, len(states)):
            return "failed" if unavailable else "ok"
        return f"{len(present)} of {len(states)} entities, {unavailable} unavailable"

    def _check_states(self, plan: Plan) -> list[str]:
        """Every site's entities show what the schedule says its data did; what they show."""
        resolved = []
        for index, status in enumerate(plan.status):
            shown = self._shown(index)
            expected = status
            if status.startswith("returning"):
                if shown == "ok":
                    self.returned.add(index)  # back, with its data
                if index in self.returned:
                    expected = "failed" if status.endswith("failed") else "ok"
                else:
                    expected = "gone"
            assert shown == expected, (
                f"cycle {self.cycle_number}: site {index} shows {shown}, expected {expected}"
            )
            if shown == "ok":
                self.last_read[index] = self.cycle_number
            resolved.append(shown)
        return resolved

    def _expect_log(self, plan: Plan, shown: list[str]) -> None:
        """What Home Assistant's coordinator logs, when polls go from success to failure.

        The failure (with its traceback at debug level), and the recovery: nothing for the
        cycles of an outage in between.
        """
        if plan.reauthenticate or plan.restart:
            self.coordinator_ok = True  # a new coordinator, whose first poll succeeded
        if not plan.poll:
            return
        # Every site Home Assistant polls failed (a gone site is not polled).
        failed = plan.revoke or ("ok" not in shown and "failed" in shown)
        if failed and self.coordinator_ok:
            self.expected_log[LogCheck.AUTH_FAILED if plan.revoke else LogCheck.OUTAGE] += 1
            self.expected_log[LogCheck.FULL_ERROR] += 1
        elif not failed and not self.coordinator_ok:
            self.expected_log[LogCheck.RECOVERED] += 1
        self.coordinator_ok = not failed

    @callback
    def _state_changed(self, event: Event[Any]) -> None:
        entity_id: str = event.data["entity_id"]
        new = event.data["new_state"]
        if new is None or new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            if new is not None and new.state == STATE_UNAVAILABLE and entity_id in self.it_entities:
                stale = self.observed.it_unavailable_at_restart if self.stale_restart else None
                (stale if stale is not None else self.observed.it_unavailable).append(
                    f"cycle {self.cycle_number}: {entity_id}"
                )
            return
        if entity_id in self.event_entities:
            # An event entity's state is the time of its last event, unique per event (Home
            # Assistant moves a second event of the same instant by a millisecond); the same
            # time again is the last event restored (the entity came back), not a new one.
            if new.state > self.observed.last_event.get(entity_id, ""):
                self.observed.last_event[entity_id] = new.state
                owner = self.event_entities[entity_id]
                self.observed.events[
                    owner, new.attributes["event_type"], new.attributes["alarm_id"]
                ] += 1
        elif entity_id in self.energy_entities:
            value = float(new.state)
            last = self.observed.energy.get(entity_id)
            if value <= 0 or (last is not None and value < last):
                self.observed.energy_problems.append(
                    f"cycle {self.cycle_number}: {entity_id} {last} -> {value}"
                )
            self.observed.energy[entity_id] = value

    @callback
    def _is_event_entity(self, data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in self.event_entities

    @callback
    def _state_reported(self, event: Event[Any]) -> None:
        # The same state written again: for an event entity, the same event fired twice.
        self.observed.rewrites.append(f"cycle {self.cycle_number}: {event.data}")


@pytest.mark.soak
@pytest.mark.timeout(180)  # under a minute here; several times that on a busy machine is a hang
async def test_nothing_is_lost_over_thousands_of_cycles_of_faults(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    retry_waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
    soak_summary: Callable[[str], None],
) -> None:
    began = real_clock()
    sim = simulator_server.simulator
    it = sim.it_expert
    sites = list(sim.sites)
    plans = build_schedule(random.Random(SEED), [site.id for site in sites])
    random.seed(SEED)  # the jitter of retries and reconnects
    loop = asyncio.get_running_loop()
    # The loop keeps real time under the frozen clock (see the module's docstring), and runs
    # without asyncio's debug mode, as Home Assistant does in production: it would cost some
    # 40 % of the soak's time.
    monkeypatch.setattr(loop, "time", real_monotonic)
    loop.set_debug(False)
    # End this step of the test's task now: it began in debug mode, and asyncio would warn
    # (into the log check below) if it lasted over 0.1 s, as it may on a busy machine.
    await asyncio.sleep(0)
    secrets = [SUBSCRIPTION_KEY, TECHNICAL_TOKEN, *(it.config.key(kind) for kind in KeyKind)]

    with freezegun.freeze_time(START) as freezer, checking_log(secrets) as log:
        assert isinstance(freezer, FrozenDateTimeFactory)  # not ticking by itself
        async with Restarts() as restarts:
            run = SoakRun(hass, simulator_server, freezer, plans, restarts)
            await run.set_up()
            checkpoint = final = None
            for cycle in range(1, CYCLES + 1):
                await run.cycle(cycle)
                assert not log.problems, (log.problems[:5], list(log.recent))
                if cycle == CHECKPOINT:
                    checkpoint = Resources.measure(run.hass)
            final = Resources.measure(run.hass)
            alarms = made_alarms(sim, sites, run.organizations)
            made = expected_events(alarms, sim.clock.now())
            while_down = made_while_down(alarms, run.downtimes)
            await run.tear_down()
    assert checkpoint is not None
    assert final is not None

    observed = run.observed
    seen = observed.events
    missed = made - seen
    repeated = seen - made
    it_made = Counter({key: n for key, n in made.items() if key[0] in run.organizations})
    fe_made = made - it_made
    it_while_down = sum(n for owner, n in while_down.items() if owner in run.organizations)
    fe_while_down = while_down.total() - it_while_down
    faults = run.faults
    summary = (
        f"soak: {CYCLES} cycles ({CYCLES * SCAN / timedelta(hours=1):.0f} h simulated) in "
        f"{real_clock() - began:.0f} s; faults: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(faults.items()))
        + f"; Home Assistant restarts {restarts.count} ({run.restart_seconds:.1f} s, "
        f"alarm events made while stopped: Facility Expert {fe_while_down}, "
        f"IT Expert {it_while_down}; IT sensors showing the latest readings after "
        f"{run.replays_checked} of them, {run.replays_within_restart_cycle} within its cycle)"
        + f"; alarm events seen {(seen & made).total()} of {made.total()} made "
        f"(Facility Expert {(seen & fe_made).total()} of {fe_made.total()}, "
        f"IT Expert {(seen & it_made).total()} of {it_made.total()}), "
        f"{missed.total()} missed, {repeated.total()} unexpected; "
        f"peak concurrent requests {sim.stats.peak_in_flight} (cap {CONCURRENCY_CAP}); "
        f"first -> last thousand cycles: tasks {checkpoint.tasks}->{final.tasks}, "
        f"fds {checkpoint.file_descriptors}->{final.file_descriptors}, "
        f"connections {checkpoint.connections}->{final.connections}, "
        f"entities/coordinators/clients {checkpoint.instances.total()}->"
        f"{final.instances.total()} holding {checkpoint.owned}->{final.owned} objects, "
        f"Python objects {checkpoint.objects}->{final.objects}, "
        f"RSS {checkpoint.rss / 2**20:.1f}->{final.rss / 2**20:.1f} MiB; "
        f"{log.records} log records checked"
    )
    soak_summary(summary)  # shown in the terminal summary, failed or not

    assert not log.problems, log.problems[:10]
    assert not observed.energy_problems, observed.energy_problems[:10]
    assert not observed.it_unavailable, observed.it_unavailable[:10]
    # The restarts that outlasted the grace (half of them), and only those, showed IT
    # readings unavailable at the start.
    assert {line.partition(":")[0] for line in observed.it_unavailable_at_restart} == {
        f"cycle {cycle}" for cycle in RESTART_CYCLES[::2]
    }
    assert not observed.rewrites, observed.rewrites[:10]
    assert not missed, sorted(missed)[:10]
    assert not repeated, sorted(repeated)[:10]
    assert fe_made.total() > 400  # the soak did exercise the alarms, of both services
    assert it_made.total() > 50
    # Requests overlapped, and never more than the client's cap.
    assert 1 < sim.stats.peak_in_flight <= CONCURRENCY_CAP
    # Every kind of fault happened, and every outage was logged once (and its recovery).
    assert set(FAULT_KINDS) <= set(faults)
    assert restarts.count == RESTARTS
    # The reach-back and the replay after a restart were exercised, for both services.
    assert fe_while_down > 0
    assert it_while_down > RESTARTS
    # Within the restart's cycle: each organization's 30 sensors, reporting every 5 minutes,
    # gave a first live reading (which opens the replay) in the half minute it ran.
    assert run.replays_checked == run.replays_within_restart_cycle == RESTARTS
    for kind in ("site vanished", "keys revoked", "stream dropped mid-line"):
        assert faults[kind] > 0, kind
    assert log.expected == run.expected_log
    assert run.expected_log[LogCheck.OUTAGE] > 10
    # Retry-After was honoured inside a request, and backoffs stayed within their bounds.
    assert float(RETRY_AFTER_SHORT) in retry_waits
    assert all(0 < wait <= 60 for wait in retry_waits)

    # Nothing grows between the first and the last thousand cycles. Tasks, descriptors and
    # connections come back to the same counts, with one of slack for a stream's replay that
    # may still be running. The reloads and the sites' comings and goings left one
    # coordinator, client and stream per entry and the same entities: what they replaced was
    # released. What these hold varies a little with the alarms of the moment, and IT Expert
    # entities keep the sensor models they were made from when the daily full list brings
    # new ones (once): 5 % is some 200 objects, a leak of one object every ten cycles exceeds
    # it. Resident memory moves in steps (the allocator keeps freed pages, Home Assistant's
    # registries keep the entries of removed entities): 16 MiB, a gross leak's measure. All
    # Python objects are only shown: saves of Home Assistant's registries, pending or not
    # at the moment of counting, move them by some 10 % from one run to the next.
    assert final.tasks <= checkpoint.tasks + 1
    assert final.file_descriptors <= checkpoint.file_descriptors + 1
    assert final.connections <= checkpoint.connections + 1
    assert final.instances == checkpoint.instances
    assert final.instances["EcoStruxureCoordinator"] == final.instances["ITExpertCoordinator"] == 1
    assert final.owned <= checkpoint.owned * 1.05
    assert final.rss <= checkpoint.rss + 16 * 2**20
    assert sim.stats.in_flight == 0
