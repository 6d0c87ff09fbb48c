"""Secret redaction of every text built from a service's answer.

A service may echo what it was sent (a problem's detail quoting the header, say), whole,
URL-encoded or in part. Such text is redacted once, where errors are made, so that no
message, log line or entry reason built from it carries a secret.
"""

from collections.abc import Iterable
import re
from typing import Final
from urllib.parse import quote, quote_plus

REDACTED: Final = "**REDACTED**"
# A run of this many characters of a secret is redacted: one that long identifies it.
FRAGMENT: Final = 8
# No text built from an answer is longer: a problem's detail of megabytes is no message.
MAX_TEXT: Final = 500
_PERCENT_ESCAPE: Final = re.compile(r"%[0-9A-F]{2}")


def _forms(secret: str) -> set[str]:
    """The secret as sent, and the ways a URL or form encoding may echo it."""
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(secret, "/")}
    lower = {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in encoded}
    return {secret, *encoded, *lower}


class Redactor:
    """Removes given secrets, and any 8-character run of them, from texts (case ignored)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Redact each of `secrets` (empty ones ignored)."""
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= _forms(secret)
        # Longest first, so that a secret containing another is redacted whole.
        self._whole = tuple(sorted((form.lower() for form in forms), key=len, reverse=True))
        self._fragments = frozenset(
            form[i : i + FRAGMENT].lower()
            for form in forms
            for i in range(len(form) - FRAGMENT + 1)
        )

    def __call__(self, text: str, limit: int = MAX_TEXT) -> str:
        """`text` without any secret or fragment of one, cut to `limit` characters."""
        # Only the start is looked at: what lies beyond is cut off anyway.
        text = text[: 4 * limit]
        # Character by character, so that indices match (a few characters lower to two).
        lowered = "".join(c if len(low := c.lower()) != 1 else low for c in text)
        hidden = bytearray(len(text))
        for form in self._whole:
            start = lowered.find(form)
            while start != -1:
                hidden[start : start + len(form)] = b"\x01" * len(form)
                start = lowered.find(form, start + 1)
        if self._fragments:
            for i in range(len(text) - FRAGMENT + 1):
                if lowered[i : i + FRAGMENT] in self._fragments:
                    hidden[i : i + FRAGMENT] = b"\x01" * FRAGMENT
        parts: list[str] = []
        i = 0
        while i < len(text):
            if hidden[i]:
                while i < len(text) and hidden[i]:
                    i += 1
                parts.append(REDACTED)
            else:
                start = i
                while i < len(text) and not hidden[i]:
                    i += 1
                parts.append(text[start:i])
        result = "".join(parts)
        if len(result) > limit:
            result = result[: limit - 1] + "…"
        return result
