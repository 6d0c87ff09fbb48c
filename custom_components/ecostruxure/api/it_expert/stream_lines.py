"""Reading the lines of a measurement stream: a reading, a system message, or nothing."""

from enum import StrEnum
import logging
from typing import Final, cast

from ..json_reading import (
    NAME_MAX,
    JsonObject,
    clean_text,
    decode_json,
    finite_float,
    opaque_id,
    optional_id,
    optional_str,
    sane_datetime,
)
from .models import (
    SensorReading,
)

_LOGGER = logging.getLogger(__name__)


class StreamSignal(StrEnum):
    """A system message of a measurement stream that changes how it is read."""

    RATE_LIMITED = "rate_limited"
    COMPLETED = "completed"


_SYSTEM_MESSAGE_TYPES: Final = ("replaySystemMessageType", "systemMessageType")


def _reading_value(obj: JsonObject) -> float | str | None:
    number = obj.get("numericValue")
    if isinstance(number, int | float) and not isinstance(number, bool):
        return finite_float(number)
    text = obj.get("stringValue")
    if not isinstance(text, str):
        return None
    # Cut as the sensor's state is: a longer text is never shown, so never kept.
    return clean_text(text, NAME_MAX) or ""


def parse_stream_line(line: bytes | str) -> SensorReading | StreamSignal | None:
    """Read one line of a measurement stream.

    A measurement gives a SensorReading; a rate-limit or replay-completed system message its
    StreamSignal; a heartbeat (empty line) and anything unreadable or unknown give None (the
    latter logged at debug level, without the line's content).
    """
    if not line.strip():
        return None
    try:
        document = decode_json(line)
    except ValueError, RecursionError:  # RecursionError: absurdly deep nesting
        _LOGGER.debug("Ignoring a stream line that is not JSON (%d characters)", len(line))
        return None
    if not isinstance(document, dict):
        _LOGGER.debug("Ignoring a stream line that is not a JSON object")
        return None
    obj = cast(JsonObject, document)
    if "sensorId" in obj:
        sensor_id = optional_id(obj, "sensorId")
        timestamp = sane_datetime(obj.get("timestamp"))
        if sensor_id is None or timestamp is None:
            _LOGGER.debug("Ignoring a measurement without a sensor id or a readable timestamp")
            return None
        return SensorReading(
            sensor_id=sensor_id,
            timestamp=timestamp,
            value=_reading_value(obj),
            # An opaque token: refused when too long, never cut (see json_reading.ID_MAX).
            offset=opaque_id(obj.get("offset")),
        )
    for name in _SYSTEM_MESSAGE_TYPES:
        if (message_type := optional_str(obj, name)) is None:
            continue
        lowered = message_type.lower()
        if "rate" in lowered:
            return StreamSignal.RATE_LIMITED
        if "complet" in lowered:
            return StreamSignal.COMPLETED
        _LOGGER.debug("Ignoring an unknown stream message in %s", name)
        return None
    _LOGGER.debug("Ignoring a stream line of %d unknown fields", len(obj))
    return None
