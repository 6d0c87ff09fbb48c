"""Fault injection: rules that make the simulator misbehave the way a real service does."""

from dataclasses import asdict, dataclass
from enum import StrEnum
import re
from typing import Any


class BodyFault(StrEnum):
    """Ways a response body can go wrong."""

    NON_JSON = "non_json"  # a 200 whose body is an HTML error page
    TRUNCATED = "truncated"  # a 200 whose JSON stops half-way (Content-Length matches)
    DROP = "drop"  # the connection is closed before an answer


@dataclass(slots=True)
class FaultRule:
    """One fault: which requests it hits, what it does, and how many times.

    `status` answers with that error as problem+json; `title` and `detail` override the usual
    ones, `retry_after` adds the header as given (seconds or an HTTP date). `body` breaks the
    answer instead; with a `status`, NON_JSON gives an HTML error page. `latency` (seconds,
    real time) delays the answer. `path` is a regular expression searched in the request
    path; `count` is how many requests the rule hits (None: until cleared).
    """

    status: int | None = None
    title: str | None = None
    detail: str | None = None
    retry_after: str | None = None
    body: BodyFault | None = None
    latency: float = 0.0
    path: str | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        """Refuse rules that could never apply."""
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("A fault's status must be an error status (400-599)")
        if self.body is not None:
            self.body = BodyFault(self.body)
        if self.latency < 0 or (self.count is not None and self.count < 1):
            raise ValueError("A fault's latency and count must be positive")
        if self.path is not None:
            re.compile(self.path)

    def to_json(self) -> dict[str, Any]:
        """The rule as the control endpoint shows it."""
        return asdict(self)


class Faults:
    """The active fault rules, first match wins."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule | None = None, **options: Any) -> FaultRule:
        """Add a rule (or build one from keyword arguments) and return it."""
        rule = rule or FaultRule(**options)
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the active rules."""
        return list(self._rules)

    def take(self, path: str) -> FaultRule | None:
        """The rule that applies to a request for `path`, counting it as used."""
        for rule in self._rules:
            if rule.path is not None and not re.search(rule.path, path):
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
            return rule
        return None
