"""Async client of the EcoStruxure IT Expert API: REST lists and changes, measurement streams."""

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
import logging
from urllib.parse import quote

import aiohttp

from ..errors import NotFoundError, StreamClosedError, StreamRateLimitedError
from ..pacing import DEFAULT_CONCURRENCY, RetryPolicy
from ..transport import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, HttpTransport, QueryParams
from . import paths
from .models import (
    Change,
    Changes,
    DeviceWithAncestors,
    InventoryObject,
    ITAlarm,
    Sensor,
    SensorReading,
    Snapshot,
)
from .parsing import (
    parse_alarm_changes,
    parse_alarms,
    parse_device,
    parse_inventory,
    parse_inventory_changes,
    parse_organizations,
    parse_sensor_changes,
    parse_sensors,
)
from .stream_lines import StreamSignal, parse_stream_line

_LOGGER = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 300.0
DEFAULT_MAX_CHANGE_PAGES = 20


def _path(template: str, organization_id: str, **segments: str) -> str:
    # Ids and offsets are opaque: one containing "/" or "?" must stay one path segment.
    return template.format(
        organization_id=quote(organization_id, safe=""),
        **{name: quote(value, safe="") for name, value in segments.items()},
    )


def _check_offset(offset: int) -> str:
    if offset < 0:
        raise ValueError("Offsets are non-negative")
    return str(offset)


def _check_idle_timeout(idle_timeout: float) -> None:
    if not idle_timeout > 0:
        raise ValueError("idle_timeout must be positive")


