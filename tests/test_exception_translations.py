"""Every translated exception the integration raises fills exactly the placeholders of its text.

A missing placeholder shows the user the literal template ("... API: {error}"); an extra one
is dropped silently. The code is read with `ast`, so a new raise is checked without a test.
"""

import ast
from dataclasses import dataclass
import json
from pathlib import Path
import string

import pytest

PACKAGE = Path(__file__).parent.parent / "custom_components" / "ecostruxure"
LANGUAGES = ("en", "fr", "de")
# Home Assistant's exceptions that take a translation (HomeAssistantError and its children).
EXCEPTION_SUFFIXES = ("Error", "Failed", "NotReady", "Exception")


@dataclass(frozen=True)
class Raised:
    """One translated exception built in the code."""

    where: str
    key: str
    placeholders: frozenset[str]


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _keys(node: ast.expr, where: str) -> list[str]:
    """The translation keys an expression can take (a constant, or either branch of an if)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _keys(node.body, where) + _keys(node.orelse, where)
    raise AssertionError(f"{where}: translation_key must be a literal to be checked")


def _placeholders(node: ast.expr | None, where: str) -> frozenset[str]:
    if node is None:
        return frozenset()
    assert isinstance(node, ast.Dict), f"{where}: translation_placeholders must be a dict literal"
    keys = set()
    for key in node.keys:
        assert isinstance(key, ast.Constant), f"{where}: placeholder names must be literals"
        keys.add(str(key.value))
    return frozenset(keys)


def translated_exceptions() -> list[Raised]:
    """Every exception built with a `translation_key` in the integration's code."""
    found: list[Raised] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _name(node.func).endswith(EXCEPTION_SUFFIXES):
                continue
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            if "translation_key" not in keywords:
                continue
            where = f"{path.relative_to(PACKAGE.parent.parent)}:{node.lineno}"
            placeholders = _placeholders(keywords.get("translation_placeholders"), where)
            found.extend(
                Raised(where, key, placeholders)
                for key in _keys(keywords["translation_key"], where)
            )
    return found


def text_placeholders(text: str) -> frozenset[str]:
    """The `{name}` fields of a translated text."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field)


def exception_texts(language: str) -> dict[str, str]:
    data = json.loads((PACKAGE / "translations" / f"{language}.json").read_text("utf-8"))
    return {key: value["message"] for key, value in data["exceptions"].items()}


RAISED = translated_exceptions()


def test_the_scan_finds_the_raises() -> None:
    """The scan sees the known raises: a scan that finds nothing proves nothing."""
    keys = {raised.key for raised in RAISED}
    assert {"update_failed", "it_update_failed", "invalid_auth", "forbidden"} <= keys
    assert {"not_an_ecostruxure_device", "import_failed", "it_invalid_auth"} <= keys


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("raised", RAISED, ids=lambda r: f"{r.key}@{r.where}")
def test_placeholders_match_the_text(raised: Raised, language: str) -> None:
    texts = exception_texts(language)
    assert raised.key in texts, f"{raised.where}: no {language} text for {raised.key}"
    assert raised.placeholders == text_placeholders(texts[raised.key]), (
        f"{raised.where}: {raised.key} fills {sorted(raised.placeholders)}, "
        f"the {language} text has {sorted(text_placeholders(texts[raised.key]))}"
    )


def test_placeholder_parser() -> None:
    assert text_placeholders("Importing {site} failed: {error}") == {"site", "error"}
    assert text_placeholders("No fields here.") == frozenset()
