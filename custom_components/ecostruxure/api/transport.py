"""HTTP machinery shared by the service clients.

Concurrency cap, timeouts, safe retries, RFC 7807 error mapping and secret redaction.

Every operation of the services is a GET, so retrying a request is always safe; what is
retried is decided by the failure alone: 429 (after Retry-After, or an exponential backoff with
jitter), 500/502/504 and connection failures, a small bounded number of times. 401, 403, 404,
other 4xx and 503 are never retried: repeating them cannot succeed.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
)
from .parsing import parse_field_errors

_LOGGER = logging.getLogger(__name__)

HARD_CONCURRENCY_CAP: Final = 10  # the service refuses an 11th simultaneous connection
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_TIMEOUT: Final = 30.0
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


class HttpTransport:
    """Sends authenticated GET requests to one service and decodes the JSON answers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth_headers: Mapping[str, str],
        *,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        request_timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Prepare a transport; nothing is sent until a request is made."""
        if not 1 <= max_concurrency <= HARD_CONCURRENCY_CAP:
            raise ValueError(f"max_concurrency must be between 1 and {HARD_CONCURRENCY_CAP}")
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._headers = {**auth_headers, "Accept": "application/json"}
        self._secrets = tuple(value for value in auth_headers.values() if value)
        self._slots = asyncio.Semaphore(max_concurrency)
        self.max_concurrency = max_concurrency
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

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
        except ValueError:
            raise InvalidResponseError(f"GET {path} returned a body that is not JSON") from None

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
        except ValueError:
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
