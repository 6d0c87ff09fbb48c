"""HTTP machinery shared by the service clients.

Concurrency cap, timeouts, safe retries, RFC 7807 error mapping and secret redaction.

Every operation of the services is a GET, so retrying a request is always safe; what is
retried is decided by the failure alone: 429 (after Retry-After, or an exponential backoff with
jitter), 500/502/504 and connection failures, a small bounded number of times. 401, 403, 404,
other 4xx and 503 are never retried: repeating them cannot succeed.

Line-delimited streams (IT Expert's measurements) are long-lived GETs read line by line; they
are never retried here: the caller reconnects, as only it knows where to resume.
"""

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import math
import random
from typing import Final

import aiohttp

from .errors import (
    ApiError,
    AuthenticationError,
    CannotConnectError,
    FieldError,
    ForbiddenError,
    InvalidRequestError,
    InvalidResponseError,
    NotFoundError,
    OperationDisabledError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    StreamClosedError,
)
from .parsing import parse_field_errors

_LOGGER = logging.getLogger(__name__)

HARD_CONCURRENCY_CAP: Final = 10  # the service refuses an 11th simultaneous connection
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_TIMEOUT: Final = 30.0
STREAM_CONNECT_TIMEOUT: Final = 10.0
# A line this long without its newline is no measurement: the stream is dropped rather than
# buffered without bound.
STREAM_MAX_LINE: Final = 1024 * 1024
_RETRIED_SERVER_STATUSES: Final = frozenset({500, 502, 504})
_REDACTED: Final = "**REDACTED**"

