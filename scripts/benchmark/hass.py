"""Home Assistant as the tests run it (pytest-homeassistant-custom-component), outside pytest."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import logging
import tempfile
from typing import Any
from unittest.mock import patch

from aiohttp.resolver import ThreadedResolver
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame, translation
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
    mock_storage,
)

# Importing the package before Home Assistant looks for custom integrations makes it find
# this repository's (as tests/conftest.py does).
from custom_components.ecostruxure.const import DOMAIN


async def _discard(store: object, data: object) -> None:
    """Storage writes go nowhere.

    Home Assistant serializes its registries in a worker thread, off the event loop; the
    test harness's own stand-in would serialize them on the loop and keep a copy in memory,
    which is no cost of the integration's.
    """


class _Resolver(ThreadedResolver):
    """The plain resolver (the simulator is on 127.0.0.1); Home Assistant closes it so."""

    async def real_close(self) -> None:
        await self.close()


def quiet_logs() -> None:
    """Warnings and errors only; not the loader's notice about custom integrations."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)


@asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """A running Home Assistant without recorder or HTTP, its storage in memory.

    As in the tests: nothing is read from or written to disk, zeroconf is not started (its
    DNS resolver is replaced by the plain one), custom integrations may load. Entries still
    loaded at the end are unloaded.
    """
    with (
        tempfile.TemporaryDirectory(prefix="ecostruxure-bench-") as config_dir,
        mock_storage(),
        patch("homeassistant.helpers.storage.Store._async_write_data", _discard),
        patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver", return_value=_Resolver()
        ),
    ):
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # what enable_custom_integrations does
            frame.async_setup(hass)
            await translation.async_load_integrations(hass, {"homeassistant"})
            try:
                yield hass
            finally:
                for entry in hass.config_entries.async_entries():
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_stop(force=True)


def add_entry(
    hass: HomeAssistant, unique_id: str, data: dict[str, Any], options: dict[str, Any]
) -> str:
    """Add an entry of the integration (not set up yet); its id."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=unique_id,
        unique_id=unique_id,
        data=data,
        options=options,
    )
    entry.add_to_hass(hass)
    entry_id: str = entry.entry_id
    return entry_id
