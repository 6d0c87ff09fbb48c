"""The logs behind IT Expert offsets: change logs with integer offsets, the measurement log.

A change log numbers every change of one resource of one organization; a changes call returns
the changes after an offset. The measurement log numbers every measurement line; some lines
carry that number as an opaque, URL-safe offset string that a replay starts or stops at.
"""

import base64
import binascii
import bisect
from dataclasses import dataclass
import hashlib
import hmac
import struct
from typing import Final

from .building import Json

# Kinds of measurement offsets: only lines of the log can be replayed.
OFFSET_LOG: Final = 1
OFFSET_SIMULATED: Final = 2
_OFFSET_HEAD: Final = struct.Struct(">BIQ")  # kind, organization index, line number
_TAG_BYTES: Final = 64  # an HMAC-BLAKE2b
_OFFSET_BYTES: Final = 90  # 120 characters once encoded, like the service's long offsets


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a change log: the element a changes response lists."""

    offset: int
    time: float  # simulated, for the retention
    element: Json


class ChangeLog:
    """The changes of one resource of one organization, kept for `retention` seconds."""

    def __init__(self, first_offset: int, retention: float) -> None:
        """Start empty: the snapshot offset is `first_offset`."""
        self.offset = first_offset
        self._retention = retention
        self._changes: list[Change] = []

    def append(self, time: float, element: Json) -> int:
        """Record a change and return its offset."""
        self.offset += 1
        self._changes.append(Change(self.offset, time, element))
        return self.offset

    def prune(self, now: float) -> None:
        """Forget the changes older than the retention: an old offset silently misses them."""
        horizon = now - self._retention
        keep = next(
            (i for i, change in enumerate(self._changes) if change.time >= horizon),
            len(self._changes),
        )
        del self._changes[:keep]

    def after(self, offset: int, limit: int, *, repeat: bool = False) -> tuple[int, list[Json]]:
        """At most `limit` changes after `offset`, and the offset of the last one returned.

        With `repeat` the change at `offset` itself (already seen) comes again first, as the
        service may do; a client applies changes idempotently.
        """
        start = bisect.bisect_right(self._changes, offset, key=lambda c: c.offset)
        page = self._changes[start : start + limit]
        elements = [change.element for change in page]
        if repeat and start > 0 and self._changes[start - 1].offset == offset:
            elements.insert(0, self._changes[start - 1].element)
        return (page[-1].offset if page else offset), elements

    def __len__(self) -> int:
        """How many changes are kept."""
        return len(self._changes)


class MeasurementLog:
    """The measurement lines of one organization, numbered from 1; the latest are kept."""

    def __init__(self, keep: int) -> None:
        """Keep at most `keep` lines for replays and slow readers."""
        self._keep = keep
        self._lines: list[bytes] = []
        self._first = 1  # the number of _lines[0]

    @property
    def last(self) -> int:
        """The number of the latest line (0 before any)."""
        return self._first + len(self._lines) - 1

    @property
    def first(self) -> int:
        """The number of the oldest line kept."""
        return self._first

    def append(self, line: bytes) -> None:
        """Add a line (its number is `last` afterwards)."""
        self._lines.append(line)
        if len(self._lines) > 2 * self._keep:
            # Trimmed in bulk: a list slice is cheap, one pop(0) per line is not.
            drop = len(self._lines) - self._keep
            del self._lines[:drop]
            self._first += drop

    def between(self, after: int, upto: int) -> list[bytes]:
        """The lines numbered in (after, upto] that are still kept."""
        low = max(after + 1, self._first, self.last - self._keep + 1)
        return self._lines[low - self._first : upto - self._first + 1]

    def kept(self, number: int) -> bool:
        """Whether the lines after `number` are all still kept (a replay can start there)."""
        return max(self._first, self.last - self._keep + 1) - 1 <= number <= self.last


def _mask(tag: bytes) -> bytes:
    return hashlib.blake2b(tag, digest_size=_OFFSET_HEAD.size).digest()


def encode_offset(secret: bytes, kind: int, organization: int, number: int) -> str:
    """An opaque, URL-safe offset naming a line; signed so that a made-up one is refused.

    The line number is masked: nothing in the string invites a client to read it.
    """
    head = _OFFSET_HEAD.pack(kind, organization, number)
    tag = hmac.digest(secret, head, hashlib.blake2b)
    masked = bytes(a ^ b for a, b in zip(head, _mask(tag), strict=True))
    padding = hashlib.blake2b(tag, digest_size=_OFFSET_BYTES - len(head) - len(tag)).digest()
    return base64.urlsafe_b64encode(tag + masked + padding).decode().rstrip("=")


def decode_offset(secret: bytes, offset: str) -> tuple[int, int, int] | None:
    """(kind, organization index, line number) of an offset this simulator issued, else None."""
    try:
        raw = base64.urlsafe_b64decode(offset + "=" * (-len(offset) % 4))
    except binascii.Error, ValueError:
        return None
    if len(raw) != _OFFSET_BYTES:
        return None
    tag, masked = raw[:_TAG_BYTES], raw[_TAG_BYTES : _TAG_BYTES + _OFFSET_HEAD.size]
    head = bytes(a ^ b for a, b in zip(masked, _mask(tag), strict=True))
    if not hmac.compare_digest(tag, hmac.digest(secret, head, hashlib.blake2b)):
        return None
    kind, organization, number = _OFFSET_HEAD.unpack(head)
    return kind, organization, number
