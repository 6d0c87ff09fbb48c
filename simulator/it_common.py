"""What the IT Expert simulator's state and its HTTP side share.

Kept apart so that the state (it_expert.py) does not import the HTTP side (it_api.py,
it_streams.py), which reads the state.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from custom_components.ecostruxure.api.it_expert import paths as it_paths

from .it_inventory import make_id

IT_API_PREFIX: Final = urlsplit(it_paths.DEFAULT_BASE_URL).path


def is_it_path(path: str) -> bool:
    """Whether a request path belongs to the IT Expert API."""
    return path == IT_API_PREFIX or path.startswith(IT_API_PREFIX + "/")


@dataclass(eq=False, slots=True)
class OpenStream:
    """A stream being served, as the control methods see it."""

    organization_id: str
    operation: str  # live, live-simulator or replay
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    drop: bool = False
    mid_line: bool = False
    rate_limit: bool = False


def simulated_id(seed: int, organization_id: str, number: int) -> str:
    """The id of fake sensor `number` of the live-simulator stream."""
    return make_id(seed, organization_id, "simulated-sensor", number)
