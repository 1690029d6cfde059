"""Cross-check against the generated benchmark site, whose ground truth records every broken reference.

Every ``(page, line)`` the generator wrote for a broken target must come out of extraction as a link that
resolves to that target on that line: an independent check of URLs and line numbers on realistic pages.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from harness.sitegen import SiteSpec, generate_site

from linkdoctor.extract import extract_css, extract_html

ORIGIN = "http://site.test"


def site_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"#{parts.fragment}" if parts.fragment else "")


def test_extraction_finds_every_ground_truth_reference_on_its_line(tmp_path: Path) -> None:
    truth = generate_site(SiteSpec(pages=40, seed=7), tmp_path)
    expected: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for target, referrers in truth.referrers.items():
        for page, line in referrers:
            expected[page].add((target, line))
    assert expected, "the generated site has no broken references to check"

    for page, references in sorted(expected.items()):
        file = tmp_path / ("index.html" if page == "/" else page.lstrip("/"))
        text = file.read_text(encoding="utf-8")
        extraction = extract_css(text) if page.endswith(".css") else extract_html(text)
        found = {(site_path(urljoin(ORIGIN + page, link.url)), link.line) for link in extraction.links}
        assert references <= found, (page, sorted(references - found))
