"""Readers of single JSON values, shared by the parsers of both services.

A service may send anything: a 10 MB name, a 400-digit number, a timestamp in year 1 or 9999.
Each reader bounds what it returns (text length, finite numbers, int64 integers, a sane time
window) or says the value is missing, so that one hostile field costs one item at most and
never an exception, a stalled loop or a name the size of the answer.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import math
import re
from typing import Final

type JsonObject = Mapping[str, object]

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
