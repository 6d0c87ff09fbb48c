"""scripts/coverage_per_module.py: the per-module threshold scripts/test enforces."""

import json
from pathlib import Path

import pytest

from scripts.coverage_per_module import main


def report(tmp_path: Path, percents: dict[str, float]) -> str:
    path = tmp_path / "coverage.json"
    files = {name: {"summary": {"percent_covered": p}} for name, p in percents.items()}
    path.write_text(json.dumps({"files": files}), encoding="utf-8")
    return str(path)


def test_a_module_under_the_threshold_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A total of 97 % hides one module at 92 %.
    path = report(tmp_path, {"sensor.py": 100.0, "stream.py": 92.4, "topology.py": 99.0})
    assert main([path, "--min", "95"]) == 1
    err = capsys.readouterr().err
    assert "stream.py: 92.4 %" in err
    assert "sensor.py" not in err
    assert "topology.py" not in err


def test_every_module_at_the_threshold_passes(tmp_path: Path) -> None:
    assert main([report(tmp_path, {"a.py": 95.0, "b.py": 100.0}), "--min", "95"]) == 0


def test_an_empty_or_missing_report_fails(tmp_path: Path) -> None:
    assert main([report(tmp_path, {})]) == 2
    assert main([str(tmp_path / "absent.json")]) == 2
