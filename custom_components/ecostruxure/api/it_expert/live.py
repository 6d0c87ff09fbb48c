"""Keeping an organization's live measurement stream open: reconnects, backoff and replays.

Any drop is followed by a reconnect with backoff (the delay a rate limit asks for, if any);
the gap is then asked for as a replay, from the last offset seen before the drop to the first
one after it, unless the service refused a replay recently. The caller gets the readings and
the connection's changes through callbacks; what it does with them is its own business.
"""

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import logging
import random
import time

from ..errors import (
    AuthenticationError,
    EcoStruxureError,
    ForbiddenError,
    InvalidRequestError,
    RateLimitedError,
    RedirectError,
    StreamRateLimitedError,
)
from .client import ITExpertClient
from .models import SensorReading

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveTimings:
    """How patient the stream is; the defaults suit the real service."""

    idle_timeout: float = 180.0  # no byte (not even a heartbeat) for this long: dropped
    backoff_initial: float = 5.0
    backoff_max: float = 300.0
    healthy_after: float = 60.0  # a connection this old resets the backoff
    replay_attempts: int = 3  # a replay that breaks off resumes, this many times in all
    replay_pause: timedelta = timedelta(hours=1)  # no replay asked after a refusal


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _nothing() -> None:
    return None


class LiveMeasurements:
    """The live stream of one organization, reconnected for as long as `run` runs."""

    def __init__(
        self,
        client: ITExpertClient,
        organization_id: str,
        *,
        on_reading: Callable[[SensorReading], None],
        on_connected: Callable[[], None] = _nothing,
        on_disconnected: Callable[[], None] = _nothing,
        on_offset: Callable[[], None] = _nothing,
        timings: LiveTimings | None = None,
        now: Callable[[], datetime] = _utcnow,
        resume_from: str | None = None,
    ) -> None:
        """Prepare the stream; `run` opens it once `set_allowed(True)` lets it.

        `resume_from`: the offset a previous run stored (see `resume_offset`); what came
        after it is replayed once the live stream gives its first offset.
        `on_offset` is called whenever `resume_offset` may have moved.
        """
        self._client = client
        self.organization_id = organization_id
        self._on_reading = on_reading
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_offset = on_offset
        self._timings = timings or LiveTimings()
        self._now = now
        self.connected = False
        self._allowed = asyncio.Event()
        # Replay bookkeeping: the last offset seen, and the gap a reconnect left open.
        # A stored offset is a gap like any other: from it to the first live offset.
        self._last_offset: str | None = resume_from
        self._gap_from: str | None = resume_from
        self._resume_from = resume_from
        self._replay_from: str | None = None  # the replay's progress
        self._replay: asyncio.Task[None] | None = None
        self._live: asyncio.Task[float | None] | None = None
        self._replay_paused_until: datetime | None = None
        self.counters: dict[str, int] = dict.fromkeys(
            ("connections", "drops", "replays", "replays_completed", "replays_refused"), 0
        )

    @property
    def allowed(self) -> bool:
        """Whether the stream may connect (the organization is accessible)."""
        return self._allowed.is_set()

    @property
    def replay_running(self) -> bool:
        """Whether a replay is being read."""
        return self._replay is not None and not self._replay.done()

    @property
    def resume_offset(self) -> str | None:
        """The offset to resume from after a restart: every reading after it may be unread.

        The start of a gap not replayed yet, else the progress of the running replay, else
        the last offset of the live stream. A replay cancelled (by a stop) keeps its progress.
        """
        if self._gap_from is not None:
            return self._gap_from
        if self._replay_from is not None:
            return self._replay_from
        return self._last_offset

    def set_allowed(self, allowed: bool) -> None:
        """Let the stream connect, or keep it closed (consent revoked, key refused)."""
        if allowed:
            self._allowed.set()
            return
        self._allowed.clear()
        if self._live is not None and not self._live.done():
            self._live.cancel()  # no reading from an organization that withdrew its consent

    async def run(self) -> None:
        """Keep the live stream open: reconnect after every drop, with backoff."""
        timings = self._timings
        backoff = timings.backoff_initial
        try:
            while True:
                await self._allowed.wait()
                started = time.monotonic()
                self._live = asyncio.create_task(self.read_until_dropped())
                try:
                    retry_after = await self._live
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # the caller stops the stream
                    self._disconnected()  # access withdrawn: see set_allowed
                    continue
                if time.monotonic() - started >= timings.healthy_after:
                    backoff = timings.backoff_initial
                delay = retry_after if retry_after is not None else backoff
                backoff = min(backoff * 2, timings.backoff_max)
                # Jitter: the streams of several organizations do not reconnect in step.
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        finally:
            self.stop()

    async def read_until_dropped(self) -> float | None:
        """Read the live stream once, until it ends; the delay the service asked for, if any."""
        retry_after: float | None = None
        try:
            async with aclosing(
                self._client.live_measurements(
                    self.organization_id,
                    idle_timeout=self._timings.idle_timeout,
                    on_connected=self._connected,
                )
            ) as readings:
                async for reading in readings:
                    if reading.offset is not None:
                        self._offset_seen(reading.offset)
                    self._on_reading(reading)
        except (AuthenticationError, ForbiddenError) as err:
            # The caller sees the same refusal elsewhere and allows the stream again once
            # access is back.
            _LOGGER.debug("Measurement stream of %s refused: %s", self.organization_id, err)
            self.set_allowed(False)
        except RateLimitedError as err:
            retry_after = err.retry_after
            _LOGGER.debug("Measurement stream of %s rate limited", self.organization_id)
        except EcoStruxureError as err:
            _LOGGER.debug("Measurement stream of %s dropped: %s", self.organization_id, err)
        self._disconnected()
        return retry_after

    def stop(self) -> None:
        """Stop reading: the live stream and any replay."""
        for task in (self._replay, self._live):
            if task is not None:
                task.cancel()
        self.connected = False

    def _connected(self) -> None:
        self.connected = True
        self.counters["connections"] += 1
        self._on_connected()

    def _disconnected(self) -> None:
        if not self.connected:
            return
        self.connected = False
        self.counters["drops"] += 1
        if self._gap_from is None:
            self._gap_from = self._last_offset
        self._on_disconnected()

    def _offset_seen(self, offset: str) -> None:
        gap_from, self._gap_from = self._gap_from, None
        self._last_offset = offset
        if gap_from is not None and gap_from != offset:
            self._start_replay(gap_from, offset)
        self._on_offset()

    def _start_replay(self, from_offset: str, to_offset: str) -> None:
        if self._replay_paused_until is not None and self._now() < self._replay_paused_until:
            return
        if self.replay_running:
            return  # one at a time: the service's replay limit is low
        self.counters["replays"] += 1
        self._replay_from = from_offset
        self._replay = asyncio.create_task(
            self.replay(from_offset, to_offset), name=f"replay {self.organization_id}"
        )

    async def replay(self, from_offset: str, to_offset: str) -> None:
        """Read the readings of a gap; a replay that breaks off resumes where it stopped."""
        for _ in range(self._timings.replay_attempts):
            try:
                async with aclosing(
                    self._client.replay_measurements(
                        self.organization_id,
                        from_offset,
                        to_offset,
                        idle_timeout=self._timings.idle_timeout,
                    )
                ) as readings:
                    async for reading in readings:
                        if reading.offset is not None:
                            from_offset = self._replay_from = reading.offset
                            self._on_offset()
                        self._on_reading(reading)
            except StreamRateLimitedError, RateLimitedError:
                self.counters["replays_refused"] += 1
                self._replay_paused_until = self._now() + self._timings.replay_pause
                _LOGGER.debug("Replay for %s refused by the rate limit", self.organization_id)
                self._lost("the service refused it (rate limit)")
                break
            except InvalidRequestError, AuthenticationError, ForbiddenError, RedirectError:
                # Offsets expired, access gone or the service elsewhere: the gap cannot be had.
                self._lost("the service refused its offsets (expired)")
                break
            except EcoStruxureError:
                await asyncio.sleep(self._timings.backoff_initial)
                continue
            self.counters["replays_completed"] += 1
            self._resume_from = None
            break
        else:
            self._lost("it kept breaking off")
        self._replay_from = None
        self._on_offset()

    def _lost(self, reason: str) -> None:
        """Say once, in the log, that the readings measured before a restart are not replayed.

        The first gap is the one since the stored offset; the gaps of a running stream are
        short and counted (diagnostics), not logged.
        """
        if self._resume_from is None:
            return
        self._resume_from = None
        _LOGGER.info(
            "Readings of %s measured while stopped are not replayed: %s",
            self.organization_id,
            reason,
        )
