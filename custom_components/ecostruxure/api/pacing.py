"""How hard the clients push a service: retries, Retry-After, connections in flight."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import logging
import math
import random
from typing import Final

_LOGGER = logging.getLogger(__name__)

HARD_CONCURRENCY_CAP: Final = 10  # the service refuses an 11th simultaneous connection
DEFAULT_CONCURRENCY: Final = 4
MAX_RETRY_AFTER: Final = 3600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a failed request is retried."""

    attempts: int = 3  # in all, the first one included
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    # A longer Retry-After is not waited for inside a call: the error goes to the caller,
    # which can schedule its next attempt instead of holding a request open.
    retry_after_max: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): exponential, with jitter."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def parse_retry_after(
    value: str | None, now: datetime | None = None, *, maximum: float = MAX_RETRY_AFTER
) -> float | None:
    """Seconds to wait from a Retry-After header given in seconds or as an HTTP date.

    At most `maximum`: a service asking for years (or the year 9999) gets an hour.
    """
    if value is None or not (value := value.strip()):
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError, IndexError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    if seconds > maximum:
        # The header's text is not logged: it comes from the service, and may echo anything.
        _LOGGER.info("The service asked to wait %.0f s; waiting %g s instead", seconds, maximum)
        return maximum
    return max(0.0, seconds)


class ConnectionLimit:
    """At most `size` requests in flight, shared by every client given the same limit.

    The Facility Expert service counts simultaneous connections per account: clients of one
    account (several Home Assistant entries, say) must share one limit, or together they
    exceed it and are answered 429.
    """

    def __init__(self, size: int = DEFAULT_CONCURRENCY) -> None:
        """A limit of `size` requests at a time (at most the service's 10)."""
        if not 1 <= size <= HARD_CONCURRENCY_CAP:
            raise ValueError(f"A connection limit must be between 1 and {HARD_CONCURRENCY_CAP}")
        self.size = size
        self._slots = asyncio.Semaphore(size)

    async def __aenter__(self) -> None:
        """Wait for a free slot."""
        await self._slots.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        """Free the slot."""
        self._slots.release()
