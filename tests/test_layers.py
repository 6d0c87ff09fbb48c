"""What a module pulls in when it is imported: the config flow stays light."""

import json
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).parent.parent

# Printed by a fresh interpreter: the modules loaded once the config flow is imported.
_PROBE = """
import json, sys
import custom_components.ecostruxure.config_flow
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_importing_the_config_flow() -> set[str]:
    result = subprocess.run(  # noqa: S603 - this interpreter, this repository's own code
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_config_flow_loads_neither_the_recorder_nor_the_statistics() -> None:
    modules = _modules_after_importing_the_config_flow()
    assert "custom_components.ecostruxure.config_flow" in modules  # the probe worked
    assert "homeassistant.components.recorder" not in modules
    assert "custom_components.ecostruxure.facility_expert.statistics" not in modules
