"""docs/nginx-lint.md documents every rule and carries the README example exactly as tested."""

from __future__ import annotations

from pathlib import Path

from linkdoctor.nginx.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "nginx-lint.md"
EXAMPLE = Path(__file__).parent / "fixtures" / "readme_example" / "nginx.conf"


def test_the_doc_has_a_section_for_every_rule() -> None:
    text = DOC.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"### {rule.id} — {rule.title}" in text
        assert rule.snippet in text


def test_the_doc_shows_the_tested_example_config_verbatim() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"```nginx\n{EXAMPLE.read_text(encoding='utf-8')}```" in text


def test_the_readme_shows_the_tested_example_config_verbatim() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```nginx\n{EXAMPLE.read_text(encoding='utf-8')}```" in text
