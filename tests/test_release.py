"""The release check (scripts/release_check.py) and the zip the release workflow publishes."""

import json
from pathlib import Path
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

from scripts import release_check

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "scripts" / "release_check.py"

GOOD_CHANGELOG = """# Changelog

## [Unreleased]

- Something new.

## [1.2.0] - 2026-12-01

### Added

- Blueprints.

## [1.1.0] - 2026-11-28

- First.
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of what the check reads, at version 1.2.0, consistent."""
    integration = tmp_path / "custom_components" / "ecostruxure"
    shutil.copytree(ROOT / "custom_components" / "ecostruxure", integration)
    (integration / "__pycache__").mkdir(exist_ok=True)
    (integration / "__pycache__" / "const.cpython-314.pyc").write_bytes(b"cache")
    set_version(tmp_path, "1.2.0")
    shutil.copy(ROOT / "hacs.json", tmp_path / "hacs.json")
    (tmp_path / "CHANGELOG.md").write_text(GOOD_CHANGELOG)
    return tmp_path


def set_version(root: Path, version: str, *, pyproject: str | None = None) -> None:
    """Write `version` in manifest.json and pyproject.toml (or `pyproject` there)."""
    manifest_path = root / "custom_components" / "ecostruxure" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = version
    manifest_path.write_text(json.dumps(manifest, indent=2))
    (root / "pyproject.toml").write_text(f'[project]\nversion = "{pyproject or version}"\n')


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The script as CI runs it: a separate process, its exit code and output."""
    return subprocess.run(  # noqa: S603 - this repository's own script
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def test_this_repository_passes_the_check_for_its_own_version() -> None:
    version = json.loads(
        (ROOT / "custom_components" / "ecostruxure" / "manifest.json").read_text()
    )["version"]
    untagged = run()
    tagged = run(f"v{version}")
    assert untagged.returncode == 0, untagged.stderr
    assert tagged.returncode == 0, tagged.stderr
    assert f"version {version} agrees" in tagged.stdout


def test_a_consistent_tree_passes_and_writes_notes_of_that_version(
    repo: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    result = run("v1.2.0", "--root", str(repo), "--notes", str(notes))
    assert result.returncode == 0, result.stderr
    assert notes.read_text() == "### Added\n\n- Blueprints.\n"


@pytest.mark.parametrize(
    ("change", "tag", "message"),
    [
        (None, "v1.3.0", "tag v1.3.0 names version 1.3.0 but manifest.json says 1.2.0"),
        (None, "1.2.0", "tag '1.2.0' is not vX.Y.Z"),
        (None, "v1.2", "tag 'v1.2' is not vX.Y.Z"),
        ("version 1.3.0", None, "no section '## [1.3.0] - YYYY-MM-DD'"),
        ("pyproject 1.1.0", None, "pyproject.toml: version '1.1.0' differs"),
        ("version 1.2", None, "manifest.json: version '1.2' is not X.Y.Z"),
        ("changelog unreleased only", "v1.2.0", "move the Unreleased notes under it"),
        ("changelog order", None, "versions are not newest first"),
        ("changelog twice", None, "a version has two sections"),
        ("changelog no date", None, "[1.2.0] has no date"),
        ("changelog bad date", None, "has date '2026-13-01', not YYYY-MM-DD"),
        ("changelog empty", None, "[1.2.0] says nothing"),
        ("changelog unreleased last", None, "[Unreleased] must be the first section"),
        ("changelog heading", None, "heading '## 1.2.0' is neither"),
        ("changelog missing", None, "CHANGELOG.md is missing"),
        ("hacs", None, 'hacs.json: needs "zip_release": true'),
    ],
)
def test_an_inconsistent_tree_fails_with_a_clear_message(
    repo: Path, change: str | None, tag: str | None, message: str
) -> None:
    changelog = repo / "CHANGELOG.md"
    match change:
        case "version 1.3.0":
            set_version(repo, "1.3.0")
        case "pyproject 1.1.0":
            set_version(repo, "1.2.0", pyproject="1.1.0")
        case "version 1.2":
            set_version(repo, "1.2")
        case "changelog unreleased only":
            changelog.write_text("## [Unreleased]\n\n- New.\n\n## [1.1.0] - 2026-11-28\n\n- A.\n")
        case "changelog order":
            changelog.write_text(
                "## [1.1.0] - 2026-11-28\n\n- A.\n\n## [1.2.0] - 2026-12-01\n\n- B.\n"
            )
        case "changelog twice":
            changelog.write_text(
                "## [1.2.0] - 2026-12-01\n\n- B.\n\n## [1.2.0] - 2026-11-28\n\n- A.\n"
            )
        case "changelog no date":
            changelog.write_text(GOOD_CHANGELOG.replace("[1.2.0] - 2026-12-01", "[1.2.0]"))
        case "changelog bad date":
            changelog.write_text(GOOD_CHANGELOG.replace("2026-12-01", "2026-13-01"))
        case "changelog empty":
            changelog.write_text("## [1.2.0] - 2026-12-01\n\n## [1.1.0] - 2026-11-28\n\n- A.\n")
        case "changelog unreleased last":
            changelog.write_text(GOOD_CHANGELOG + "\n## [Unreleased]\n\n- Late.\n")
        case "changelog heading":
            changelog.write_text("## 1.2.0\n\n- B.\n")
        case "changelog missing":
            changelog.unlink()
        case "hacs":
            (repo / "hacs.json").write_text(json.dumps({"name": "EcoStruxure"}))
    result = run(*([tag] if tag else []), "--root", str(repo), "--zip", str(repo / "out.zip"))
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.startswith("release_check: ")
    assert not (repo / "out.zip").exists()  # nothing is built for a broken release


def test_every_problem_is_listed_at_once(repo: Path) -> None:
    set_version(repo, "1.3.0", pyproject="1.0.0")
    result = run("v2.0.0", "--root", str(repo))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # pyproject, tag, changelog


def test_the_zip_has_the_layout_hacs_installs(repo: Path, tmp_path: Path) -> None:
    """HACS unpacks the zip into custom_components/ecostruxure: manifest.json at its root."""
    archive = tmp_path / "ecostruxure.zip"
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["zip_release"] is True
    assert archive.name == hacs["filename"]
    assert run("v1.2.0", "--root", str(repo), "--zip", str(archive)).returncode == 0
    source = repo / "custom_components" / "ecostruxure"
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        manifest = json.loads(zipped.read("manifest.json"))
        # Unpacked where HACS unpacks it, it is the integration's folder, byte for byte.
        assert all(zipped.read(name) == (source / name).read_bytes() for name in names)
    expected = {
        p.relative_to(source).as_posix()
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert names == expected
    assert {"manifest.json", "__init__.py", "translations/en.json"} <= names
    assert not any(name.startswith(("custom_components/", "ecostruxure/", "/")) for name in names)
    assert manifest["domain"] == "ecostruxure"
    assert manifest["version"] == "1.2.0"
    # The same tree gives the same bytes (no build times in the archive).
    again = tmp_path / "again.zip"
    release_check.build_zip(repo, again)
    assert again.read_bytes() == archive.read_bytes()


def test_the_release_workflow_checks_tests_and_publishes_the_zip_and_notes() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yaml").read_text())
    # PyYAML reads the key `on` as True.
    assert workflow[True]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]
    steps = [step.get("run", "") for step in workflow["jobs"]["release"]["steps"]]
    check = next(i for i, s in enumerate(steps) if "release_check.py" in s)
    tests = steps.index("scripts/test")
    build = next(i for i, s in enumerate(steps) if "--zip ecostruxure.zip" in s)
    publish = next(i for i, s in enumerate(steps) if s.startswith("gh release create"))
    assert check < tests < build < publish
    assert "--notes release-notes.md" in steps[build]
    assert "ecostruxure.zip" in steps[publish]
    assert "--notes-file release-notes.md" in steps[publish]
    validate = (ROOT / ".github" / "workflows" / "validate.yaml").read_text()
    assert "scripts/release_check.py" in validate
    assert "scripts/release_check.py" in (ROOT / "scripts" / "test").read_text()
