"""The README's IT Expert automation examples: valid automations, on entities that exist."""

import re

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
import yaml

from .conftest import ROOT

SNAPSHOT = ROOT / "tests" / "integration" / "it_expert" / "snapshots" / "test_snapshots.ambr"


def it_examples() -> list[dict[str, object]]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### IT Expert automation examples", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    return [item for block in blocks for item in yaml.safe_load(block)["automation"]]


async def test_it_expert_examples_are_valid_automations_on_demo_entities(
    hass: HomeAssistant,
) -> None:
    examples = it_examples()
    # A UPS on battery, a PDU outlet over its load, a room too warm, alarms.
    assert len(examples) == 4
    snapshot = SNAPSHOT.read_text()
    for example in examples:
        validated = await async_validate_config_item(hass, "example", example)
        assert validated is not None
        assert validated.validation_error is None, (example["alias"], validated.validation_error)
        for trigger in example["triggers"]:  # type: ignore[attr-defined]
            assert f"'entity_id': '{trigger['entity_id']}'" in snapshot, trigger["entity_id"]
