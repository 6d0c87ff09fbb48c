"""HTTP machinery shared by the service clients.

Concurrency cap, timeouts, safe retries, RFC 7807 error mapping and secret redaction.

Every operation of the services is a GET, so retrying a request is always safe; what is
retried is decided by the failure alone: 429 (after Retry-After, or an exponential backoff with
jitter), 500/502/504 and connection failures, a small bounded number of times. 401, 403, 404,
other 4xx and 503 are never retried: repeating them cannot succeed.

Line-delimited streams (IT Expert's measurements) are long-lived GETs read line by line; they
are never retried here: the caller reconnects, as only it knows where to resume.

Nothing a service sends is trusted to be small or sane: redirects are not followed (they
would carry the secrets elsewhere), bodies are read against a size cap while they arrive
(a gzip bomb stops at the cap), waits the service asks for are clamped, and streams give the
event loop back and are read at a bounded rate.
"""

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
import json
import logging
import time
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
    RedirectError,
    RequestTimeoutError,
    ServerError,
    StreamClosedError,
)
from .json_reading import decode_json, parse_field_errors
from .pacing import (
    DEFAULT_CONCURRENCY,
    HARD_CONCURRENCY_CAP,
    ConnectionLimit,
    RetryPolicy,
    parse_retry_after,
)
from .redact import Redactor

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 30.0
STREAM_CONNECT_TIMEOUT: Final = 10.0
# A line this long without its newline is no measurement: the stream is dropped rather than
# buffered without bound.
STREAM_MAX_LINE: Final = 1024 * 1024
# Decoded bytes accepted per second from a stream: a compressed flood of lines must not keep
# Home Assistant parsing for minutes. Far above what the service sends (a few KiB/s).
STREAM_MAX_BYTES_PER_SECOND: Final = 4 * 1024 * 1024
# A stream gives the event loop back after this many lines or decoded bytes, at the latest.
STREAM_YIELD_LINES: Final = 256
STREAM_YIELD_BYTES: Final = 64 * 1024
# The largest decoded answer accepted: far above the largest page the service returns.
DEFAULT_MAX_BODY_BYTES: Final = 32 * 1024 * 1024
# An error's problem details are short; anything longer is cut there (not an error itself).
MAX_ERROR_BODY_BYTES: Final = 64 * 1024
READ_CHUNK_BYTES: Final = 64 * 1024
# Reading an answer gives the event loop back after this many buffered bytes: a step per
# chunk would cost a loop turn for each of a cycle's answers, most of which are smaller.
READ_YIELD_BYTES: Final = 1024 * 1024
# The longest wait a service may ask for (Retry-After): an hour, not years.
_RETRIED_SERVER_STATUSES: Final = frozenset({500, 502, 504})

