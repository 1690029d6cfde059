"""The documents a newcomer and a maintainer rely on exist and keep their shape: a license, a changelog,
the architecture map, a benchmark page short enough to read, and a README that promises users what they
can expect rather than the project's internal targets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["LICENSE", "CHANGELOG.md", "docs/architecture.md", "docs/library.md"])
def test_the_document_exists(name: str) -> None:
    assert (ROOT / name).read_text(encoding="utf-8").strip()


def test_the_license_is_the_apache_text_pyproject_names() -> None:
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_changelog_has_an_unreleased_section() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_the_benchmark_page_is_under_250_lines() -> None:
    assert len((ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8").splitlines()) < 250


def test_the_readme_states_no_internal_targets() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"not met|\(target [≤≥<>]", text, re.IGNORECASE)


def test_the_architecture_map_names_only_modules_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(
        re.findall(r"\b(?:engine|monitor|web|cli|report|doctor|tls|classify|extract)/[a-z_]+\.py", text)
    )
    missing = sorted(p for p in named if not (ROOT / "src" / "linkdoctor" / p).exists())
    assert missing == []
