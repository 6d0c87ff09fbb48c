"""quality_scale.yaml proves itself: every `done` rule names proofs, and every proof exists.

A proof is a test (tests/...py::test_name, collected by the same run), a piece of code
(custom_components/... or scripts/...py::name), a file, or a README section (README.md#anchor).
"""

import ast
from functools import cache
from pathlib import Path
import re
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.quality_scale_proofs_plugin import NODE, ROOT, SCALE, ProofOutcomes, rules

PATH = re.compile(r"(?<![\w/.])((?:tests|custom_components|scripts)/[\w/.-]*\w)(?![\w/.:-])")
ANCHOR = re.compile(r"README\.md#([\w-]+)")


@cache
def names_in(path: Path) -> frozenset[str]:
    """Functions, classes and assignments a Python file defines (test classes' methods too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(found)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def readme_anchors() -> set[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    in_code = False
    anchors: set[str] = set()
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#+ (.+)", line)):
            anchors.add(github_anchor(match.group(1)))
    return anchors


def proofs(comment: str) -> list[str]:
    """Every proof a comment names, as a readable reference; raises if one does not exist."""
    found: list[str] = []
    for path, name in NODE.findall(comment):
        file = ROOT / path
        assert file.is_file(), f"{path} does not exist"
        assert name in names_in(file), f"{path} defines no {name}"
        if path.startswith("tests/"):
            assert name.startswith("test_"), f"{path}::{name} is not a test"
        found.append(f"{path}::{name}")
    for path in PATH.findall(NODE.sub("", comment)):
        assert (ROOT / path).exists(), f"{path} does not exist"
        found.append(path)
    anchors = readme_anchors()
    for anchor in ANCHOR.findall(comment):
        assert anchor in anchors, f"README.md has no section #{anchor}"
        found.append(f"README.md#{anchor}")
    return found


@pytest.mark.parametrize("rule", sorted(rules()))
def test_every_rule_states_its_proof_or_reason(rule: str) -> None:
    value = rules()[rule]
    comment = str(value.get("comment", ""))
    if value["status"] == "done":
        assert proofs(comment), f"{rule} is done but names no test, code or section"
    elif value["status"] == "exempt":
        assert comment, f"{rule} is exempt without a reason"
    else:
        proofs(comment)  # whatever is named must exist


def test_a_missing_proof_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="defines no test_that_does_not_exist"):
        proofs("tests/test_packaging.py::test_that_does_not_exist")
    with pytest.raises(AssertionError, match="does not exist"):
        proofs("tests/no_such_file.py::test_x")
    with pytest.raises(AssertionError, match="no section"):
        proofs("README.md#no-such-section")
    assert proofs("README.md#known-limitations scripts/test") == [
        "scripts/test",
        "README.md#known-limitations",
    ]


def test_the_header_names_the_checks_that_exist() -> None:
    header = SCALE.read_text(encoding="utf-8").split("rules:")[0]
    assert proofs(header)


def test_a_named_test_that_fails_or_does_not_run_fails_the_run() -> None:

    outcomes = ProofOutcomes()
    outcomes.named = {"tests/a.py::test_ok", "tests/a.py::test_bad", "tests/a.py::test_gone"}
    outcomes.named |= {"tests/b.py::test_elsewhere"}
    items = ["tests/a.py::test_ok[1]", "tests/a.py::test_ok[2]", "tests/a.py::test_bad"]
    outcomes.pytest_collection_modifyitems(cast(Any, [SimpleNamespace(nodeid=i) for i in items]))
    for nodeid, when, outcome in (
        ("tests/a.py::test_ok[1]", "call", "passed"),
        ("tests/a.py::test_ok[2]", "call", "passed"),
        ("tests/a.py::test_bad", "setup", "passed"),
        ("tests/a.py::test_bad", "call", "failed"),
    ):
        report = SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome)
        outcomes.pytest_runtest_logreport(cast(Any, report))
    # test_elsewhere's file is not in this run: not asked for.
    assert outcomes.problems() == [
        "tests/a.py::test_bad did not pass (failed)",
        "tests/a.py::test_gone did not run, although its file was collected",
    ]
