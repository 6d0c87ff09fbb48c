"""The client's exceptions: one hierarchy for every documented status and reason.

Messages are built from the status and the problem's title and detail, never from a secret,
so they are safe to log and to show in Home Assistant.
"""

from dataclasses import dataclass
from enum import StrEnum


class Secret(StrEnum):
    """The two independent secrets the Facility Expert Data API requires."""

    SUBSCRIPTION_KEY = "subscription_key"
    TECHNICAL_TOKEN = "technical_token"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a problem's `errors` list: which parameter, and why."""

    name: str
    reason: str


class EcoStruxureError(Exception):
    """Base class of every error raised by the client."""


class CannotConnectError(EcoStruxureError):
    """The service could not be reached, or the connection broke mid-response."""


class RequestTimeoutError(CannotConnectError):
    """The service did not answer within the request timeout."""


class InvalidResponseError(EcoStruxureError):
    """The service answered with a body that is not JSON or not of the expected shape."""


class ApiError(EcoStruxureError):
    """The service answered with an error status (RFC 7807 problem details when it could)."""

    def __init__(
        self,
        status: int,
        reason: str,
        detail: str | None = None,
        errors: tuple[FieldError, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        """Keep the parts of the problem a caller may act on."""
        self.status = status
        self.reason = reason
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after
        message = f"HTTP {status} {reason}"
        if detail:
            message += f": {detail}"
        if errors:
            message += " (" + "; ".join(f"{e.name}: {e.reason}" for e in errors) + ")"
        super().__init__(message)


class AuthenticationError(ApiError):
    """401: a secret is missing, wrong or revoked; `secret` says which when the service does."""

    def __init__(
        self,
        status: int,
        reason: str,
        detail: str | None = None,
        errors: tuple[FieldError, ...] = (),
        retry_after: float | None = None,
        *,
        secret: Secret | None = None,
    ) -> None:
        """Keep the problem; `secret`, when given, names the secret rejected.

        The transport reads it from the answer before redaction, which may hide the words
        that tell (a secret containing "subscription", say).
        """
        super().__init__(status, reason, detail, errors, retry_after)
        self._secret = secret

    @staticmethod
    def which_secret(detail: str | None, errors: tuple[FieldError, ...]) -> Secret | None:
        """Which of the two secrets a problem's explanation names, if exactly one."""
        # The reason (APIKeyInvalid, APIKeyMissing) names no secret: read the explanation.
        words = " ".join([detail or "", *(f"{e.name} {e.reason}" for e in errors)]).lower()
        subscription = "subscription" in words or "authorization" in words
        token = "token" in words or "apikey" in words
        if subscription and not token:
            return Secret.SUBSCRIPTION_KEY
        if token and not subscription:
            return Secret.TECHNICAL_TOKEN
        return None

    @property
    def secret(self) -> Secret | None:
        """Which of the two secrets the service rejected, if its answer says so."""
        if self._secret is not None:
            return self._secret
        return self.which_secret(self.detail, self.errors)


class ForbiddenError(ApiError):
    """403: no access (Forbidden, UserDisabled, WrongDatacenter)."""

    @property
    def account_disabled(self) -> bool:
        """The account behind the token is disabled."""
        return self.reason.lower() == "userdisabled"

    @property
    def wrong_datacenter(self) -> bool:
        """The token belongs to another data center than the base URL's."""
        return self.reason.lower() == "wrongdatacenter"


class NotFoundError(ApiError):
    """404: the site or resource does not exist (any more)."""


class RateLimitedError(ApiError):
    """429: too many simultaneous connections; `retry_after` is in seconds when given."""


class OperationDisabledError(ApiError):
    """503 ComplianceRelated: the operation has been disabled for this account."""


class ServerError(ApiError):
    """5xx: a fault on the service's side."""


class InvalidRequestError(ApiError):
    """Another 4xx: a bad parameter or a bug in the request."""


class RedirectError(EcoStruxureError):
    """The service answered with a redirect (3xx), which is never followed.

    Following it would send the secrets to wherever it points: a wrong base URL, or a host
    that is not the service.
    """

    def __init__(self, status: int, path: str) -> None:
        """Name the status and the path that was redirected."""
        self.status = status
        super().__init__(f"GET {path} answered HTTP {status}, a redirect, which is not followed")


class StreamClosedError(CannotConnectError):
    """A measurement stream ended: dropped, gone quiet, or a replay without its end message."""


class StreamRateLimitedError(EcoStruxureError):
    """A measurement stream was cut after the service wrote its rate-limit message."""
