"""Constants of the IT Expert side."""

from datetime import timedelta
from typing import Final

from ..api.it_expert.models import ITSeverity

# A full list repairs any drift of the changes; the service keeps changes about a day, so an
# offset older than half of that is not trusted either.
FULL_SYNC_INTERVAL: Final = timedelta(days=1)
OFFSET_MAX_AGE: Final = timedelta(hours=12)

# Alarm events of a device Home Assistant has no entity for yet (the inventory lists it later)
# wait this long, at most this many per device.
UNDELIVERED_EVENTS_MAX_AGE: Final = timedelta(days=1)
UNDELIVERED_EVENTS_MAX: Final = 100

# The live stream: heartbeats keep it alive; a stream quiet for this long is reconnected.
STREAM_IDLE_TIMEOUT: Final = 180.0
STREAM_BACKOFF_INITIAL: Final = 5.0
STREAM_BACKOFF_MAX: Final = 300.0
# A connection that lasted this long resets the backoff.
STREAM_HEALTHY_AFTER: Final = 60.0
# Values stay available this long after the stream dropped: a quick reconnect does not blink.
STREAM_GRACE: Final = timedelta(minutes=2)
# Values of a burst are written to the state machine together, at most this often.
STREAM_FLUSH_INTERVAL: Final = 1.0
# A flush tells this many entities, then lets the event loop run: a few ms a batch on a
# server (a state write costs ~25 µs there), still well under 25 ms on a Raspberry Pi.
STREAM_FLUSH_BATCH: Final = 50
# Readings of sensors the inventory does not list (yet) are kept, newest, up to this many;
# readings are otherwise kept only for the sensors it lists.
STREAM_UNKNOWN_READINGS_MAX: Final = 1000
# Replays are rate limited by the service: after a refusal none is asked for this long.
REPLAY_PAUSE_AFTER_REFUSAL: Final = timedelta(hours=1)
REPLAY_ATTEMPTS: Final = 3
# After a restart, the readings measured while stopped are replayed from the offset stored,
# if it is younger than this: replays are meant for short gaps, and the service refuses a
# whole day's (its retention of measurements is not published).
RESUME_MAX_AGE: Final = timedelta(hours=6)

# How the web app presents severities: OK and INFO are informational, WARNING a warning,
# everything else (and a severity this version does not know) critical.
SEVERITY_LEVEL_NONE: Final = "none"
SEVERITY_LEVEL_INFO: Final = "info"
SEVERITY_LEVEL_WARNING: Final = "warning"
SEVERITY_LEVEL_CRITICAL: Final = "critical"
SEVERITY_LEVELS: Final = (
    SEVERITY_LEVEL_NONE,
    SEVERITY_LEVEL_INFO,
    SEVERITY_LEVEL_WARNING,
    SEVERITY_LEVEL_CRITICAL,
)


def severity_level(severity: str) -> str:
    """The presentation level of an alarm severity."""
    if severity in (ITSeverity.OK, ITSeverity.INFO):
        return SEVERITY_LEVEL_INFO
    if severity == ITSeverity.WARNING:
        return SEVERITY_LEVEL_WARNING
    return SEVERITY_LEVEL_CRITICAL


def counts_as_alarm(severity: str) -> bool:
    """Whether an active alarm of this severity turns the device's problem sensor on."""
    return severity_level(severity) in (SEVERITY_LEVEL_WARNING, SEVERITY_LEVEL_CRITICAL)
