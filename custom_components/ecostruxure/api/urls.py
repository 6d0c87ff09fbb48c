"""The base URL of a service: checked and put in one canonical form before any request.

The secrets travel in headers to whatever the base URL names, so it must be HTTPS, except to
an address that cannot leave the local network (the simulator, a local proxy). The URL is then
the prefix of every path, so it carries no query, fragment or credentials, and its canonical
form keys the per-account connection limit (`HTTP://Host` and `http://host` are one account).
"""

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from .errors import EcoStruxureError


class BaseUrlError(EcoStruxureError):
    """The base URL cannot be used."""


class InvalidBaseUrlError(BaseUrlError):
    """Not an absolute http(s) URL with a host, or one with credentials, a query or fragment."""


class InsecureBaseUrlError(BaseUrlError):
    """Plain HTTP to a host that may be outside the local network: the secrets would leak."""


def _is_local(host: str) -> bool:
    """Whether `host` is loopback or private: `localhost` or an IP literal (never a lookup)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def normalize_base_url(url: str) -> str:
    """The canonical form of `url`: scheme and host lower-case, no trailing slash.

    Raises InvalidBaseUrlError or InsecureBaseUrlError. Messages never repeat the URL: it may
    hold credentials.
    """
    text = url.strip()
    # A "?" or "#" with nothing after it is dropped by the parser, yet would still end up
    # in the middle of every path.
    if "?" in text or "#" in text:
        raise InvalidBaseUrlError("The base URL must not have a query or a fragment")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as err:
        raise InvalidBaseUrlError("The base URL is not a valid URL") from err
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise InvalidBaseUrlError("The base URL must start with https://")
    if "@" in parts.netloc:
        raise InvalidBaseUrlError("The base URL must not contain credentials")
    host = (parts.hostname or "").lower()
    if not host or any(c.isspace() for c in text):
        raise InvalidBaseUrlError("The base URL has no host, or contains spaces")
    if scheme == "http" and not _is_local(host):
        raise InsecureBaseUrlError(
            "Plain http:// is accepted for local addresses only; use https://"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))
