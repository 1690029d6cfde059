"""Test helpers: a mutable static site served by nginx, the site of the problem-grouping tests, and a clock
the tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.nginx import NginxFactory, quote
from harness.ports import free_port


@dataclass
class Clock:
    """An injectable clock: ``clock()`` is now; ``clock.advance(...)`` moves it."""

    now: datetime = field(default_factory=lambda: datetime(2030, 3, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class StaticSite:
    root: Path
    base_url: str

    def write(self, path: str, body: str) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)

    def page(self, path: str, links: list[str]) -> None:
        anchors = "".join(f'<a href="{link}">{link}</a>\n' for link in links)
        self.write(path, f"<!doctype html><html><body>{anchors}</body></html>")

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def serve_static(nginx_factory: NginxFactory, root: Path, *, extra: str = "") -> StaticSite:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    block = f"server {{ listen 127.0.0.1:{port}; root {quote(root.resolve())}; {extra} }}"
    server = nginx_factory(block, "monitor-site")
    return StaticSite(root, server.url("/"))


PROBLEM_PAGES = 12
PROBLEM_FRAGMENTS = 50


def write_problem_site(site: StaticSite, *, extra: tuple[str, ...] = ()) -> None:
    """Three problems: ``/changelog.html`` is missing and linked through 50 fragments spread over 12 pages
    (``/p0.html`` has ``#v0``, ``#v12``, ``#v24``, ``#v36``, ``#v48`` on lines 1 to 5), and the index links
    the healthy ``/guide.html`` through two anchors it does not have (lines 13 and 14). ``extra`` links
    go on every page after those."""
    index = [f"/p{n}.html" for n in range(PROBLEM_PAGES)] + ["/guide.html#nope", "/guide.html#gone"]
    site.page("/index.html", index)
    for n in range(PROBLEM_PAGES):
        fragments = [f"/changelog.html#v{i}" for i in range(n, PROBLEM_FRAGMENTS, PROBLEM_PAGES)]
        site.page(f"/p{n}.html", fragments + list(extra))
    site.write("/guide.html", '<!doctype html><html><body><h2 id="intro">Intro</h2></body></html>')
