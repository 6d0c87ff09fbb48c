"""Every text a user sees exists in English, French and German, with the same placeholders."""

import json
from pathlib import Path
import re
import string

import pytest

from custom_components.ecostruxure.facility_expert.descriptions import (
    ALARM_DEVICE_CLASSES,
    MEASUREMENT_SENSORS,
    SITE_BINARY_SENSORS,
    SITE_SENSORS,
)
from custom_components.ecostruxure.facility_expert.event import ALARM_EVENTS

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "ecostruxure"
LANGUAGES = ("en", "fr", "de")


def load(language: str) -> dict:
    return json.loads((INTEGRATION / "translations" / f"{language}.json").read_text())


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_language_has_every_text_with_its_placeholders(language: str) -> None:
    english, other = flatten(load("en")), flatten(load(language))
    assert other.keys() == english.keys()
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key
        assert other[key].strip(), key


def test_every_name_and_message_the_code_uses_is_translated() -> None:
    english = load("en")
    sensors = english["entity"]["sensor"]
    for description in MEASUREMENT_SENSORS.values():
        if description.translation_key:
            assert description.translation_key in sensors
        assert description.phase_translation_key in sensors
        assert "{phase}" in sensors[description.phase_translation_key]["name"]
    for site_sensor in SITE_SENSORS:
        assert site_sensor.translation_key in sensors
    binary = english["entity"]["binary_sensor"]
    assert set(ALARM_DEVICE_CLASSES) | {"unknown_alarm"} <= binary.keys()
    for site_binary in SITE_BINARY_SENSORS:
        assert site_binary.translation_key is None or site_binary.translation_key in binary
    event = english["entity"]["event"][ALARM_EVENTS.translation_key]
    assert set(event["state_attributes"]["event_type"]["state"]) == set(ALARM_EVENTS.event_types)
    sources = "\n".join(p.read_text() for p in INTEGRATION.glob("*.py"))
    for key in re.findall(r'translation_key="([a-z_]+)"', sources):
        in_exceptions = key in english["exceptions"]
        in_issues = key in english["issues"]
        in_entities = key in sensors or key in binary or key in english["entity"]["event"]
        assert in_exceptions or in_issues or in_entities, key
    for key in re.findall(r'FlowError\("([a-z_]+)"', sources):
        assert key in english["config"]["error"], key


def test_icons_belong_to_translated_entities() -> None:
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]
    english = load("en")["entity"]
    for platform, keys in icons.items():
        assert set(keys) <= set(english[platform]), platform
