"""The blueprint files: valid for Home Assistant, tested, and importable from the README."""

import json
from pathlib import Path
from urllib.parse import quote

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import models
from homeassistant.util.yaml import load_yaml
from packaging.version import Version

from .conftest import BLUEPRINTS, ROOT

TESTED = {
    "alarm_notification.yaml": "test_alarm_notification.py",
    "connectivity_lost.yaml": "test_connectivity_lost.py",
    "comfort_out_of_range.yaml": "test_comfort_out_of_range.py",
}


def test_every_blueprint_is_valid_and_has_its_tests() -> None:
    files = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert files == sorted(TESTED)
    minimum = Version(json.loads((ROOT / "hacs.json").read_text())["homeassistant"])
    for name, tests in TESTED.items():
        blueprint = models.Blueprint(
            load_yaml(BLUEPRINTS / name),
            expected_domain="automation",
            path=name,
            schema=AUTOMATION_BLUEPRINT_SCHEMA,
        )
        assert Version(blueprint.metadata["homeassistant"]["min_version"]) <= minimum
        assert (Path(__file__).parent / tests).is_file()


def test_the_readme_imports_each_blueprint_from_this_repository() -> None:
    """The links open Home Assistant's import dialog on the file's raw address."""
    manifest = json.loads(
        (ROOT / "custom_components" / "ecostruxure" / "manifest.json").read_text()
    )
    repository = manifest["documentation"].removeprefix("https://github.com/")
    readme = (ROOT / "README.md").read_text()
    for name in TESTED:
        raw = (
            f"https://raw.githubusercontent.com/{repository}/main/"
            f"blueprints/automation/ecostruxure/{name}"
        )
        link = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
        assert f"({link}{quote(raw, safe='')})" in readme, name
        source = load_yaml(BLUEPRINTS / name)["blueprint"]["source_url"]
        assert (
            source
            == f"https://github.com/{repository}/blob/main/blueprints/automation/ecostruxure/{name}"
        )
