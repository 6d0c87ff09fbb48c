"""scripts/bench judges the stream's target: no block over 25 ms at 10,000 readings/s."""

from dataclasses import replace

import pytest

from scripts.benchmark.report import Target, targets
from scripts.benchmark.stream import RateFigures, StreamFigures

NAME = "IT Expert stream at 10,000 readings/s: no block over 25 ms"
CALM = RateFigures(
    offered=10_000,
    seconds=5.0,
    sent=10_000,
    processed=10_000,
    state_writes=2_000,
    cpu_percent=20,
    simulator_cpu_percent=15,
    loop_block=0.012,
    longest_callback=0.004,
    gc_pause=0.0,
    drops=0,
    young_collections=0,
    full_collections=0,
)


def _target(*rates: RateFigures) -> Target:
    found = [
        t for t in targets([], None, StreamFigures(1_000, 1_500, list(rates))) if t.name == NAME
    ]
    assert len(found) == 1
    return found[0]


def test_met_when_no_callback_wait_or_collection_reaches_25_ms() -> None:
    target = _target(replace(CALM, offered=5_000), CALM)
    assert target.met is True
    assert target.figure == (
        "longest callback 4.0 ms, wait 12 ms, GC 0.0 ms (0 young, 0 full collections in 5 s)"
    )


@pytest.mark.parametrize(
    "slow",
    [
        replace(CALM, longest_callback=0.040),
        replace(CALM, loop_block=0.026),
        replace(CALM, gc_pause=0.300, full_collections=1),
        replace(CALM, processed=5_000),  # fell behind
    ],
)
def test_missed_by_any_long_block_or_falling_behind(slow: RateFigures) -> None:
    assert _target(slow).met is False


def test_missed_when_the_stream_fell_behind_before_that_rate() -> None:
    target = _target(replace(CALM, offered=5_000, drops=1))
    assert (target.met, target.figure) == (False, "fell behind at 5,000/s")


def test_not_judged_when_that_rate_was_not_asked_for() -> None:
    assert _target(replace(CALM, offered=2_000)).met is None
