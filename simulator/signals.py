"""Smooth, deterministic signals with closed-form integrals.

Every simulated value is a constant plus a few sine waves of incommensurate periods: it looks
irregular on a chart, costs a handful of `sin` calls to evaluate at any instant of any day, and
its integral (energy from power) and its mean over an interval (hourly statistics) are exact.
So the latest value, the time series and the energy counters always agree with each other.
"""

from collections.abc import Iterable
from dataclasses import dataclass
import hashlib
import math


def unit_interval(*parts: object) -> float:
    """A reproducible number in [0, 1) derived from `parts` (seed, ids, time slots...)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def uniform(low: float, high: float, *parts: object) -> float:
    """A reproducible number in [low, high) derived from `parts`."""
    return low + (high - low) * unit_interval(*parts)


@dataclass(frozen=True, slots=True)
class Wave:
    """amplitude * sin(2*pi*t/period + phase), t in Unix seconds."""

    amplitude: float
    period: float
    phase: float


@dataclass(frozen=True, slots=True)
class Signal:
    """A constant plus waves; `value`, `integral` and `average` are exact."""

    mean: float
    waves: tuple[Wave, ...] = ()

    def value(self, t: float) -> float:
        """The signal at Unix time `t`."""
        return self.mean + sum(
            w.amplitude * math.sin(2 * math.pi * t / w.period + w.phase) for w in self.waves
        )

    def integral(self, start: float, end: float) -> float:
        """The integral over [start, end], in unit-seconds."""
        total = self.mean * (end - start)
        for w in self.waves:
            omega = 2 * math.pi / w.period
            total += (
                w.amplitude
                / omega
                * (math.cos(omega * start + w.phase) - math.cos(omega * end + w.phase))
            )
        return total

    def average(self, start: float, end: float) -> float:
        """The mean over [start, end)."""
        if end <= start:
            return self.value(start)
        return self.integral(start, end) / (end - start)

    def scaled(self, factor: float) -> Signal:
        """The same shape multiplied by `factor` (current from power, and so on)."""
        return Signal(
            self.mean * factor,
            tuple(Wave(w.amplitude * factor, w.period, w.phase) for w in self.waves),
        )


DAY = 86_400.0
WEEK = 7 * DAY


def daily_phase(peak_local_hour: float, utc_offset_hours: float) -> float:
    """The phase that puts a daily wave's peak at `peak_local_hour` in the site's time zone."""
    peak_utc = (peak_local_hour - utc_offset_hours) * 3600
    return math.pi / 2 - 2 * math.pi * peak_utc / DAY


def make_signal(
    mean: float,
    *,
    daily: float = 0.0,
    weekly: float = 0.0,
    noise: Iterable[float] = (),
    peak_local_hour: float = 14.0,
    utc_offset_hours: float = 0.0,
    seed: object = "",
) -> Signal:
    """A signal with a daily cycle peaking at a local hour, a weekly cycle and some wobble.

    The `noise` amplitudes become waves of periods between 20 minutes and 9 hours with
    phases drawn from `seed`, different for every measurement.
    """
    waves = []
    if daily:
        waves.append(Wave(daily, DAY, daily_phase(peak_local_hour, utc_offset_hours)))
    if weekly:
        waves.append(Wave(weekly, WEEK, uniform(0, 2 * math.pi, seed, "week")))
    for index, amplitude in enumerate(noise):
        period = uniform(1200, 32_400, seed, "period", index)
        waves.append(Wave(amplitude, period, uniform(0, 2 * math.pi, seed, "phase", index)))
    return Signal(mean, tuple(waves))
