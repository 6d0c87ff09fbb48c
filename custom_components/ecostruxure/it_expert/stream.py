"""The live measurement stream of one organization, kept open for as long as the entry runs.

Readings are applied as they arrive (a reading never moves a sensor back in time, so repeated
and late lines are harmless) and the sensors that changed are told together, at most once a
second, so that a burst does not flood the state machine. A flush tells them in batches and lets
the event loop run between two, so that a thousand sensors changing at once never hold it for
long. Reconnects, backoff and replays are the client library's (api/it_expert/live.py); this
side only applies readings and tells the entities.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..api.it_expert.client import ITExpertClient
from ..api.it_expert.live import LiveMeasurements, LiveTimings
from ..api.it_expert.models import SensorReading
from ..const import LOGGER
from . import const


class MeasurementStream:
    """Latest reading of every sensor of one organization, from its live stream."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: ITExpertClient,
        organization_id: str,
        *,
        resume_from: str | None = None,
        on_offset: CALLBACK_TYPE | None = None,
    ) -> None:
        """Prepare the stream; `run` opens it.

        `resume_from`: the offset stored before a restart (replayed from); `on_offset` is
        called when `resume_offset` may have moved (to store it).
        """
        self._hass = hass
        self.organization_id = organization_id
        self.live = LiveMeasurements(
            client,
            organization_id,
            on_reading=self._apply,
            on_connected=self._connected,
            on_disconnected=self._disconnected,
            timings=LiveTimings(
                idle_timeout=const.STREAM_IDLE_TIMEOUT,
                backoff_initial=const.STREAM_BACKOFF_INITIAL,
                backoff_max=const.STREAM_BACKOFF_MAX,
                healthy_after=const.STREAM_HEALTHY_AFTER,
                replay_attempts=const.REPLAY_ATTEMPTS,
                replay_pause=const.REPLAY_PAUSE_AFTER_REFUSAL,
            ),
            now=dt_util.utcnow,
            resume_from=resume_from,
            on_offset=on_offset or (lambda: None),
        )
        # Readings of the sensors the inventory lists; those of others, which may arrive
        # before the inventory lists them (or never: the service chooses), wait in a
        # bounded cache, oldest dropped first.
        self.readings: dict[str, SensorReading] = {}
        self._known: frozenset[str] = frozenset()
        self._unknown: OrderedDict[str, SensorReading] = OrderedDict()
        self.disconnected_at: datetime | None = None
        self._listeners: dict[str, list[Callable[[Context], None]]] = {}
        self._status_listeners: list[CALLBACK_TYPE] = []
        # Sensors with a reading not told yet: to the next flush, or (_flushing) the running
        # one, which tells each with its latest reading.
        self._pending: set[str] = set()
        self._flushing: set[str] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._grace_handle: asyncio.TimerHandle | None = None
        self._logged_stale = False  # "unavailable" logged, "available again" not yet
        self._applied: dict[str, int] = {"readings": 0, "ignored": 0}

    # --- what entities see ----------------------------------------------------------------

    @property
    def allowed(self) -> bool:
        """Whether the stream may connect (the organization is accessible)."""
        return self.live.allowed

    @property
    def connected(self) -> bool:
        """Whether the live stream is open."""
        return self.live.connected

    @property
    def counters(self) -> dict[str, int]:
        """Connections, drops, readings applied and ignored, replays."""
        live = self.live.counters
        return {
            "connections": live["connections"],
            "drops": live["drops"],
            **self._applied,
            "replays": live["replays"],
            "replays_completed": live["replays_completed"],
            "replays_refused": live["replays_refused"],
        }

    @property
    def resume_offset(self) -> str | None:
        """The offset to store: after a restart, the readings after it are replayed."""
        return self.live.resume_offset

    @property
    def fresh(self) -> bool:
        """Whether readings are current: connected, or dropped only moments ago."""
        if self.connected:
            return True
        return (
            self.disconnected_at is not None
            and dt_util.utcnow() - self.disconnected_at < const.STREAM_GRACE
        )

    @callback
    def async_add_listener(
        self, sensor_id: str, listener: Callable[[Context], None]
    ) -> Callable[[], None]:
        """Call `listener` when the sensor has a new reading; returns the remover.

        It gets the context of the flush: every state a flush writes has that one cause.
        """
        self._listeners.setdefault(sensor_id, []).append(listener)
        return lambda: self._listeners[sensor_id].remove(listener)

    @callback
    def async_add_status_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Call `listener` when the stream connects, drops or its readings go stale."""
        self._status_listeners.append(listener)
        return lambda: self._status_listeners.remove(listener)

    @callback
    def set_allowed(self, allowed: bool) -> None:
        """Let the stream connect, or keep it closed (consent revoked, key refused)."""
        self.live.set_allowed(allowed)

    def diagnostics(self) -> dict[str, Any]:
        """State and counters, without offsets (they are long and meaningless to a reader)."""
        return {
            "connected": self.connected,
            "allowed": self.allowed,
            "disconnected_at": self.disconnected_at.isoformat() if self.disconnected_at else None,
            "sensors_with_readings": len(self.readings),
            "readings_of_unlisted_sensors": len(self._unknown),
            "replay_running": self.live.replay_running,
            **self.counters,
        }

    # --- applying readings ----------------------------------------------------------------

    @callback
    def set_known_sensors(self, sensor_ids: Iterable[str]) -> None:
        """Keep readings for these sensors only (the inventory's), from now on."""
        known = frozenset(sensor_ids)
        if known == self._known:
            return
        self._known = known
        for sensor_id in [s for s in self.readings if s not in known]:
            del self.readings[sensor_id]  # the sensor was deleted
        for sensor_id in [s for s in self._unknown if s in known]:
            self.readings[sensor_id] = self._unknown.pop(sensor_id)  # listed at last

    @callback
    def restore(self, reading: SensorReading) -> bool:
        """Take a reading restored at start, unless a live one is newer; whether it was taken.

        A live reading older than it is then ignored, as any older reading.
        """
        if reading.sensor_id not in self._known:
            return False
        current = self.readings.get(reading.sensor_id)
        if current is not None and reading.timestamp <= current.timestamp:
            return False
        self.readings[reading.sensor_id] = reading
        return True

    @callback
    def _apply(self, reading: SensorReading) -> None:
        sensor_id = reading.sensor_id
        known = sensor_id in self._known
        current = (self.readings if known else self._unknown).get(sensor_id)
        if current is not None and reading.timestamp <= current.timestamp:
            self._applied["ignored"] += 1  # a repeat, or older than what is shown
            return
        self._applied["readings"] += 1
        if not known:
            self._unknown[sensor_id] = reading
            self._unknown.move_to_end(sensor_id)
            if len(self._unknown) > const.STREAM_UNKNOWN_READINGS_MAX:
                self._unknown.popitem(last=False)
            return  # no entity listens to a sensor the inventory does not list
        self.readings[sensor_id] = reading
        if sensor_id not in self._flushing:  # else the running flush tells it, this reading
            self._pending.add(sensor_id)
            if self._flush_handle is None and self._flush_task is None:
                self._schedule_flush()

    @callback
    def _schedule_flush(self) -> None:
        self._flush_handle = self._hass.loop.call_later(
            const.STREAM_FLUSH_INTERVAL, self._start_flush
        )

    @callback
    def _start_flush(self) -> None:
        self._flush_handle = None
        # Not eager: the task must be known before it runs (it forgets itself when done).
        self._flush_task = self._hass.async_create_background_task(
            self._flush(), f"flush measurement stream {self.organization_id}", eager_start=False
        )

    async def _flush(self) -> None:
        """Tell the pending sensors' entities, a batch at a time; one flush at a time."""
        flushing = self._flushing = self._pending
        self._pending = set()
        # One cause for all the flush's writes. A new context per write (what a write without
        # one gets) keeps its first event, which refers back to it: a reference cycle, with
        # the states it holds, that only a garbage collection frees. Thousands a second at a
        # fast stream made long full collections frequent.
        context = Context()
        try:
            while flushing:
                for _ in range(min(len(flushing), const.STREAM_FLUSH_BATCH)):
                    self._tell(flushing.pop(), context)
                if flushing:
                    await asyncio.sleep(0)  # the event loop runs between two batches
        finally:
            self._flush_task = None
        if self._pending:  # readings that came during the flush, after their sensor's turn
            self._schedule_flush()

    @callback
    def _tell(self, sensor_id: str, context: Context) -> None:
        for listener in list(self._listeners.get(sensor_id, ())):
            try:
                listener(context)
            except Exception:  # noqa: BLE001 - one failing entity must not stop the rest
                LOGGER.exception("Error updating the entity of sensor %s", sensor_id)

    @callback
    def _status_changed(self) -> None:
        for listener in list(self._status_listeners):
            listener()

    # --- the connection -------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the live stream open (see LiveMeasurements) until cancelled."""
        try:
            await self.live.run()
        finally:
            self._stop()

    @callback
    def _connected(self) -> None:
        if self._grace_handle is not None:
            self._grace_handle.cancel()
            self._grace_handle = None
        if self._logged_stale:
            self._logged_stale = False
            LOGGER.info("Measurement stream of %s is back", self.organization_id)
        self._status_changed()

    @callback
    def _grace_over(self) -> None:
        """Readings are stale now: tell the entities, and the log once."""
        self._grace_handle = None
        # A stream closed on purpose (consent withdrawn) is reported by the coordinator.
        if self.allowed and not self._logged_stale:
            self._logged_stale = True
            LOGGER.info(
                "Measurement stream of %s down for more than %s: its values are unavailable",
                self.organization_id,
                const.STREAM_GRACE,
            )
        self._status_changed()

    @callback
    def _disconnected(self) -> None:
        self.disconnected_at = dt_util.utcnow()
        # The connectivity sensor shows the drop now; readings stay fresh through the
        # grace period (their entities write nothing new), and go stale when it ends.
        self._grace_handle = self._hass.loop.call_later(
            const.STREAM_GRACE.total_seconds(), self._grace_over
        )
        self._status_changed()

    @callback
    def _stop(self) -> None:
        for handle in (self._flush_handle, self._grace_handle):
            if handle is not None:
                handle.cancel()
        if self._flush_task is not None:
            self._flush_task.cancel()  # the entities are going: no batch is written after this
        self.live.stop()
