"""What the flow parts of both services share: the form error, one error policy, base URLs."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .api import (
    AuthenticationError,
    CannotConnectError,
    EcoStruxureError,
    ForbiddenError,
    RateLimitedError,
    RedirectError,
)
from .api.urls import BaseUrlError, InsecureBaseUrlError, normalize_base_url
from .const import LOGGER, MAX_SCAN_INTERVAL, MIN_SCAN_INTERVAL

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
SCAN_INTERVAL = NumberSelector(
    NumberSelectorConfig(
        min=MIN_SCAN_INTERVAL,
        max=MAX_SCAN_INTERVAL,
        step=1,
        unit_of_measurement="s",
        mode=NumberSelectorMode.BOX,
    )
)


class FlowError(Exception):
    """A failure to show on the form, as a translation key of `config.error`."""

    def __init__(self, key: str, placeholders: dict[str, str] | None = None) -> None:
        """Keep the key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders or {}


# In order: the first that matches names the form error.
_ERROR_KEYS: tuple[tuple[type[EcoStruxureError], str], ...] = (
    (AuthenticationError, "invalid_auth"),
    (ForbiddenError, "forbidden"),
    (RateLimitedError, "rate_limited"),
    (CannotConnectError, "cannot_connect"),
    (RedirectError, "redirected"),
)


def _no_detail(err: EcoStruxureError) -> str | None:
    return None


async def ask[T](
    call: Awaitable[T], explain: Callable[[EcoStruxureError], str | None] = _no_detail
) -> T:
    """Run a request for the flow; the client's errors become form errors.

    `explain` lets a service name an error more precisely (which secret failed, say).
    """
    try:
        return await call
    except EcoStruxureError as err:
        if key := explain(err):
            raise FlowError(key) from err
        for kind, key in _ERROR_KEYS:
            if isinstance(err, kind):
                raise FlowError(key) from err
        # The client's messages are built without secrets: safe to log.
        LOGGER.warning("Unexpected answer from the service: %s", err)
        raise FlowError("unknown") from err
    except Exception as err:
        # A bug, not the service: keep the traceback. Secrets travel in headers only, so
        # neither the message nor the traceback's lines carry them.
        LOGGER.exception("Unexpected error while asking the service")
        raise FlowError("unknown") from err


def base_url(url: str) -> str:
    """The canonical base URL, or the form error that explains why it cannot be used."""
    try:
        return normalize_base_url(url)
    except InsecureBaseUrlError as err:
        raise FlowError("insecure_base_url") from err
    except BaseUrlError as err:
        raise FlowError("invalid_base_url") from err


def title(names: list[str]) -> str:
    """The first name chosen, and how many more: "Tower A (+2)"."""
    return names[0] + (f" (+{len(names) - 1})" if len(names) > 1 else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowPart:
    """What the flow needs of a service to ask for its secrets again and check them."""

    secrets: vol.Schema
    # The entry's data from a form and a base URL (raises FlowError for a bad URL).
    data: Callable[[Mapping[str, Any], str], dict[str, str]]
    # Raises FlowError("wrong_account") unless the data reach what the entry holds.
    same_account: Callable[[HomeAssistant, Mapping[str, Any], ConfigEntry[Any]], Awaitable[None]]
    reauth_step: str
    reconfigure_step: str
    # The options flow's step of the service (its first form is the "init" step).
    options_step: str
