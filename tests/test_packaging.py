"""What HACS, hassfest and the quality scale read from the repository."""

import json
from pathlib import Path
import tomllib

from PIL import Image
import yaml

ROOT = Path(__file__).parents[1]
INTEGRATION = ROOT / "custom_components" / "ecostruxure"

# The rules of the integration quality scale (script/hassfest/quality_scale.py in HA core).
RULES = {
    "bronze": [
        "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
        "config-flow-test-coverage", "dependency-transparency", "docs-actions",
        "docs-conditions", "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "docs-triggers", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
        "docs-installation-parameters", "entity-unavailable", "integration-owner",
        "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    ],
    "gold": [
        "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
        "docs-examples", "docs-known-limitations", "docs-supported-devices",
        "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
        "entity-category", "entity-device-class", "entity-disabled-by-default",
        "entity-translations", "exception-translations", "icon-translations",
        "reconfiguration-flow", "repair-issues", "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}  # fmt: skip


def test_manifest_is_what_hassfest_expects() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "ecostruxure"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "cloud_polling"
    assert manifest["requirements"] == []  # Home Assistant's own aiohttp is used
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert manifest["version"] == project["version"]


def test_hacs_file_has_only_keys_hacs_knows() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    known = {
        "name", "content_in_root", "zip_release", "filename", "hide_default_branch",
        "country", "homeassistant", "hacs", "persistent_directory", "render_readme",
    }  # fmt: skip
    assert set(hacs) <= known
    assert hacs["name"]
    assert hacs["homeassistant"].startswith("2026.")


def test_brand_icons_have_the_sizes_brands_require() -> None:
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.format == "PNG"
            assert image.size == (size, size)
            assert image.mode == "RGBA"


def test_quality_scale_lists_every_rule_and_explains_exemptions() -> None:
    scale = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    expected = [rule for tier in RULES.values() for rule in tier]
    assert sorted(scale) == sorted(expected)
    for rule, value in scale.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status == "exempt":
            assert isinstance(value, dict), rule
            assert value.get("comment"), rule


def test_platinum_claims_hold() -> None:
    scale = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    api = INTEGRATION / "api"
    if scale["strict-typing"] == "done":
        assert (api / "py.typed").exists()
    if scale["async-dependency"] == "done":
        sources = "\n".join(p.read_text() for p in api.glob("*.py"))
        assert "import requests" not in sources
        assert "homeassistant" not in sources  # the client stands on its own
    if scale["inject-websession"] == "done":
        assert "session: aiohttp.ClientSession" in (api / "client.py").read_text()
