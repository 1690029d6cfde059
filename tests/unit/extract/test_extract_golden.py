"""Golden files: each fixture document's full extraction must equal the JSON stored next to it.

Regenerate after an intended change with ``LINKDOCTOR_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from linkdoctor.extract import Extraction, extract_css, extract_html, extract_markdown

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extract"
UPDATE_ENV = "LINKDOCTOR_UPDATE_GOLDEN"

EXTRACTORS: dict[str, Callable[[str], Extraction]] = {
    "rich.html": extract_html,
    "guide.md": extract_markdown,
    "site.css": extract_css,
}


def as_json(extraction: Extraction) -> dict[str, Any]:
    return {
        "links": [
            {"url": link.url, "line": link.line, "text": link.text, "element": link.element}
            for link in extraction.links
        ],
        "anchors": sorted(extraction.anchors),
        "base_href": extraction.base_href,
        "nofollow": extraction.nofollow,
    }


def golden(document: str, actual: dict[str, Any]) -> dict[str, Any]:
    """Return the stored expectation, rewriting it first when the update variable is set."""
    path = FIXTURES / f"{document}.json"
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with {UPDATE_ENV}=1 to create it")
    expected: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return expected


@pytest.mark.parametrize("document", sorted(EXTRACTORS))
def test_extraction_matches_golden_file(document: str) -> None:
    text = (FIXTURES / document).read_text(encoding="utf-8")
    actual = as_json(EXTRACTORS[document](text))
    assert actual == golden(document, actual)
