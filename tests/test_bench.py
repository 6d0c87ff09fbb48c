"""scripts/bench still runs: every size, the remote run and the stream, at a tiny scale."""

import pytest

from scripts.benchmark.cli import main
from scripts.benchmark.polling import split_sites
from scripts.benchmark.simproc import ServedSite


def test_sites_are_split_over_entries_as_the_config_flow_lets_a_user() -> None:
    sites = [ServedSite(f"s{n}", count) for n, count in enumerate((400, 500, 300, 900, 100))]
    assert split_sites(sites, cap=1000) == [["s0", "s1"], ["s2"], ["s3", "s4"]]
    with pytest.raises(ValueError, match="alone"):
        split_sites([ServedSite("big", 1001)], cap=1000)


def test_the_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "--sizes=1x8",
                "--cycles=1",
                "--remote-latency-ms=10",
                "--rates=100",
                "--window=0.5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for heading in ("Setup and memory", "Per polling cycle", "HTTP and state writes", "Targets"):
        assert heading in out
    assert "| 1 × 8 " in out
    assert "| 1 × 8, 10 ms away " in out
    assert "IT Expert live stream" in out
    # One site: its two requests a cycle, and the value changed written once.
    assert "| HTTP requests per cycle exactly 2 × sites " in out
    assert "1 × 8: 2–2 for 2" in out
    # Issue 16's polling targets, and what decoding and parsing a cycle's answers cost.
    assert "| integration / bare wall time per cycle < 1.3 at the top size " in out
    assert "| integration / bare CPU time per cycle < 2 at the top size " in out
    assert "| no event-loop block over 25 ms at the top size: polling, one callback " in out
    assert "decoding: json " in out
    assert ", orjson " in out
    assert "The benchmark took" in out
