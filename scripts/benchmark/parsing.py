"""What one cycle's answers cost to decode and parse: the standard library against orjson.

The bodies are every site's latest values, fetched once as the integration fetches them;
each step is timed in CPU seconds over all of them, best of a few rounds.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import json
import time
from typing import Any

from custom_components.ecostruxure.api import json_reading
from custom_components.ecostruxure.api.facility_expert.parsing import parse_latest_values

ROUNDS = 3


@dataclass(slots=True)
class ParseFigures:
    """CPU seconds for one cycle's latest values (every site), and how many values."""

    values: int = 0
    json: float = 0.0  # json.loads
    orjson: float | None = None  # orjson.loads; None without orjson
    parse: float = 0.0  # decoded JSON into typed models


def _best(step: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        began = time.process_time()
        step()
        best = min(best, time.process_time() - began)
    return best


def measure_parsing(bodies: Sequence[bytes]) -> ParseFigures:
    """Time decoding `bodies` both ways, and parsing what was decoded."""
    decoded = [json.loads(body) for body in bodies]
    fast = json_reading._FAST_LOADS  # noqa: SLF001 - the decoder the client uses, if any
    return ParseFigures(
        values=sum(len(parse_latest_values(payload)) for payload in decoded),
        json=_best(lambda: [json.loads(body) for body in bodies]),
        orjson=None if fast is None else _best(lambda: [fast(body) for body in bodies]),
        parse=_best(lambda: [parse_latest_values(payload) for payload in decoded]),
    )
