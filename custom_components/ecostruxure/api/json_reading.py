"""Readers of single JSON values, shared by the parsers of both services.

A service may send anything: a 10 MB name, a 400-digit number, a timestamp in year 1 or 9999.
Each reader bounds what it returns (text length, finite numbers, int64 integers, a sane time
window) or says the value is missing, so that one hostile field costs one item at most and
never an exception, a stalled loop or a name the size of the answer.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
import json
import logging
import math
import re
from typing import Final, cast

from .errors import FieldError, InvalidResponseError

type JsonObject = Mapping[str, object]

_LOGGER = logging.getLogger(__name__)

# Lengths past which text is cut: what a user can read in a name, a unit, a message.
NAME_MAX: Final = 255
UNIT_MAX: Final = 32
MESSAGE_MAX: Final = 1024
# An id or an opaque token (offset) longer than this is refused, never cut: two cut ids
# could become equal, and a cut offset points elsewhere.
ID_MAX: Final = 1024
INT64_MAX: Final = 2**63 - 1
# A decimal number has at most a few dozen characters; longer strings are not read at all.
_NUMBER_TEXT_MAX: Final = 64
# Timestamps outside this window are wrong clocks or hostile: year 1 breaks date arithmetic,
# year 9999 would pin a reading or a "last seen" for ever.
PAST_LIMIT: Final = timedelta(days=20 * 366)
FUTURE_LIMIT: Final = timedelta(days=1)


def _fast_loads() -> Callable[[bytes | str], object] | None:
    """The decoder of orjson, when installed (it ships with Home Assistant); else None."""
    try:
        from orjson import loads  # noqa: PLC0415 (optional: tried, not required)
    except ImportError:
        return None
    return loads


_FAST_LOADS: Final = _fast_loads()


def decode_json(body: bytes | str) -> object:
    """Decode a JSON body, with orjson when installed: several times faster on big answers.

    Whatever orjson refuses (NaN and Infinity, numbers beyond a double, lone surrogates, a
    byte order mark, deep nesting) is decoded by the standard library, so an answer reads the
    same with or without orjson; the readers above then bound the values. (orjson reads an
    integer beyond 64 bits as a float: no reader takes either as an id or a count, and a
    value reads the same.) Raises ValueError or RecursionError, as json.loads does.
    """
    if _FAST_LOADS is not None:
        try:
            return _FAST_LOADS(body)
        except ValueError:
            pass
    return json.loads(body)


# C0 and C1 controls, and the line and bidirectional-override marks that can disguise text.
_CONTROLS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def clean_text(value: object, limit: int = NAME_MAX) -> str | None:
    """A non-empty string without control characters, cut to `limit`; else None."""
    if not isinstance(value, str):
        return None
    # Cut first (generously) so that a huge string is not scanned whole.
    text = _CONTROLS.sub(" ", value[: limit * 4]).strip()[:limit].rstrip()
    return text or None


def opaque_id(value: object) -> str | None:
    """An id (a non-empty string, or an integer kept as its digits) of at most ID_MAX characters.

    Too long is refused rather than cut (see ID_MAX).
    """
    if isinstance(value, str):
        return value if 0 < len(value) <= ID_MAX else None
    if isinstance(value, int) and not isinstance(value, bool):
        # Bounded before str(): a huge integer's digits are slow, and past 4,300 refused.
        return str(value) if -INT64_MAX - 1 <= value <= INT64_MAX else None
    return None


def finite_float(value: object) -> float | None:
    """A finite float from a JSON number or a numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            return None
    elif isinstance(value, str) and len(value) <= _NUMBER_TEXT_MAX:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def bounded_int(value: object) -> int | None:
    """A non-negative int64 from an integer or its decimal string; None for anything else."""
    if isinstance(value, str):
        # Length first: int() of a string past 4,300 digits raises ValueError.
        if not (0 < len(value) <= 19 and value.isascii() and value.isdecimal()):
            return None
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX:
        return value
    return None


def sane_datetime(value: object, now: datetime | None = None) -> datetime | None:
    """An aware datetime (naive taken as UTC) from ISO 8601 text, within the sane window.

    The window runs from PAST_LIMIT before `now` (default: the current time) to FUTURE_LIMIT
    after it; a timestamp outside it is treated as missing.
    """
    if not isinstance(value, str) or len(value) > _NUMBER_TEXT_MAX:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    try:
        # Comparing across offsets converts, which overflows at the ends of the calendar.
        sane = now - PAST_LIMIT <= parsed <= now + FUTURE_LIMIT
    except OverflowError:
        return None
    return parsed if sane else None


# --- readers of fields and containers, shared by both services' parsers --------------------


class MalformedItemError(Exception):
    """An item lacks a required field; it is skipped."""


def required_id(obj: JsonObject, name: str) -> str:
    """The id under `name`, else MalformedItemError."""
    if (value := opaque_id(obj.get(name))) is not None:
        return value
    raise MalformedItemError(f"{name} missing or not an id")


def optional_id(obj: JsonObject, name: str) -> str | None:
    """The id under `name`, or None."""
    return opaque_id(obj.get(name))


def optional_str(obj: JsonObject, name: str, limit: int = NAME_MAX) -> str | None:
    """The clean text under `name`, or None."""
    return clean_text(obj.get(name), limit)


def optional_int(obj: JsonObject, name: str) -> int | None:
    """The bounded integer under `name`, or None."""
    return bounded_int(obj.get(name))


def strings(value: object) -> tuple[str, ...]:
    """The clean texts of a list; anything else is no texts."""
    if not isinstance(value, list):
        return ()
    return tuple(text for item in value if (text := clean_text(item)) is not None)


def json_object(payload: object, what: str) -> JsonObject:
    """The payload as a JSON object, else InvalidResponseError naming `what`."""
    if not isinstance(payload, dict):
        raise InvalidResponseError(f"Expected a JSON object for {what}")
    return cast(JsonObject, payload)


def parse_items[T](raw: list[object], kind: str, parse: Callable[[JsonObject], T]) -> list[T]:
    """Parse each item, skipping (and logging) those that are not objects or are malformed."""
    parsed: list[T] = []
    for item in raw:
        if not isinstance(item, dict):
            _LOGGER.debug("Ignoring a %s that is not a JSON object", kind)
            continue
        try:
            parsed.append(parse(item))  # a dict is a JsonObject (no cast: a call per item)
        except MalformedItemError as err:
            _LOGGER.debug("Ignoring a malformed %s: %s", kind, err)
    return parsed


def parse_field_errors(value: object) -> tuple[FieldError, ...]:
    """Parse a problem's `errors` list, keeping what can be read."""
    if not isinstance(value, list):
        return ()
    errors: list[FieldError] = []
    for item in value:
        if isinstance(item, dict):
            obj = cast(JsonObject, item)
            name = optional_str(obj, "name") or ""
            reason = (
                optional_str(obj, "reason", MESSAGE_MAX)
                or optional_str(obj, "message", MESSAGE_MAX)
                or ""
            )
            if name or reason:
                errors.append(FieldError(name, reason))
    return tuple(errors)
