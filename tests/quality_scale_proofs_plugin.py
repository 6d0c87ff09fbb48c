"""Every test quality_scale.yaml names as a proof must pass in the run that collects it.

tests/test_quality_scale_proofs.py checks that each named test exists; this plugin checks, at
the end of a run, that each one whose file was collected also ran and passed (every
parametrized case of it). A run of a subset checks the proofs it collected.
"""

from collections import defaultdict
from pathlib import Path
import re

import pytest
import yaml

ROOT = Path(__file__).parents[1]
SCALE = ROOT / "custom_components" / "ecostruxure" / "quality_scale.yaml"
# A test, or a name in a module: path::name.
NODE = re.compile(r"(?<![\w/.])((?:tests|custom_components|scripts)/[\w/.-]+\.py)::(\w+)")
PASSED = "passed"


def rules() -> dict[str, dict[str, str]]:
    """The rules of quality_scale.yaml, each as a mapping with its status (and comment)."""
    raw = yaml.safe_load(SCALE.read_text(encoding="utf-8"))["rules"]
    return {
        name: {"status": value} if isinstance(value, str) else value for name, value in raw.items()
    }


def named_tests() -> set[str]:
    """`path::name` of every test named by a `done` rule."""
    return {
        f"{path}::{name}"
        for value in rules().values()
        if value["status"] == "done"
        for path, name in NODE.findall(str(value.get("comment", "")))
        if path.startswith("tests/")
    }


class ProofOutcomes:
    """Collects the outcome of each named test's cases during the run."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.outcomes: defaultdict[str, list[str]] = defaultdict(list)
        self.named = named_tests()

    @staticmethod
    def _test_of(nodeid: str) -> str:
        return nodeid.split("[", 1)[0]

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.files = {item.nodeid.split("::", 1)[0] for item in items}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self._test_of(report.nodeid)
        if test not in self.named:
            return
        if report.when == "call" or report.outcome != PASSED:
            self.outcomes[test].append(report.outcome)

    def problems(self) -> list[str]:
        found = []
        for test in sorted(self.named):
            if test.split("::", 1)[0] not in self.files:
                continue  # not part of this run
            outcomes = self.outcomes.get(test)
            if not outcomes:
                found.append(f"{test} did not run, although its file was collected")
            elif any(outcome != PASSED for outcome in outcomes):
                found.append(f"{test} did not pass ({', '.join(sorted(set(outcomes)))})")
        return found

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or session.shouldfail or session.shouldstop:
            return
        if problems := self.problems():
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_sep("=", "quality_scale.yaml proofs", red=True)
                for problem in problems:
                    reporter.write_line(f"proof {problem}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ProofOutcomes(), "ecostruxure-quality-scale-proofs")
