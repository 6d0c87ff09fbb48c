"""The soak's summary lines, shown at the end of every pytest run that ran a soak test."""

from collections.abc import Callable

import pytest

_SUMMARY = pytest.StashKey[list[str]]()


@pytest.fixture
def soak_summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a line for the terminal summary (seen in CI's log without `-s`)."""
    lines = request.config.stash.setdefault(_SUMMARY, [])
    return lines.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the soak tests recorded, passed or failed."""
    lines = terminalreporter.config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("fault soak")
        for line in lines:
            terminalreporter.write_line(line)
