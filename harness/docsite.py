"""A generated documentation site shaped like the ones the reports must stay readable for: every page
shares a navigation (a sidebar linking every section page and its headings by ``#fragment``) and the same
assets, and the site has a few real problems: one missing page (``changelog.html``) linked through many
different fragments, and anchors missing on a page that is fine (``guide.html``).

    spec = DocSite(pages=12, changelog_fragments=50, changelog_pages=12)
    write_docsite(spec, tmp_path / "site")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MISSING_PAGE = "changelog.html"
GUIDE = "guide.html"
GUIDE_IDS = ("intro", "usage", "reference")


@dataclass(frozen=True)
class DocSite:
    """``pages`` content pages (``p0.html`` …) plus the index and the guide. Fragment ``#vK`` of the
    missing changelog (``K < changelog_fragments``) is linked from page ``K % changelog_pages`` and from
    page ``(K + 5) % changelog_pages``; ``missing_anchors`` maps an anchor missing on the guide to the
    pages that link to it. ``nav_sections`` headings of each of the first ``nav_pages`` pages are linked
    from every page's sidebar."""

    pages: int = 12
    changelog_fragments: int = 50
    changelog_pages: int = 12
    missing_anchors: dict[str, tuple[int, ...]] = field(
        default_factory=lambda: {"install": (0, 1), "setup": (2,)}
    )
    nav_pages: int = 12
    nav_sections: int = 3
    extra_broken: tuple[str, ...] = ()  # more missing pages, linked from every page's sidebar

    def changelog_links(self) -> int:
        """How many places link into the missing changelog."""
        return sum(
            1
            for k in range(self.changelog_fragments)
            for page in {k % self.changelog_pages, (k + 5) % self.changelog_pages}
            if page < self.pages
        )


def _sidebar(spec: DocSite) -> list[str]:
    lines = ['<nav class="sidebar">', '<a href="index.html">Home</a>', f'<a href="{GUIDE}#intro">Guide</a>']
    for page in range(min(spec.nav_pages, spec.pages)):
        lines.append(f'<a href="p{page}.html">Page {page}</a>')
        lines += [
            f'<a href="p{page}.html#s{section}">Section {section}</a>' for section in range(spec.nav_sections)
        ]
    lines += [f'<a href="{target}">More</a>' for target in spec.extra_broken]
    return [*lines, "</nav>"]


def _page(title: str, spec: DocSite, body: list[str]) -> str:
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        '<link rel="stylesheet" href="assets/site.css">',
        '<script src="assets/site.js" defer></script>',
        "</head>",
        "<body>",
        '<header><img src="assets/logo.png" alt="logo"></header>',
    ]
    return "\n".join([*head, *_sidebar(spec), "<main>", *body, "</main>", "</body>", "</html>", ""])


def write_docsite(spec: DocSite, root: Path) -> Path:
    """Write the site into ``root`` (created); returns ``root``."""
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "site.css").write_text("body { margin: 0 }\n", encoding="utf-8")
    (root / "assets" / "site.js").write_text("// nothing\n", encoding="utf-8")
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    index = [
        '<h1 id="top">Docs</h1>',
        *(f'<p><a href="p{i}.html">Page {i}</a></p>' for i in range(spec.pages)),
    ]
    (root / "index.html").write_text(_page("Docs", spec, index), encoding="utf-8")
    guide = [f'<h2 id="{anchor}">{anchor}</h2>' for anchor in GUIDE_IDS]
    (root / GUIDE).write_text(_page("Guide", spec, guide), encoding="utf-8")
    for page in range(spec.pages):
        body = [f'<h1 id="top">Page {page}</h1>']
        body += [f'<h2 id="s{section}">Section {section}</h2>' for section in range(spec.nav_sections)]
        for k in range(spec.changelog_fragments):
            if page in {k % spec.changelog_pages, (k + 5) % spec.changelog_pages}:
                body.append(f'<p>See <a href="{MISSING_PAGE}#v{k}">version {k}</a>.</p>')
        for anchor, pages in spec.missing_anchors.items():
            if page in pages:
                body.append(f'<p>Read <a href="{GUIDE}#{anchor}">{anchor}</a>.</p>')
        body.append(f'<p><a href="{GUIDE}#usage">usage</a></p>')
        (root / f"p{page}.html").write_text(_page(f"Page {page}", spec, body), encoding="utf-8")
    return root
