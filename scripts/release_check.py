"""Check that a release can be made: the tag, manifest.json, pyproject.toml and CHANGELOG.md agree.

    python scripts/release_check.py              # every push: the files agree with each other
    python scripts/release_check.py v1.2.3       # a release tag: it names that version too
    python scripts/release_check.py v1.2.3 --notes notes.md --zip ecostruxure.zip

`--notes` writes the version's changelog section (the release's text) and `--zip` the archive
HACS installs: the contents of custom_components/ecostruxure, manifest.json at its root. The
release workflow uses both, so the tests of this script check what is published.

Exits 1 with one line per problem found, 0 with a summary when all is well.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
import json
from pathlib import Path
import re
import sys
import tomllib
import zipfile

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = "ecostruxure"

VERSION = r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
TAG_RE = re.compile(rf"v({VERSION})")
# "## [1.2.3] - 2026-12-02" or "## [Unreleased]"
HEADING_RE = re.compile(r"## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?\s*")
UNRELEASED = "Unreleased"

# A zip made on one machine should equal one made on another: fixed times, no caches.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class ReleaseError(Exception):
    """The repository is not in a state to release; the message lists why."""


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the changelog: a version (or Unreleased), its date and its text."""

    name: str
    date: str | None
    body: str


def parse_changelog(text: str) -> list[Section]:
    """The `## [...]` sections of the changelog, in file order."""
    sections: list[Section] = []
    heading: re.Match[str] | None = None
    lines: list[str] = []
    for line in [*text.splitlines(), None]:
        if line is None or line.startswith("## "):
            if heading is not None:
                sections.append(Section(heading["name"], heading["date"], "\n".join(lines).strip()))
            if line is None:
                break
            heading = HEADING_RE.fullmatch(line)
            if heading is None:
                raise ReleaseError(
                    f"CHANGELOG.md: heading {line!r} is neither '## [X.Y.Z] - YYYY-MM-DD' "
                    "nor '## [Unreleased]'"
                )
            lines = []
        elif heading is not None:
            lines.append(line)
    return sections


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_changelog(sections: list[Section], version: str, *, released: bool) -> list[str]:
    """Problems of the changelog for `version` (a release when `released`)."""
    problems: list[str] = []
    versions: list[str] = []
    for index, section in enumerate(sections):
        if section.name == UNRELEASED:
            if index != 0:
                problems.append("CHANGELOG.md: [Unreleased] must be the first section")
            continue
        if not re.fullmatch(VERSION, section.name):
            problems.append(f"CHANGELOG.md: [{section.name}] is not a version X.Y.Z")
            continue
        if section.date is None:
            problems.append(f"CHANGELOG.md: [{section.name}] has no date (## [X.Y.Z] - YYYY-MM-DD)")
        else:
            try:
                date.fromisoformat(section.date)
            except ValueError:
                problems.append(
                    f"CHANGELOG.md: [{section.name}] has date {section.date!r}, not YYYY-MM-DD"
                )
        if not section.body:
            problems.append(f"CHANGELOG.md: [{section.name}] says nothing")
        versions.append(section.name)
    if len(set(versions)) != len(versions):
        problems.append("CHANGELOG.md: a version has two sections")
    elif versions != sorted(versions, key=_version_key, reverse=True):
        problems.append("CHANGELOG.md: versions are not newest first")
    if version not in versions:
        problems.append(
            f"CHANGELOG.md has no section '## [{version}] - YYYY-MM-DD' for the manifest's "
            f"version {version}" + (" (move the Unreleased notes under it)" if released else "")
        )
    return problems


def check(root: Path, tag: str | None = None) -> tuple[str, Section]:
    """The version to release and its changelog section; ReleaseError lists every problem."""
    problems: list[str] = []
    manifest = json.loads((root / "custom_components" / DOMAIN / "manifest.json").read_text())
    version = str(manifest.get("version", ""))
    if not re.fullmatch(VERSION, version):
        problems.append(f"manifest.json: version {version!r} is not X.Y.Z")
    project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    if project.get("version") != version:
        problems.append(
            f"pyproject.toml: version {project.get('version')!r} differs from manifest.json's "
            f"{version!r}"
        )
    if tag is not None:
        match = TAG_RE.fullmatch(tag)
        if match is None:
            problems.append(f"tag {tag!r} is not vX.Y.Z")
        elif match[1] != version:
            problems.append(
                f"tag {tag} names version {match[1]} but manifest.json says {version}: "
                "bump the manifest (and pyproject.toml) or tag v" + version
            )
    hacs = json.loads((root / "hacs.json").read_text())
    if hacs.get("zip_release") is not True or hacs.get("filename") != f"{DOMAIN}.zip":
        problems.append(f'hacs.json: needs "zip_release": true and "filename": "{DOMAIN}.zip"')
    changelog = root / "CHANGELOG.md"
    sections: list[Section] = []
    if not changelog.is_file():
        problems.append("CHANGELOG.md is missing")
    else:
        try:
            sections = parse_changelog(changelog.read_text())
        except ReleaseError as err:
            problems.append(str(err))
        else:
            problems += check_changelog(sections, version, released=tag is not None)
    if problems:
        raise ReleaseError("\n".join(problems))
    return version, next(s for s in sections if s.name == version)


def release_notes(section: Section) -> str:
    """The text of a GitHub release: the version's changelog section."""
    return section.body + "\n"


def build_zip(root: Path, destination: Path) -> list[str]:
    """Zip the integration's files, relative to its folder (HACS unpacks them there)."""
    source = root / "custom_components" / DOMAIN
    names: list[str] = []
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if (
                not path.is_file()
                or SKIPPED_PARTS & set(relative.parts)
                or path.suffix in SKIPPED_SUFFIXES
            ):
                continue
            info = zipfile.ZipInfo(relative.as_posix(), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
            names.append(info.filename)
    return names


def main(argv: list[str] | None = None) -> int:
    """Run the checks; write the notes and the zip when asked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("tag", nargs="?", help="the release tag, vX.Y.Z")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--notes", type=Path, help="write the version's changelog section here")
    parser.add_argument("--zip", type=Path, help="write the archive HACS installs here")
    args = parser.parse_args(argv)
    try:
        version, section = check(args.root, args.tag)
    except ReleaseError as err:
        for line in str(err).splitlines():
            print(f"release_check: {line}", file=sys.stderr)
        return 1
    if args.notes is not None:
        args.notes.write_text(release_notes(section))
    if args.zip is not None:
        files = build_zip(args.root, args.zip)
        print(f"release_check: {args.zip} holds {len(files)} files")
    print(
        f"release_check: version {version} agrees in manifest.json, pyproject.toml and "
        f"CHANGELOG.md" + (f" and with tag {args.tag}" if args.tag else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