type QueryParams = Sequence[tuple[str, str]]


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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header given in seconds or as an HTTP date."""
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


class HttpTransport:
    """Sends authenticated GET requests to one service and decodes the JSON answers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth_headers: Mapping[str, str],
        *,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        limit: ConnectionLimit | None = None,
        request_timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare a transport; nothing is sent until a request is made.

        Requests wait for a slot of `limit` when one is given (shared with other clients),
        else of a limit of `max_concurrency` of this transport's own.

        Every header value is redacted from messages, and so is the credential of a value
        of the form `<scheme> <credential>` (`bearer <key>`), which may be echoed alone.
        """
        if not 1 <= max_concurrency <= HARD_CONCURRENCY_CAP:
            raise ValueError(f"max_concurrency must be between 1 and {HARD_CONCURRENCY_CAP}")
        self._slots = limit or ConnectionLimit(max_concurrency)
        self.max_concurrency = self._slots.size
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._headers = {**auth_headers, "Accept": "application/json"}
        # Streams ask for gzip explicitly (the service refuses them uncompressed, and brotli
        # must not be negotiated); Accept is left to aiohttp, as the service's samples do.
        self._stream_headers = {**auth_headers, "Accept-Encoding": "gzip"}
        # Longest first, so that a secret containing another is redacted whole.
        secrets = {value for value in auth_headers.values() if value}
        secrets |= {value.split(" ", 1)[1] for value in secrets if " " in value}
        self._secrets = tuple(sorted((value for value in secrets if value), key=len, reverse=True))
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep or asyncio.sleep

    def __repr__(self) -> str:
        """Describe the transport without its secrets."""
        return f"HttpTransport(base_url={self.base_url!r})"

    async def get_json(self, path: str, params: QueryParams = ()) -> object:
        """GET `path` (relative to the base URL) and return the decoded JSON body."""
        attempt = 1
        while True:
            try:
                return await self._get_once(path, params)
            except RateLimitedError as err:
                delay = (
                    err.retry_after if err.retry_after is not None else self._retry.backoff(attempt)
                )
                if attempt >= self._retry.attempts or delay > self._retry.retry_after_max:
                    raise
            except (ServerError, CannotConnectError) as err:
                retryable = not isinstance(err, ServerError) or (
                    err.status in _RETRIED_SERVER_STATUSES
                )
                if not retryable or attempt >= self._retry.attempts:
                    raise
                delay = self._retry.backoff(attempt)
                _LOGGER.debug("GET %s failed (%s), retrying in %.1f s", path, err, delay)
            attempt += 1
            await self._sleep(delay)

    async def _get_once(self, path: str, params: QueryParams) -> object:
        url = self.base_url + path
        async with self._slots:
            try:
                async with self._session.get(
                    url, params=list(params), headers=self._headers, timeout=self._timeout
                ) as response:
                    body = await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    reason = response.reason or ""
            except TimeoutError:
                raise RequestTimeoutError(f"GET {path} timed out") from None
            except aiohttp.ClientError as err:
                raise CannotConnectError(
                    f"GET {path} failed: {self._redact(type(err).__name__)}"
                ) from None
        _LOGGER.debug("GET %s -> %s (%d bytes)", path, status, len(body))
        if status >= 400:
            raise self._error(status, reason, body, retry_after)
        try:
            return json.loads(body)
        except ValueError, RecursionError:  # RecursionError: absurdly deep nesting
            raise InvalidResponseError(f"GET {path} returned a body that is not JSON") from None

    async def stream_lines(
        self,
        path: str,
        params: QueryParams = (),
        *,
        idle_timeout: float,
        connect_timeout: float = STREAM_CONNECT_TIMEOUT,
        on_connected: Callable[[], None] | None = None,
    ) -> AsyncGenerator[bytes]:
        """GET a line-delimited stream and yield each complete line, without its newline.

        The stream takes no slot of the concurrency limit: it lasts hours, and REST calls must
        not wait for it. An error status raises the same exception as a REST call, without a
        retry. The stream never ends normally: its end, `idle_timeout` seconds without a byte
        (heartbeats count) or a broken connection raise StreamClosedError. A last fragment
        without its newline is a line cut mid-way and is dropped. `on_connected` is called
        once the service accepted the stream, before its first line (heartbeats yield none).
        """
        url = self.base_url + path
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        pending = bytearray()
        try:
            async with self._session.get(
                url,
                params=list(params),
                headers=self._stream_headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                _LOGGER.debug("GET %s -> %s (stream)", path, response.status)
                if response.status >= 300:
                    # A redirect is not followed (it would resend the key elsewhere): it is
                    # an error like a 4xx.
                    body = await response.read()
                    raise self._error(
                        response.status,
                        response.reason or "",
                        body,
                        response.headers.get("Retry-After"),
                    )
                if on_connected is not None:
                    on_connected()
                try:
                    async for chunk in response.content.iter_any():
                        pending += chunk
                        if b"\n" in chunk:
                            *lines, rest = pending.split(b"\n")
                            pending = bytearray(rest)
                            for line in lines:
                                yield bytes(line)
                        if len(pending) > STREAM_MAX_LINE:
                            raise StreamClosedError(
                                f"GET {path}: a line longer than {STREAM_MAX_LINE} bytes"
                            )
                finally:
                    # Closed rather than released: an unfinished stream's connection cannot
                    # be reused, and the generator may be left mid-way by its consumer.
                    response.close()
        except TimeoutError as err:
            what = (
                f"no connection within {connect_timeout:g} s"
                if isinstance(err, aiohttp.ConnectionTimeoutError)
                else f"no data for {idle_timeout:g} s"
            )
            raise StreamClosedError(f"GET {path}: {what}") from None
        except aiohttp.ClientError as err:
            raise StreamClosedError(
                f"GET {path} broke off: {self._redact(type(err).__name__)}"
            ) from None
        if pending:
            _LOGGER.debug("GET %s: dropping a last line cut off (%d bytes)", path, len(pending))
        raise StreamClosedError(f"GET {path}: the stream ended")

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text

    def _error(self, status: int, reason: str, body: bytes, retry_after: str | None) -> ApiError:
        """Map an error status and its problem details to the client's exception."""
        title, detail = reason or "Error", None
        problem_errors: tuple[FieldError, ...] = ()
        try:
            problem = json.loads(body)
        except ValueError, RecursionError:
            problem = None
        if isinstance(problem, dict):
            if isinstance(problem.get("title"), str) and problem["title"]:
                title = problem["title"]
            if isinstance(problem.get("detail"), str) and problem["detail"]:
                detail = self._redact(problem["detail"])
            problem_errors = parse_field_errors(problem.get("errors"))
        title = self._redact(title)
        error_class: type[ApiError]
        if status == 401:
            error_class = AuthenticationError
        elif status == 403:
            error_class = ForbiddenError
        elif status == 404:
            error_class = NotFoundError
        elif status == 429:
            error_class = RateLimitedError
        elif status == 503 and (
            "compliance" in title.lower() or "disabled" in (detail or "").lower()
        ):
            error_class = OperationDisabledError
        elif status >= 500:
            error_class = ServerError
        else:
            error_class = InvalidRequestError
        return error_class(status, title, detail, problem_errors, parse_retry_after(retry_after))
