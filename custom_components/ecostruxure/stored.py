"""What both services' stores (kept across restarts of Home Assistant) share.

A versioned Store whose layout's first version is 1, and how a time written in it is read
back: both tolerate a file from another version or edited by hand.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, override

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util


class VersionedStore(Store[dict[str, Any]]):
    """A Store of this integration: an unknown older layout starts over, a newer minor is read.

    Home Assistant refuses a newer major version itself (UnsupportedStorageVersionError).
    Writes are asked for with `async_save_within`: a write due sooner is never put off.
    """

    def __init__(self, hass: HomeAssistant, version: int, key: str, **kwargs: Any) -> None:
        """A Store as Home Assistant's, with no write scheduled yet."""
        super().__init__(hass, version, key, **kwargs)
        self._due: float | None = None  # loop time of the write scheduled

    @property
    def save_pending(self) -> bool:
        """Whether a write is scheduled and not made yet."""
        return self._due is not None

    @callback
    def async_save_within(self, data_func: Callable[[], dict[str, Any]], delay: float) -> None:
        """Write what `data_func` gives within `delay` seconds, and at the latest at stop.

        A write already due sooner is kept: Store.async_delay_save alone would put it off
        each time it is asked again (a quiet cycle asking for a late write every minute
        would never write).
        """
        when = self.hass.loop.time() + delay
        if self._due is not None and self._due <= when:
            return
        self._due = when

        def data() -> dict[str, Any]:
            self._due = None
            return data_func()

        self.async_delay_save(data, delay)

    @override
    async def async_save(self, data: dict[str, Any]) -> None:
        """Write now; a scheduled write is then made (Home Assistant cancels it)."""
        self._due = None
        await super().async_save(data)

    @override
    async def async_remove(self) -> None:
        """Delete the file; a scheduled write is cancelled with it."""
        self._due = None
        await super().async_remove()

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
