"""Async client of the EcoStruxure Facility Expert Data API."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, Protocol
from urllib.parse import quote

import aiohttp

from ..errors import InvalidResponseError
from ..pacing import DEFAULT_CONCURRENCY, ConnectionLimit, RetryPolicy
from ..transport import DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, HttpTransport, QueryParams
from . import paths
from .models import Alarm, AlarmStatus, Asset, Interval, LatestValue, Series, Site, SiteDetail
from .parsing import (
    Page,
    parse_alarms_page,
    parse_assets,
    parse_latest_values,
    parse_series_page,
    parse_site_detail,
    parse_sites_page,
)

# A service that keeps answering with full pages must not keep a caller looping for ever.
_MAX_PAGES: Final = 1000


class _Identified(Protocol):
    """An item of a paged list: its id tells a repeat."""

    @property
    def id(self) -> str: ...


def _site_path(template: str, site_id: str) -> str:
    # Ids are opaque: one containing "/" or "?" must stay one path segment.
    return template.format(site_id=quote(site_id, safe=""))


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("Timestamps sent to the service must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class FacilityExpertClient:
    """One Facility Expert account: a subscription key and a technical token.

    The caller owns the aiohttp session (Home Assistant passes its shared one). Requests of
    one client never exceed `max_concurrency` at a time (at most the service's limit of 10);
    clients of the same account share a `limit` instead, since the service counts per account.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        subscription_key: str,
        technical_token: str,
        *,
        base_url: str = paths.DEFAULT_BASE_URL,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        limit: ConnectionLimit | None = None,
        request_timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        page_size: int = paths.PAGE_LIMIT_MAX,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Create a client; nothing is sent until an operation is called.

        An answer larger than `max_body_bytes` once decoded raises InvalidResponseError.
        """
        if not 1 <= page_size <= paths.PAGE_LIMIT_MAX:
            raise ValueError(f"page_size must be between 1 and {paths.PAGE_LIMIT_MAX}")
        self._page_size = page_size
        self._transport = HttpTransport(
            session,
            base_url,
            {
                paths.HEADER_SUBSCRIPTION_KEY: subscription_key,
                paths.HEADER_TECHNICAL_TOKEN: technical_token,
            },
            max_concurrency=max_concurrency,
            limit=limit,
            request_timeout=request_timeout,
            retry=retry,
            sleep=sleep,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        """Describe the client without its secrets."""
        return f"FacilityExpertClient(base_url={self._transport.base_url!r})"

    @property
    def base_url(self) -> str:
        """The service's base URL, without a trailing slash."""
        return self._transport.base_url

    async def _all_pages[T: _Identified](
        self, path: str, params: QueryParams, parse: Callable[[object], Page[T]]
    ) -> list[T]:
        """Follow offset/limit pagination until the reported total, or an empty page.

        Any service may cap `limit`: the next offset is the previous one plus the items the
        page held, so a short page is no end. Without a total, only an empty page is.
        A page over the limit asked for is refused (the service ignores paging, and its
        size is unbounded). A page equal to the one before means the offset is ignored:
        without a total that is a list that is not paged (kept once); with a total that
        says there is more, the rest is unreachable and that is an error, not a silent loss.
        An item listed again (the list moved between two pages) is kept once, the first time.
        """
        items: dict[str, T] = {}
        offset = 0
        previous: Page[T] | None = None
        for _ in range(_MAX_PAGES):
            page = parse(
                await self._transport.get_json(
                    path,
                    [*params, ("offset", str(offset)), ("limit", str(self._page_size))],
                )
            )
            if page.received > self._page_size:
                raise InvalidResponseError(
                    f"The service sent {page.received} items for a page of at most "
                    f"{self._page_size}"
                )
            if page.received == 0:
                return list(items.values())
            if previous is not None and page.items and page == previous:
                if page.total_count is None:
                    return list(items.values())
                raise InvalidResponseError(
                    f"The service sent the same page again at offset {offset} "
                    f"of {page.total_count}: it ignores the offset"
                )
            for item in page.items:
                items.setdefault(item.id, item)
            offset += page.received
            if page.total_count is not None and offset >= page.total_count:
                return list(items.values())
            previous = page
        raise InvalidResponseError(f"The list did not end within {_MAX_PAGES} pages")

    async def list_sites(self) -> list[Site]:
        """Return every site the technical token grants access to."""
        return await self._all_pages(paths.SITES, (), parse_sites_page)

    async def get_site(self, site_id: str) -> SiteDetail:
        """Return one site with its gateways and their communication status."""
        return parse_site_detail(await self._transport.get_json(_site_path(paths.SITE, site_id)))

    async def list_assets(self, site_id: str) -> list[Asset]:
        """Return a site's whole asset topology, flat; `parent_id` forms the tree."""
        return parse_assets(await self._transport.get_json(_site_path(paths.ASSETS, site_id)))

    async def get_latest_values(
        self,
        site_id: str,
        asset_ids: Sequence[str] = (),
        *,
        previous: Mapping[str, LatestValue] | None = None,
    ) -> list[LatestValue]:
        """Return the last value of every measurement of a site (or of the given assets).

        A value equal to the one of its measurement in `previous` is returned as that object
        (a poller keeps fewer new objects).
        """
        return parse_latest_values(
            await self._transport.get_json(
                _site_path(paths.LATEST_VALUES, site_id),
                [("assetId", asset_id) for asset_id in asset_ids],
            ),
            previous,
        )

    async def get_time_series(
        self,
        site_id: str,
        measurement_ids: Sequence[str],
        start: datetime,
        end: datetime,
        interval: Interval | str = Interval.HOUR,
    ) -> list[Series]:
        """Values of the measurements in [start, end), all pages, any number of measurements.

        The service takes at most 20 measurements a call: more are requested in batches, and
        the pages of a measurement are joined into one series.
        """
        path = _site_path(paths.TIME_SERIES, site_id)
        window = [("from", _timestamp(start)), ("to", _timestamp(end)), ("interval", interval)]
        joined: dict[str, Series] = {}
        step = paths.TIME_SERIES_MAX_MEASUREMENTS
        for first in range(0, len(measurement_ids), step):
            batch = [("measurementId", mid) for mid in measurement_ids[first : first + step]]
            cursor: str | None = None
            seen_cursors: set[str] = set()
            for _ in range(_MAX_PAGES):
                page = parse_series_page(
                    await self._transport.get_json(
                        path, [*batch, *window, *([("cursor", cursor)] if cursor else [])]
                    )
                )
                for part in page.series:
                    known = joined.get(part.measurement_id)
                    joined[part.measurement_id] = (
                        part
                        if known is None
                        else Series(
                            part.measurement_id,
                            known.points + part.points,
                            part.unit or known.unit,
                            part.interval or known.interval,
                        )
                    )
                cursor = page.next_cursor
                if cursor is None or cursor in seen_cursors:
                    break
                seen_cursors.add(cursor)
        return list(joined.values())

    async def list_alarms(
        self,
        site_id: str,
        status: AlarmStatus | str = AlarmStatus.ACTIVE,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Alarm]:
        """Return a site's alarms, newest first: active ones by default, all pages."""
        params: list[tuple[str, str]] = [("status", status)]
        if start is not None:
            params.append(("from", _timestamp(start)))
        if end is not None:
            params.append(("to", _timestamp(end)))
        return await self._all_pages(_site_path(paths.ALARMS, site_id), params, parse_alarms_page)