type QueryParams = Sequence[tuple[str, str]]


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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        stream_max_bytes_per_second: float = STREAM_MAX_BYTES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare a transport; nothing is sent until a request is made.

        Requests wait for a slot of `limit` when one is given (shared with other clients),
        else of a limit of `max_concurrency` of this transport's own.

        Every header value is redacted from messages, and so is the credential of a value
        of the form `<scheme> <credential>` (`bearer <key>`), which may be echoed alone.
        A decoded answer longer than `max_body_bytes` is refused. Streams are read at most
        `stream_max_bytes_per_second` (decoded), measured with `clock` and waited with `sleep`.
        """
        if not 1 <= max_concurrency <= HARD_CONCURRENCY_CAP:
            raise ValueError(f"max_concurrency must be between 1 and {HARD_CONCURRENCY_CAP}")
        if max_body_bytes < 1 or not stream_max_bytes_per_second > 0:
            raise ValueError("max_body_bytes and stream_max_bytes_per_second must be positive")
        self._slots = limit or ConnectionLimit(max_concurrency)
        self.max_concurrency = self._slots.size
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._headers = {**auth_headers, "Accept": "application/json"}
        # Streams ask for gzip explicitly (the service refuses them uncompressed, and brotli
        # must not be negotiated); Accept is left to aiohttp, as the service's samples do.
        self._stream_headers = {**auth_headers, "Accept-Encoding": "gzip"}
        secrets = {value for value in auth_headers.values() if value}
        secrets |= {value.split(" ", 1)[1] for value in secrets if " " in value}
        self.redact = Redactor(secrets)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep or asyncio.sleep
        self.max_body_bytes = max_body_bytes
        self._stream_rate = stream_max_bytes_per_second
        self._clock = clock

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
                    url,
                    params=list(params),
                    headers=self._headers,
                    timeout=self._timeout,
                    # A redirect would resend the secrets to wherever it points.
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    if 300 <= status < 400:
                        raise RedirectError(status, path)
                    if status >= 400:
                        body = await self._read(response, MAX_ERROR_BODY_BYTES, path, cut=True)
                    else:
                        body = await self._read(response, self.max_body_bytes, path)
                    retry_after = response.headers.get("Retry-After")
                    reason = response.reason or ""
            except TimeoutError:
                raise RequestTimeoutError(f"GET {path} timed out") from None
            except aiohttp.ClientError as err:
                raise CannotConnectError(
                    f"GET {path} failed: {self.redact(type(err).__name__)}"
                ) from None
        _LOGGER.debug("GET %s -> %s (%d bytes)", path, status, len(body))
        if status >= 400:
            raise self._error(status, reason, body, retry_after)
        try:
            return decode_json(body)
        except ValueError, RecursionError:  # RecursionError: absurdly deep nesting
            raise InvalidResponseError(f"GET {path} returned a body that is not JSON") from None

    @staticmethod
    async def _read(
        response: aiohttp.ClientResponse, limit: int, path: str, *, cut: bool = False
    ) -> bytes:
        """The decoded body, read chunk by chunk so that no more than `limit` is ever held.

        Past `limit`, InvalidResponseError; or with `cut`, the first `limit` bytes.
        """
        body = bytearray()
        unyielded = 0
        async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                if cut:
                    del body[limit:]
                    break
                raise InvalidResponseError(
                    f"GET {path} returned a body larger than {limit // (1024 * 1024)} MiB"
                    if limit >= 1024 * 1024
                    else f"GET {path} returned a body larger than {limit} bytes"
                )
            # Buffered chunks are read without a pause: give the event loop back now and then.
            unyielded += len(chunk)
            if unyielded >= READ_YIELD_BYTES:
                unyielded = 0
                await asyncio.sleep(0)
        return bytes(body)

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
        retry; a redirect raises RedirectError. The stream never ends normally: its end,
        `idle_timeout` seconds without a complete line (heartbeats count; bytes trickling in
        without a newline do not) or a broken connection raise StreamClosedError. A last
        fragment without its newline is a line cut mid-way and is dropped. `on_connected` is
        called once the service accepted the stream, before its first line.
        """
        url = self.base_url + path
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=idle_timeout
        )
        loop = asyncio.get_running_loop()
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
                if 300 <= response.status < 400:
                    # Not followed: it would resend the key elsewhere.
                    raise RedirectError(response.status, path)
                if response.status >= 400:
                    body = await self._read(response, MAX_ERROR_BODY_BYTES, path, cut=True)
                    raise self._error(
                        response.status,
                        response.reason or "",
                        body,
                        response.headers.get("Retry-After"),
                    )
                if on_connected is not None:
                    on_connected()
                # A token bucket of decoded bytes, one second deep.
                allowance = self._stream_rate
                checked = self._clock()
                since_yield_lines = since_yield_bytes = 0
                line_deadline = loop.time() + idle_timeout
                try:
                    while True:
                        try:
                            async with asyncio.timeout_at(line_deadline):
                                chunk = await response.content.read(STREAM_YIELD_BYTES)
                        except TimeoutError:
                            # sock_read only sees bytes: a trickle without newlines is no data.
                            raise StreamClosedError(
                                f"GET {path}: no data for {idle_timeout:g} s (no complete line)"
                            ) from None
                        if not chunk:
                            break
                        pending += chunk
                        if b"\n" in chunk:
                            *lines, rest = pending.split(b"\n")
                            pending = bytearray(rest)
                            line_deadline = loop.time() + idle_timeout
                            for line in lines:
                                yield bytes(line)
                                since_yield_lines += 1
                                if since_yield_lines >= STREAM_YIELD_LINES:
                                    since_yield_lines = 0
                                    await asyncio.sleep(0)
                        if len(pending) > STREAM_MAX_LINE:
                            raise StreamClosedError(
                                f"GET {path}: a line longer than {STREAM_MAX_LINE} bytes"
                            )
                        since_yield_bytes += len(chunk)
                        if since_yield_bytes >= STREAM_YIELD_BYTES:
                            since_yield_bytes = 0
                            await asyncio.sleep(0)
                        now = self._clock()
                        allowance = min(
                            self._stream_rate,
                            allowance + (now - checked) * self._stream_rate,
                        )
                        checked = now
                        allowance -= len(chunk)
                        if allowance < 0:
                            # Faster than any real stream: read on when the budget allows.
                            await self._sleep(-allowance / self._stream_rate)
                            line_deadline += -allowance / self._stream_rate
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
                f"GET {path} broke off: {self.redact(type(err).__name__)}"
            ) from None
        if pending:
            _LOGGER.debug("GET %s: dropping a last line cut off (%d bytes)", path, len(pending))
        raise StreamClosedError(f"GET {path}: the stream ended")

    def _error(self, status: int, reason: str, body: bytes, retry_after: str | None) -> ApiError:
        """Map an error status and its problem details to the client's exception.

        Every text taken from the answer is redacted and cut short here, once: the service
        may echo a secret, in full, URL-encoded or in part.
        """
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
                detail = problem["detail"]
            problem_errors = parse_field_errors(problem.get("errors"))
        # Which secret a 401 is about is read before redaction, which may hide the words.
        which = AuthenticationError.which_secret(detail, problem_errors) if status == 401 else None
        title = self.redact(title)
        detail = self.redact(detail) if detail is not None else None
        problem_errors = tuple(
            FieldError(self.redact(e.name, 100), self.redact(e.reason)) for e in problem_errors[:10]
        )
        error_class: type[ApiError]
        if status == 401:
            return AuthenticationError(
                status,
                title,
                detail,
                problem_errors,
                parse_retry_after(retry_after),
                secret=which,
            )
        if status == 403:
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
