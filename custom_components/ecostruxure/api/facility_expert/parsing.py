"""Defensive parsers from decoded JSON to the models.

The field names are inferred, so every parser accepts what a careful reading of the contract
allows: unknown fields are ignored, optional fields may be missing or null or of the wrong
type (then treated as missing), ids may be numbers (kept as strings), lists may arrive bare or
wrapped. A malformed item is skipped and logged, keeping the rest; a body whose overall shape
is wrong raises InvalidResponseError. No other exception escapes.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import math
from typing import Final, cast

from ..errors import InvalidResponseError
from ..json_reading import (
    ID_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    UNIT_MAX,
    JsonObject,
    MalformedItemError,
    clean_text,
    finite_float,
    json_object,
    optional_id,
    optional_int,
    optional_str,
    parse_items,
    required_id,
    sane_datetime,
    strings,
)
from .models import (
    Address,
    Alarm,
    Asset,
    ConnectionStatus,
    Gateway,
    LatestValue,
    Measurement,
    Series,
    Site,
    SiteDetail,
    TimeSeriesPoint,
)


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a paginated list and the total the service reports, if any."""

    items: list[T]
    total_count: int | None
    # Items the page held, malformed ones included: paging advances by this, not by `items`.
    received: int


@dataclass(frozen=True, slots=True)
class SeriesPage:
    """One page of the time-series operation."""

    series: list[Series]
    next_cursor: str | None


# --- field readers ----------------------------------------------------------------------


def _required_str(obj: JsonObject, name: str, limit: int = NAME_MAX) -> str:
    if (value := clean_text(obj.get(name), limit)) is not None:
        return value
    raise MalformedItemError(f"{name} missing or not a string")


def _name(obj: JsonObject, object_id: str) -> str:
    """The object's name, else its id (an id may be longer than a name may: cut it too)."""
    return optional_str(obj, "name") or clean_text(object_id) or object_id[:NAME_MAX]


def _optional_float(obj: JsonObject, name: str) -> float | None:
    return finite_float(obj.get(name))


def _coordinate(obj: JsonObject, name: str, bound: float) -> float | None:
    """A latitude (bound 90) or longitude (bound 180); out of range is missing."""
    value = finite_float(obj.get(name))
    return value if value is not None and -bound <= value <= bound else None


def _optional_bool(obj: JsonObject, name: str) -> bool | None:
    value = obj.get(name)
    return value if isinstance(value, bool) else None


def parse_datetime(value: object) -> datetime | None:
    """Parse an ISO 8601 timestamp to an aware datetime (naive ones are taken as UTC).

    One outside the sane window (see json_reading.sane_datetime) counts as missing.
    """
    return sane_datetime(value)


def _required_datetime(obj: JsonObject, name: str) -> datetime:
    parsed = parse_datetime(obj.get(name))
    if parsed is None:
        raise MalformedItemError(f"{name} missing or not an ISO 8601 timestamp")
    return parsed


def _optional_datetime(obj: JsonObject, name: str) -> datetime | None:
    return parse_datetime(obj.get(name))


# --- containers -------------------------------------------------------------------------


