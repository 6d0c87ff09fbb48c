"""The simulator's clock: real time by default, frozen or moved forward by tests."""

from datetime import UTC, datetime, timedelta
import time


class SimulatedClock:
    """Wall-clock time plus an offset that tests can push forward.

    `freeze()` stops the clock where it is (or at a given instant) so that every answer of the
    simulator is reproducible; `advance()` then lets a test "wait" hours in microseconds.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        """Start at `start` (an aware datetime) or now; frozen or running."""
        if start is not None and start.tzinfo is None:
            raise ValueError("The simulated clock needs an aware datetime")
        self._anchor = (start or datetime.now(UTC)).astimezone(UTC)
        self._anchor_monotonic = time.monotonic()
        self._frozen = frozen

    @property
    def frozen(self) -> bool:
        """Whether time stands still unless advanced."""
        return self._frozen

    def now(self) -> datetime:
        """The current simulated time (UTC)."""
        if self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchor_monotonic)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock, at `at` if given, else where it stands."""
        if at is not None and at.tzinfo is None:
            raise ValueError("The simulated clock needs an aware datetime")
        self._anchor = at.astimezone(UTC) if at is not None else self.now()
        self._frozen = True

    def resume(self) -> None:
        """Let time run again from where it stands."""
        self._anchor = self.now()
        self._anchor_monotonic = time.monotonic()
        self._frozen = False

    def advance(self, delta: timedelta) -> None:
        """Jump forward (never back: energy counters only grow)."""
        if delta < timedelta(0):
            raise ValueError("The simulated clock only moves forward")
        self._anchor += delta
