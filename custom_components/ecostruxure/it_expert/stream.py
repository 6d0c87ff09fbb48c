"""The live measurement stream of one organization, kept open for as long as the entry runs.

Readings are applied as they arrive (a reading never moves a sensor back in time, so repeated
and late lines are harmless) and the sensors that changed are told together, at most once a
second, so that a burst does not flood the state machine. Any drop is followed by a reconnect
with backoff; the gap is then asked for as a replay, from the last offset seen before the drop
to the first one after it, unless the service refused a replay recently.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import aclosing
from datetime import datetime
import random
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..api.errors import (
    AuthenticationError,
    EcoStruxureError,
    ForbiddenError,
    InvalidRequestError,
    RateLimitedError,
    RedirectError,
    StreamRateLimitedError,
)
from ..api.it_expert.client import ITExpertClient
from ..api.it_expert.models import SensorReading
from ..const import LOGGER
from . import const


class MeasurementStream:
    """Latest reading of every sensor of one organization, from its live stream."""

    def __init__(self, hass: HomeAssistant, client: ITExpertClient, organization_id: str) -> None:
        """Prepare the stream; `run` opens it."""
        self._hass = hass
        self._client = client
        self.organization_id = organization_id
        # Readings of the sensors the inventory lists; those of others, which may arrive
        # before the inventory lists them (or never: the service chooses), wait in a
        # bounded cache, oldest dropped first.
        self.readings: dict[str, SensorReading] = {}
        self._known: frozenset[str] = frozenset()
        self._unknown: OrderedDict[str, SensorReading] = OrderedDict()
        self.connected = False
        self.disconnected_at: datetime | None = None
        self._allowed = asyncio.Event()
        self._listeners: dict[str, list[CALLBACK_TYPE]] = {}
        self._status_listeners: list[CALLBACK_TYPE] = []
        self._pending: set[str] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._grace_handle: asyncio.TimerHandle | None = None
        self._logged_stale = False  # "unavailable" logged, "available again" not yet
        # Replay bookkeeping: the last offset seen, and the gap a reconnect left open.
        self._last_offset: str | None = None
        self._gap_from: str | None = None
        self._replay: asyncio.Task[None] | None = None
        self._live: asyncio.Task[float | None] | None = None
        self._replay_paused_until: datetime | None = None
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "connections",
                "drops",
                "readings",
                "ignored",
                "replays",
                "replays_completed",
                "replays_refused",
            ),
            0,
        )

    # --- what entities see ----------------------------------------------------------------

    @property
    def allowed(self) -> bool:
        """Whether the stream may connect (the organization is accessible)."""
        return self._allowed.is_set()

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
    def async_add_listener(self, sensor_id: str, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Call `listener` when the sensor has a new reading; returns the remover."""
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
        if allowed:
            self._allowed.set()
            return
        self._allowed.clear()
        if self._live is not None and not self._live.done():
            self._live.cancel()  # no reading from an organization that withdrew its consent

    def diagnostics(self) -> dict[str, Any]:
        """State and counters, without offsets (they are long and meaningless to a reader)."""
        return {
            "connected": self.connected,
            "allowed": self.allowed,
            "disconnected_at": self.disconnected_at.isoformat() if self.disconnected_at else None,
            "sensors_with_readings": len(self.readings),
            "readings_of_unlisted_sensors": len(self._unknown),
            "replay_running": self._replay is not None and not self._replay.done(),
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
    def _apply(self, reading: SensorReading) -> None:
        sensor_id = reading.sensor_id
        known = sensor_id in self._known
        current = (self.readings if known else self._unknown).get(sensor_id)
        if current is not None and reading.timestamp <= current.timestamp:
            self.counters["ignored"] += 1  # a repeat, or older than what is shown
            return
        self.counters["readings"] += 1
        if not known:
            self._unknown[sensor_id] = reading
            self._unknown.move_to_end(sensor_id)
            if len(self._unknown) > const.STREAM_UNKNOWN_READINGS_MAX:
                self._unknown.popitem(last=False)
            return  # no entity listens to a sensor the inventory does not list
        self.readings[sensor_id] = reading
        self._pending.add(sensor_id)
        if self._flush_handle is None:
            self._flush_handle = self._hass.loop.call_later(
                const.STREAM_FLUSH_INTERVAL, self._flush
            )

    @callback
    def _flush(self) -> None:
        self._flush_handle = None
        pending, self._pending = self._pending, set()
        for sensor_id in pending:
            for listener in list(self._listeners.get(sensor_id, ())):
                try:
                    listener()
                except Exception:  # noqa: BLE001 - one failing entity must not stop the rest
                    LOGGER.exception("Error updating the entity of sensor %s", sensor_id)

    @callback
    def _status_changed(self) -> None:
        for listener in list(self._status_listeners):
            listener()

    # --- the connection -------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the live stream open: reconnect after every drop, with backoff."""
        backoff = const.STREAM_BACKOFF_INITIAL
        try:
            while True:
                await self._allowed.wait()
                started = time.monotonic()
                self._live = asyncio.create_task(self._read_live())
                try:
                    retry_after = await self._live
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # the entry is unloading
                    self._disconnected()  # access withdrawn: see set_allowed
                    continue
                if time.monotonic() - started >= const.STREAM_HEALTHY_AFTER:
                    backoff = const.STREAM_BACKOFF_INITIAL
                delay = retry_after if retry_after is not None else backoff
                backoff = min(backoff * 2, const.STREAM_BACKOFF_MAX)
                # Jitter: the streams of several organizations do not reconnect in step.
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        finally:
            self._stop()

    async def _read_live(self) -> float | None:
        """Read the live stream until it ends; the delay the service asked for, if any."""
        retry_after: float | None = None
        try:
            async with aclosing(
                self._client.live_measurements(
                    self.organization_id,
                    idle_timeout=const.STREAM_IDLE_TIMEOUT,
                    on_connected=self._connected,
                )
            ) as readings:
                async for reading in readings:
                    if reading.offset is not None:
                        self._offset_seen(reading.offset)
                    self._apply(reading)
        except (AuthenticationError, ForbiddenError) as err:
            # The coordinator sees the same refusal, starts reauth or raises the consent
            # issue, and lets the stream connect again once access is back.
            LOGGER.debug("Measurement stream of %s refused: %s", self.organization_id, err)
            self.set_allowed(False)
        except RateLimitedError as err:
            retry_after = err.retry_after
            LOGGER.debug("Measurement stream of %s rate limited", self.organization_id)
        except EcoStruxureError as err:
            LOGGER.debug("Measurement stream of %s dropped: %s", self.organization_id, err)
        self._disconnected()
        return retry_after

    @callback
    def _connected(self) -> None:
        self.connected = True
        self.counters["connections"] += 1
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
        if not self.connected:
            return
        self.connected = False
        self.counters["drops"] += 1
        self.disconnected_at = dt_util.utcnow()
        if self._gap_from is None:
            self._gap_from = self._last_offset
        # Readings go stale after the grace period: tell the entities then.
        self._grace_handle = self._hass.loop.call_later(
            const.STREAM_GRACE.total_seconds(), self._grace_over
        )

    @callback
    def _offset_seen(self, offset: str) -> None:
        gap_from, self._gap_from = self._gap_from, None
        self._last_offset = offset
        if gap_from is not None and gap_from != offset:
            self._start_replay(gap_from, offset)

    @callback
    def _stop(self) -> None:
        for handle in (self._flush_handle, self._grace_handle):
            if handle is not None:
                handle.cancel()
        for task in (self._replay, self._live):
            if task is not None:
                task.cancel()
        self.connected = False

    # --- replay ---------------------------------------------------------------------------

    @callback
    def _start_replay(self, from_offset: str, to_offset: str) -> None:
        now = dt_util.utcnow()
        if self._replay_paused_until is not None and now < self._replay_paused_until:
            return
        if self._replay is not None and not self._replay.done():
            return  # one at a time: the service's replay limit is low
        self.counters["replays"] += 1
        self._replay = self._hass.async_create_background_task(
            self._run_replay(from_offset, to_offset),
            f"ecostruxure replay {self.organization_id}",
        )

    async def _run_replay(self, from_offset: str, to_offset: str) -> None:
        """Fetch the readings of a gap; a replay that breaks off resumes where it stopped."""
        for _ in range(const.REPLAY_ATTEMPTS):
            try:
                async with aclosing(
                    self._client.replay_measurements(
                        self.organization_id,
                        from_offset,
                        to_offset,
                        idle_timeout=const.STREAM_IDLE_TIMEOUT,
                    )
                ) as readings:
                    async for reading in readings:
                        if reading.offset is not None:
                            from_offset = reading.offset
                        self._apply(reading)
            except StreamRateLimitedError, RateLimitedError:
                self.counters["replays_refused"] += 1
                self._replay_paused_until = dt_util.utcnow() + const.REPLAY_PAUSE_AFTER_REFUSAL
                LOGGER.debug("Replay for %s refused by the rate limit", self.organization_id)
                return
            except InvalidRequestError, AuthenticationError, ForbiddenError, RedirectError:
                # Offsets expired, access gone or the service elsewhere: the gap cannot be had.
                return
            except EcoStruxureError:
                await asyncio.sleep(const.STREAM_BACKOFF_INITIAL)
                continue
            self.counters["replays_completed"] += 1
            return