def _list(payload: object, key: str) -> list[object]:
    """Return the items of a list that arrives wrapped (`{key: [...]}`) or bare (`[...]`)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        items = payload.get(key)
        if isinstance(items, list):
            return items
    raise InvalidResponseError(f"Expected a list of {key}")


def _total(payload: object) -> int | None:
    return (
        optional_int(cast(JsonObject, payload), "totalCount") if isinstance(payload, dict) else None
    )


# --- resources --------------------------------------------------------------------------


def _address(value: object) -> Address:
    if not isinstance(value, dict):
        return Address()
    obj = cast(JsonObject, value)
    return Address(
        street=optional_str(obj, "street"),
        city=optional_str(obj, "city"),
        zip_code=optional_str(obj, "zipCode"),
        country=optional_str(obj, "country"),
    )


def _site(obj: JsonObject) -> Site:
    site_id = required_id(obj, "id")
    return Site(
        id=site_id,
        name=_name(obj, site_id),
        address=_address(obj.get("address")),
        time_zone=optional_str(obj, "timeZone"),
        latitude=_coordinate(obj, "latitude", 90),
        longitude=_coordinate(obj, "longitude", 180),
        connection_status=optional_str(obj, "connectionStatus") or ConnectionStatus.UNKNOWN,
        last_communication=_optional_datetime(obj, "lastCommunication"),
    )


def _gateway(obj: JsonObject) -> Gateway:
    gateway_id = required_id(obj, "id")
    return Gateway(
        id=gateway_id,
        name=_name(obj, gateway_id),
        model=optional_str(obj, "model"),
        serial_number=optional_str(obj, "serialNumber"),
        firmware_version=optional_str(obj, "firmwareVersion"),
        connection_status=optional_str(obj, "connectionStatus") or ConnectionStatus.UNKNOWN,
        last_communication=_optional_datetime(obj, "lastCommunication"),
    )


def _measurement(obj: JsonObject) -> Measurement:
    measurement_id = required_id(obj, "id")
    return Measurement(
        id=measurement_id,
        name=_name(obj, measurement_id),
        quantity=_required_str(obj, "quantity"),
        unit=optional_str(obj, "unit", UNIT_MAX),
        phase=optional_str(obj, "phase"),
        context=optional_str(obj, "context"),
    )


def _asset(obj: JsonObject) -> Asset:
    asset_id = required_id(obj, "id")
    measurements = obj.get("measurements")
    return Asset(
        id=asset_id,
        name=_name(obj, asset_id),
        type=optional_str(obj, "type") or "unknown",
        parent_id=optional_id(obj, "parentId"),
        functional_name=optional_str(obj, "functionalName"),
        manufacturer=optional_str(obj, "manufacturer"),
        model=optional_str(obj, "model"),
        commercial_reference=optional_str(obj, "commercialReference"),
        serial_number=optional_str(obj, "serialNumber"),
        firmware_version=optional_str(obj, "firmwareVersion"),
        gateway_id=optional_id(obj, "gatewayId"),
        measurements=tuple(
            parse_items(measurements, "measurement", _measurement)
            if isinstance(measurements, list)
            else ()
        ),
        alarm_types=strings(obj.get("alarmTypes")),
    )


# A timestamp not read yet in this answer (None is one read and refused).
_UNREAD: Final = cast(datetime, object())


def _latest_value_reader(
    previous: Mapping[str, LatestValue],
) -> Callable[[JsonObject], LatestValue]:
    """A reader of the latest values of one answer, the cost of a cycle with many sites.

    A gateway samples its devices at once, so timestamps repeat: each distinct one is read
    once, against one `now` (the same checks as `_required_datetime`). A plain finite float,
    the usual value, skips the general number reader. A value equal to its `previous` one is
    that object: most values do not change between two polls, and objects that outlive a
    cycle are what makes the garbage collector's passes long.
    """
    now = datetime.now(UTC)
    stamps: dict[str, datetime | None] = {}

    def read(obj: JsonObject) -> LatestValue:
        raw = obj.get("timestamp")
        timestamp = None
        if type(raw) is str:
            timestamp = stamps.get(raw, _UNREAD)
            if timestamp is _UNREAD:
                timestamp = stamps[raw] = sane_datetime(raw, now)
        value = obj.get("value")
        measurement_id = obj.get("measurementId")
        # Most values are as before: the previous object's fields were checked when it was
        # made, so equal raw fields need no checks of their own.
        if (
            type(measurement_id) is str
            and (old := previous.get(measurement_id)) is not None
            and type(value) is float
            and value == old.value
            and timestamp == old.timestamp
            and obj.get("assetId") == old.asset_id
        ):
            return old
        if timestamp is None:
            raise MalformedItemError("timestamp missing or not an ISO 8601 timestamp")
        # The usual ids are short strings: checked here, the rest by the general readers.
        if type(measurement_id) is not str or not 0 < len(measurement_id) <= ID_MAX:
            measurement_id = required_id(obj, "measurementId")
        asset_id = obj.get("assetId")
        if type(asset_id) is not str or not 0 < len(asset_id) <= ID_MAX:
            asset_id = optional_id(obj, "assetId")
        if type(value) is not float or not math.isfinite(value):
            value = finite_float(value)
        old = previous.get(measurement_id)
        if (
            old is not None
            and old.value == value
            and old.timestamp == timestamp
            and old.asset_id == asset_id
        ):
            return old
        return LatestValue(measurement_id, timestamp, value, asset_id)

    return read


def _point(obj: JsonObject) -> TimeSeriesPoint:
    return TimeSeriesPoint(
        timestamp=_required_datetime(obj, "timestamp"), value=_optional_float(obj, "value")
    )


def _series(obj: JsonObject) -> Series:
    values = obj.get("values")
    points = parse_items(values, "time-series point", _point) if isinstance(values, list) else []
    return Series(
        measurement_id=required_id(obj, "measurementId"),
        points=tuple(sorted(points, key=lambda point: point.timestamp)),
        unit=optional_str(obj, "unit", UNIT_MAX),
        interval=optional_str(obj, "interval"),
    )


def _alarm(obj: JsonObject) -> Alarm:
    return Alarm(
        id=required_id(obj, "id"),
        asset_id=required_id(obj, "assetId"),
        type=_required_str(obj, "type"),
        activated_at=_required_datetime(obj, "activatedAt"),
        site_id=optional_id(obj, "siteId"),
        severity=optional_str(obj, "severity"),
        label=optional_str(obj, "label"),
        message=optional_str(obj, "message", MESSAGE_MAX),
        cleared_at=_optional_datetime(obj, "clearedAt"),
        acknowledged=_optional_bool(obj, "acknowledged"),
    )


# --- public parsers, one per operation --------------------------------------------------


def parse_sites_page(payload: object) -> Page[Site]:
    """Parse a page of the site list."""
    raw = _list(payload, "sites")
    return Page(parse_items(raw, "site", _site), _total(payload), len(raw))


def parse_site_detail(payload: object) -> SiteDetail:
    """Parse one site with its gateways."""
    obj = json_object(payload, "a site")
    try:
        site = _site(obj)
    except MalformedItemError as err:
        raise InvalidResponseError(f"Malformed site: {err}") from None
    gateways = obj.get("gateways")
    return SiteDetail(
        site=site,
        gateways=tuple(
            parse_items(gateways, "gateway", _gateway) if isinstance(gateways, list) else ()
        ),
    )


def parse_assets(payload: object) -> list[Asset]:
    """Parse a site's asset topology."""
    return parse_items(_list(payload, "assets"), "asset", _asset)


def parse_latest_values(
    payload: object, previous: Mapping[str, LatestValue] | None = None
) -> list[LatestValue]:
    """Parse a site's latest values; those equal to `previous` ones (by id) are those objects."""
    return parse_items(
        _list(payload, "values"), "latest value", _latest_value_reader(previous or {})
    )


def parse_series_page(payload: object) -> SeriesPage:
    """Parse a page of time series."""
    series = parse_items(_list(payload, "series"), "series", _series)
    cursor = payload.get("nextCursor") if isinstance(payload, dict) else None
    return SeriesPage(series, cursor if isinstance(cursor, str) and cursor else None)


def parse_alarms_page(payload: object) -> Page[Alarm]:
    """Parse a page of alarms."""
    raw = _list(payload, "alarms")
    return Page(parse_items(raw, "alarm", _alarm), _total(payload), len(raw))