class ITExpertClient:
    """One IT Expert API key, which may cover several organizations.

    The caller owns the aiohttp session. REST requests of one client never exceed
    `max_concurrency` at a time; measurement streams are long-lived and take no such slot.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str = paths.DEFAULT_BASE_URL,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        request_timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_change_pages: int = DEFAULT_MAX_CHANGE_PAGES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Create a client; nothing is sent until an operation is called.

        An answer larger than `max_body_bytes` once decoded raises InvalidResponseError.
        """
        if max_change_pages < 1:
            raise ValueError("max_change_pages must be at least 1")
        self._max_change_pages = max_change_pages
        self._transport = HttpTransport(
            session,
            base_url,
            # The key is sent exactly as issued (it may contain "/"), and only in this header.
            {paths.HEADER_AUTHORIZATION: f"{paths.AUTHORIZATION_SCHEME} {api_key}"},
            max_concurrency=max_concurrency,
            request_timeout=request_timeout,
            retry=retry,
            sleep=sleep,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        """Describe the client without its key."""
        return f"ITExpertClient(base_url={self._transport.base_url!r})"

    @property
    def base_url(self) -> str:
        """The service's base URL, without a trailing slash."""
        return self._transport.base_url

    # --- REST ---------------------------------------------------------------------------

    async def organizations(self) -> tuple[str, ...]:
        """Return the ids of the organizations the key covers (a revoked consent drops one)."""
        return parse_organizations(await self._transport.get_json(paths.ORGANIZATIONS))

    async def inventory(self, organization_id: str) -> Snapshot[InventoryObject]:
        """Return the organization, its locations and its devices, and the offset reached."""
        payload = await self._transport.get_json(_path(paths.INVENTORY, organization_id))
        return parse_inventory(payload, organization_id)

    async def inventory_changes(
        self, organization_id: str, offset: int
    ) -> Changes[InventoryObject]:
        """Return the inventory changes after `offset`, following pages up to the limit."""
        return await self._changes(
            paths.INVENTORY_CHANGES,
            organization_id,
            offset,
            lambda payload: parse_inventory_changes(payload, organization_id),
        )

    async def device(self, organization_id: str, device_id: str) -> DeviceWithAncestors | None:
        """Return a device and its ancestors, nearest first; None if the service has no such.

        Alarms can name devices that are not (yet, or any longer) visible: that is no error.
        """
        path = _path(paths.DEVICE, organization_id, device_id=device_id)
        try:
            payload = await self._transport.get_json(path)
        except NotFoundError:
            return None
        return parse_device(payload, organization_id)

    async def sensors(self, organization_id: str) -> Snapshot[Sensor]:
        """Return every sensor of the organization's devices, and the offset reached."""
        payload = await self._transport.get_json(_path(paths.SENSORS, organization_id))
        return parse_sensors(payload)

    async def sensor_changes(self, organization_id: str, offset: int) -> Changes[Sensor]:
        """Return the sensor changes after `offset`, following pages up to the limit."""
        return await self._changes(
            paths.SENSOR_CHANGES, organization_id, offset, parse_sensor_changes
        )

    async def alarms(self, organization_id: str) -> Snapshot[ITAlarm]:
        """Return the active alarms and those cleared lately, and the offset reached."""
        payload = await self._transport.get_json(_path(paths.ALARMS, organization_id))
        return parse_alarms(payload)

    async def alarm_changes(self, organization_id: str, offset: int) -> Changes[ITAlarm]:
        """Return the alarms changed after `offset` (all upserts), following pages."""
        return await self._changes(
            paths.ALARM_CHANGES, organization_id, offset, parse_alarm_changes
        )

    async def _changes[T](
        self,
        template: str,
        organization_id: str,
        offset: int,
        parse: Callable[[object], Changes[T]],
    ) -> Changes[T]:
        """Ask again from each returned offset until it stops moving, or the page limit.

        The service is caught up when it returns the offset it was sent.
        """
        collected: list[Change[T]] = []
        current = offset
        for _ in range(self._max_change_pages):
            path = _path(template, organization_id, offset=_check_offset(current))
            page = parse(await self._transport.get_json(path))
            collected.extend(page.changes)
            if page.offset == current:
                return Changes(current, tuple(collected), caught_up=True)
            current = page.offset
        return Changes(current, tuple(collected), caught_up=False)

    # --- measurement streams ------------------------------------------------------------

    def live_measurements(
        self,
        organization_id: str,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[SensorReading]:
        """Yield the organization's measurements as they are produced, until the stream drops.

        Ends only by raising: StreamClosedError (the end of the stream, `idle_timeout`
        seconds without even a heartbeat, a broken connection), StreamRateLimitedError,
        or the error of an error status. Reconnect after either of the first two.
        `on_connected` is called once the service accepted the stream.
        """
        _check_idle_timeout(idle_timeout)
        return self._measurements(
            _path(paths.LIVE_MEASUREMENTS, organization_id),
            (),
            idle_timeout,
            replay=False,
            on_connected=on_connected,
        )

    def simulated_live_measurements(
        self,
        organization_id: str,
        *,
        per_second: int,
        sensor_count: int,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[SensorReading]:
        """Like live_measurements, with random values at the rate asked, for load tests."""
        _check_idle_timeout(idle_timeout)
        if per_second < 1 or sensor_count < 1:
            raise ValueError("per_second and sensor_count must be at least 1")
        return self._measurements(
            _path(paths.SIMULATED_LIVE_MEASUREMENTS, organization_id),
            (("measurementsPerSecond", str(per_second)), ("sensorCount", str(sensor_count))),
            idle_timeout,
            replay=False,
            on_connected=on_connected,
        )

    def replay_measurements(
        self,
        organization_id: str,
        from_offset: str,
        to_offset: str,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[SensorReading]:
        """Yield the measurements after `from_offset` up to `to_offset`, then stop.

        Returns normally only once the service said the replay completed. A replay cut off
        before raises StreamClosedError (restart it from the last offset received, with the
        same `to_offset`); StreamRateLimitedError and error statuses as for the live stream.
        """
        _check_idle_timeout(idle_timeout)
        if not from_offset or not to_offset:
            raise ValueError("A replay needs both offsets")
        return self._measurements(
            _path(paths.REPLAY_MEASUREMENTS, organization_id),
            (("fromOffset", from_offset), ("toOffset", to_offset)),
            idle_timeout,
            replay=True,
            on_connected=on_connected,
        )

    async def _measurements(
        self,
        path: str,
        params: QueryParams,
        idle_timeout: float,
        *,
        replay: bool,
        on_connected: Callable[[], None] | None,
    ) -> AsyncGenerator[SensorReading]:
        # aclosing: however the consumer leaves, the HTTP response is closed at once.
        async with aclosing(
            self._transport.stream_lines(
                path, params, idle_timeout=idle_timeout, on_connected=on_connected
            )
        ) as lines:
            async for line in lines:
                parsed = parse_stream_line(line)
                if isinstance(parsed, SensorReading):
                    yield parsed
                elif parsed is StreamSignal.RATE_LIMITED:
                    raise StreamRateLimitedError(
                        "The service cut the measurement stream: rate limit reached"
                    )
                elif parsed is StreamSignal.COMPLETED:
                    if replay:
                        return
                    _LOGGER.debug("Ignoring a completion message on a live stream")
        # stream_lines only ends by raising; this keeps the promise if that ever changed.
        raise StreamClosedError("The measurement stream ended")  # pragma: no cover
