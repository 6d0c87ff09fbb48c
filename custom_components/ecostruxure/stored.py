"""What both services' stores (kept across restarts of Home Assistant) share.

A versioned Store whose layout's first version is 1, and how a time written in it is read
back: both tolerate a file from another version or edited by hand.
"""

from datetime import datetime
from typing import Any, override

from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util


class VersionedStore(Store[dict[str, Any]]):
    """A Store of this integration: an unknown older layout starts over, a newer minor is read.

    Home Assistant refuses a newer major version itself (UnsupportedStorageVersionError).
    """

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        if old_major_version == self.version:
            # A newer minor version of this layout only adds fields, which a read ignores.
            return old_data
        # Nothing was written before version 1: whatever this is, there is nothing to keep.
        return {}


def stored_time(value: object) -> datetime | None:
    """An aware time written by a store; None for anything else.

    A naive one (a file edited by hand) could not be compared with the clock.
    """
    parsed = dt_util.parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and parsed.tzinfo is not None else None
