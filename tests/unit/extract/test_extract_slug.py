"""GitHub-style heading slugs."""

from __future__ import annotations

import pytest

from linkdoctor.extract.slug import HeadingSlugger, github_slug


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Getting Started", "getting-started"),
        ("Hello, World! (v2.0)", "hello-world-v20"),
        ("snake_case and kebab-case", "snake_case-and-kebab-case"),
        ("  Two  spaces  ", "--two--spaces--"),
        ("Ünïcödé & Symbols: 100%", "ünïcödé--symbols-100"),
        ("Привет non-latin 你好", "привет-non-latin-你好"),
        ("😄 emoji", "-emoji"),
        ("", ""),
    ],
)
def test_slug_lowercases_keeps_word_characters_and_hyphenates_spaces(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_repeated_headings_are_numbered_in_order() -> None:
    slugger = HeadingSlugger()
    assert [slugger.slug(h) for h in ("FAQ", "FAQ", "FAQ")] == ["faq", "faq-1", "faq-2"]


def test_a_numbered_slug_written_literally_does_not_collide() -> None:
    slugger = HeadingSlugger()
    assert [slugger.slug(h) for h in ("Usage", "Usage", "Usage-1", "Usage")] == [
        "usage",
        "usage-1",
        "usage-1-1",
        "usage-2",
    ]
