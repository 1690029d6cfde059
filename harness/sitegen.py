"""Deterministic generated website with ground truth, for integration tests and benchmarks.

:func:`generate_site` writes a static site (``index.html``, ``page-N.html``, ``sub/page-N.html``,
CSS, JS, images), an nginx ``location`` snippet (``nginx-locations.conf``) that gives the site its
410/500/redirect routes, and ``ground-truth.json``: every broken link target a correct checker must
report, with the exact ``(page, line)`` of each reference. The same :class:`SiteSpec` always produces
byte-identical files::

    truth = generate_site(SiteSpec(pages=200, seed=3), Path("/tmp/site"))
    # serve /tmp/site with nginx: root /tmp/site; include /tmp/site/nginx-locations.conf;
    assert "/loop-a" in truth.broken

Command line: ``python harness/sitegen.py --pages 2000 --out /tmp/site``.

Layout: every fifth page lives in ``sub/`` so same-folder (``page-9.html``, ``./page-9.html``) and
parent (``../page-1.html``) relative links occur. Pages form a binary tree (page ``i`` links to pages
``2i+1`` and ``2i+2``, the index links to page 0), so every page is reachable from ``/`` within
``log2(pages)`` hops; random extra links make the graph dense. Every link sits on its own line.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

LOCATIONS_FILE: Final = "nginx-locations.conf"
TRUTH_FILE: Final = "ground-truth.json"
CONTACT: Final = "mailto:webmaster@example.invalid"
STYLESHEET: Final = "/assets/site.css"
SCRIPT: Final = "/assets/app.js"
LOGOS: Final = tuple(f"/img/logo-{n}.png" for n in range(4))
BACKGROUND: Final = "/img/bg.png"
MISSING_BACKGROUND: Final = "/img/missing-bg.png"
SECTIONS: Final = 3
_REDIRECT_SHARE: Final = 0.04
_FRAGMENT_SHARE: Final = 0.15
_SAME_PAGE_SHARE: Final = 0.05
_REPEATS: Final = 3  # a broken target is referenced about this many times across the site
_REDIRECT_STATUSES: Final = (301, 302, 307, 308)


class BrokenKind(StrEnum):
    """Why a ground-truth target is broken (and what the server answers)."""

    NOT_FOUND = "not_found"  # 404: the file does not exist
    GONE = "gone"  # 410 from the location snippet
    SERVER_ERROR = "server_error"  # 500 from the location snippet
    REDIRECT_LOOP = "redirect_loop"  # /loop-a -> /loop-b -> /loop-a
    MISSING_FRAGMENT = "missing_fragment"  # page answers 200 but has no element with that id


_BROKEN_WEIGHTS: Final = {
    BrokenKind.NOT_FOUND: 0.35,
    BrokenKind.GONE: 0.15,
    BrokenKind.SERVER_ERROR: 0.15,
    BrokenKind.REDIRECT_LOOP: 0.1,
    BrokenKind.MISSING_FRAGMENT: 0.25,
}


@dataclass(frozen=True)
class SiteSpec:
    """What to generate. ``broken_share`` is the share of ``<a>`` links pointing at broken targets."""

    pages: int = 50
    links_per_page: int = 25
    broken_share: float = 0.1
    redirect_chains: int = 5
    fragments: bool = True
    assets: bool = True
    seed: int = 1
    server_errors: bool = True  # False: no 500s among the broken targets (some checkers back off after 5xx)

    def __post_init__(self) -> None:
        if self.pages < 1:
            raise ValueError("pages must be at least 1")
        if not 0.0 <= self.broken_share <= 1.0:
            raise ValueError("broken_share must be between 0 and 1")
        if self.links_per_page < 0 or self.redirect_chains < 0:
            raise ValueError("links_per_page and redirect_chains must not be negative")


@dataclass(frozen=True)
class GroundTruth:
    """What a correct checker finds on the generated site. Keys are site paths (``/gone-1``,
    ``/page-7.html#nope``); referrers map each broken target to sorted ``(page path, line)`` pairs,
    where the index page is ``/`` and lines are 1-based lines of the written file."""

    broken: frozenset[str]
    redirected: frozenset[str]
    ok_pages: frozenset[str]
    referrers: Mapping[str, tuple[tuple[str, int], ...]]
    kinds: Mapping[str, BrokenKind] = field(default_factory=lambda: MappingProxyType({}))
    redirect_targets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ok_assets: frozenset[str] = frozenset()

    def broken_urls(self, base: str) -> frozenset[str]:
        """Absolute URLs of the broken targets under ``base`` (``http://127.0.0.1:8080/``)."""
        root = base.rstrip("/")
        return frozenset(root + path for path in self.broken)

    def to_json(self) -> str:
        data = {
            "broken": {
                target: {
                    "kind": str(self.kinds[target]),
                    "referrers": [list(r) for r in self.referrers[target]],
                }
                for target in sorted(self.broken)
            },
            "redirected": {entry: self.redirect_targets[entry] for entry in sorted(self.redirected)},
            "ok_pages": sorted(self.ok_pages),
            "ok_assets": sorted(self.ok_assets),
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data: dict[str, Any] = json.loads(text)
        broken: dict[str, Any] = data["broken"]
        return cls(
            broken=frozenset(broken),
            redirected=frozenset(data["redirected"]),
            ok_pages=frozenset(data["ok_pages"]),
            referrers=MappingProxyType(
                {t: tuple((page, int(line)) for page, line in v["referrers"]) for t, v in broken.items()}
            ),
            kinds=MappingProxyType({t: BrokenKind(v["kind"]) for t, v in broken.items()}),
            redirect_targets=MappingProxyType(dict(data["redirected"])),
            ok_assets=frozenset(data["ok_assets"]),
        )


def load_ground_truth(root: Path) -> GroundTruth:
    """Read the ``ground-truth.json`` that :func:`generate_site` wrote into ``root``."""
    return GroundTruth.from_json((root / TRUTH_FILE).read_text(encoding="utf-8"))


def page_path(index: int) -> str:
    """Site path of page ``index``: every fifth page lives in ``sub/``."""
    return f"/sub/page-{index}.html" if index % 5 == 4 else f"/page-{index}.html"


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0]


def _png(red: int, green: int, blue: int) -> bytes:
    """A valid 1x1 RGB PNG (deterministic bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, green, blue]), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@dataclass(frozen=True)
class _Chain:
    entry: str
    hops: tuple[tuple[str, int, str], ...]  # (location, status, Location header)
    relative: bool  # absolute_redirect off: the Location header stays a bare path
    final: str


def _chains(spec: SiteSpec) -> tuple[_Chain, ...]:
    chains = []
    for n in range(spec.redirect_chains):
        length = 1 + n % 3
        steps = [f"/redirect-{n}-{h}" for h in range(length)]
        final = page_path((n * 7 + 1) % spec.pages)
        targets = [*steps[1:], final]
        hops = tuple(
            (step, _REDIRECT_STATUSES[(n + h) % len(_REDIRECT_STATUSES)], target)
            for h, (step, target) in enumerate(zip(steps, targets, strict=True))
        )
        chains.append(_Chain(entry=steps[0], hops=hops, relative=n % 2 == 1, final=final))
    return tuple(chains)


class _Site:
    """Accumulates pages and the ground truth while drawing from one seeded RNG."""

    def __init__(self, spec: SiteSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.chains = _chains(spec)
        expected = spec.pages * spec.links_per_page * spec.broken_share
        weights = dict(_BROKEN_WEIGHTS)
        if not spec.fragments:
            del weights[BrokenKind.MISSING_FRAGMENT]
        if not spec.server_errors:
            del weights[BrokenKind.SERVER_ERROR]
        self.kinds = tuple(weights)
        self.weights = tuple(weights.values())
        self.pool = {kind: max(1, int(expected * weight / _REPEATS)) for kind, weight in weights.items()}
        self.referrers: dict[str, list[tuple[str, int]]] = {}
        self.kind_of: dict[str, BrokenKind] = {}
        self.redirected: set[str] = set()
        self.ok_assets: set[str] = set()

    # -- link targets ---------------------------------------------------------------------------

    def broken_target(self, source: str) -> tuple[str, str, BrokenKind]:
        """Return (target path, fragment-or-empty, kind) for a broken link from ``source``."""
        kind = self.rng.choices(self.kinds, self.weights)[0]
        k = self.rng.randrange(self.pool[kind])
        if kind is BrokenKind.NOT_FOUND:
            return (f"/sub/missing-{k}.html" if k % 4 == 3 else f"/missing-{k}.html"), "", kind
        if kind is BrokenKind.GONE:
            return f"/gone-{k}", "", kind
        if kind is BrokenKind.SERVER_ERROR:
            return f"/error-{k}", "", kind
        if kind is BrokenKind.REDIRECT_LOOP:
            return "/loop-a", "", kind
        if self.rng.random() < 0.2:
            return source, "nope", kind
        return page_path(k * 7 % self.spec.pages), "nope", kind

    def href(self, source: str, target: str, fragment: str = "") -> str:
        """A relative or root-relative href from page ``source`` to site path ``target``."""
        suffix = f"#{fragment}" if fragment else ""
        if target == source and fragment:
            return suffix
        form = self.rng.random()
        source_dir, target_dir = _directory(source), _directory(target)
        name = target.rsplit("/", 1)[1]
        if target == "/":
            return ("../" if source_dir and form < 0.5 else "/") + suffix
        if form < 0.4:
            return target + suffix
        if source_dir == target_dir:
            return (name if form < 0.75 else f"./{name}") + suffix
        if not source_dir:
            return f"{target_dir.lstrip('/')}/{name}{suffix}"
        if not target_dir:
            return f"../{name}{suffix}"
        return target + suffix

    # -- recording ------------------------------------------------------------------------------

    def add_broken(self, key: str, kind: BrokenKind, source: str, line: int) -> None:
        self.referrers.setdefault(key, []).append((source, line))
        self.kind_of[key] = kind

    # -- pages ----------------------------------------------------------------------------------

    def page(self, index: int | None) -> tuple[str, str]:
        """Return (site path, file text) for page ``index`` (``None`` is the index page)."""
        spec = self.spec
        source = "/" if index is None else page_path(index)
        title = "Home" if index is None else f"Page {index}"
        lines: list[str] = []

        def emit(text: str) -> int:
            lines.append(text)
            return len(lines)

        def link(target: str, text: str, fragment: str = "") -> None:
            emit(f'<li><a href="{self.href(source, target, fragment)}">{text}</a></li>')

        emit("<!DOCTYPE html>")
        emit('<html lang="en">')
        emit("<head>")
        emit('<meta charset="utf-8">')
        emit(f"<title>{title}</title>")
        if spec.assets:
            emit(f'<link rel="stylesheet" href="{self.href(source, STYLESHEET)}">')
            emit(f'<script src="{self.href(source, SCRIPT)}" defer></script>')
            self.ok_assets.update((STYLESHEET, SCRIPT, BACKGROUND))
        emit("</head>")
        emit("<body>")
        emit(f'<header id="top"><h1>{title}</h1></header>')
        emit("<nav>")
        emit("<ul>")
        nav = 0
        if index is not None:
            link("/", "Home")
            nav += 1
        children = [0] if index is None else [c for c in (2 * index + 1, 2 * index + 2) if c < spec.pages]
        for child in children:
            link(page_path(child), f"Page {child}")
            nav += 1
        if index is None:
            for chain in self.chains:
                link(chain.entry, f"Moved {chain.entry}")
                self.redirected.add(chain.entry)
                nav += 1
        emit("</ul>")
        emit("</nav>")
        emit("<main>")
        extra = max(0, spec.links_per_page - nav)
        per_section = -(-extra // SECTIONS) if extra else 0
        for section in range(1, SECTIONS + 1):
            emit(f'<section id="sec-{section}">')
            emit(f"<h2>Section {section}</h2>")
            emit(f"<p>{title}, section {section}: generated text (seed {spec.seed}).</p>")
            if section == 2 and spec.assets:
                self.images(source, emit)
            emit("<ul>")
            count = min(per_section, extra - per_section * (section - 1))
            for _ in range(max(0, count)):
                self.random_link(source, emit)
            emit("</ul>")
            emit("</section>")
        emit("</main>")
        emit("<footer>")
        emit(f'<p><a href="{CONTACT}">Contact</a></p>')
        emit("</footer>")
        emit("</body>")
        emit("</html>")
        return source, "\n".join(lines) + "\n"

    def images(self, source: str, emit: Callable[[str], int]) -> None:
        rng = self.rng
        first, second = LOGOS[rng.randrange(len(LOGOS))], LOGOS[rng.randrange(len(LOGOS))]
        self.ok_assets.update((first, second))
        emit(
            f'<img src="{self.href(source, first)}" '
            f'srcset="{self.href(source, first)} 1x, {self.href(source, second)} 2x" alt="logo">'
        )
        if rng.random() < self.spec.broken_share / 2:
            missing = f"/img/missing-{rng.randrange(self.pool[BrokenKind.NOT_FOUND])}.png"
            line = emit(f'<img src="{self.href(source, missing)}" alt="diagram">')
            self.add_broken(missing, BrokenKind.NOT_FOUND, source, line)

    def random_link(self, source: str, emit: Callable[[str], int]) -> None:
        rng, spec = self.rng, self.spec
        roll = rng.random()
        if roll < spec.broken_share:
            target, fragment, kind = self.broken_target(source)
            href = self.href(source, target, fragment)
            line = emit(f'<li><a href="{href}">Broken {kind.value}</a></li>')
            self.add_broken(f"{target}#{fragment}" if fragment else target, kind, source, line)
            return
        if self.chains and roll < spec.broken_share + _REDIRECT_SHARE:
            chain = self.chains[rng.randrange(len(self.chains))]
            self.redirected.add(chain.entry)
            emit(f'<li><a href="{self.href(source, chain.entry)}">Moved</a></li>')
            return
        roll = rng.random()
        if spec.fragments and roll < _SAME_PAGE_SHARE:
            section = rng.randrange(1, SECTIONS + 1)
            emit(f'<li><a href="#sec-{section}">Section {section}</a></li>')
            return
        target_index = rng.randrange(spec.pages)
        fragment = ""
        if spec.fragments and roll < _SAME_PAGE_SHARE + _FRAGMENT_SHARE:
            fragment = f"sec-{rng.randrange(1, SECTIONS + 1)}" if rng.random() < 0.8 else "top"
        href = self.href(source, page_path(target_index), fragment)
        emit(f'<li><a href="{href}">Page {target_index}</a></li>')

    # -- support files --------------------------------------------------------------------------

    def stylesheet(self) -> str:
        lines = [
            "body { font-family: sans-serif; margin: 0 auto; max-width: 60em; }",
            "header {",
            '  background: #fff url("../img/bg.png") no-repeat right top;',
            "}",
        ]
        if self.spec.broken_share > 0:
            lines += [".diagram {", f'  background-image: url("..{MISSING_BACKGROUND}");', "}"]
            self.add_broken(MISSING_BACKGROUND, BrokenKind.NOT_FOUND, STYLESHEET, len(lines) - 1)
        return "\n".join(lines) + "\n"

    def locations(self) -> str:
        lines = [
            "# Generated by benchmarks/sitegen.py: the generated site's status routes.",
            "# Missing files get nginx's default 404.",
            'location ~ "^/gone-[0-9]+$" { return 410; }',
            'location ~ "^/error-[0-9]+$" { return 500; }',
            "location = /loop-a { return 302 /loop-b; }",
            "location = /loop-b { return 302 /loop-a; }",
        ]
        for chain in self.chains:
            relative = "absolute_redirect off; " if chain.relative else ""
            lines += [
                f"location = {step} {{ {relative}return {status} {to}; }}" for step, status, to in chain.hops
            ]
        return "\n".join(lines) + "\n"

    def truth(self, ok_pages: frozenset[str]) -> GroundTruth:
        targets = {chain.entry: chain.final for chain in self.chains if chain.entry in self.redirected}
        return GroundTruth(
            broken=frozenset(self.referrers),
            redirected=frozenset(targets),
            ok_pages=ok_pages,
            referrers=MappingProxyType({k: tuple(sorted(v)) for k, v in sorted(self.referrers.items())}),
            kinds=MappingProxyType(dict(sorted(self.kind_of.items()))),
            redirect_targets=MappingProxyType(targets),
            ok_assets=frozenset(self.ok_assets),
        )


def _write(file: Path, data: bytes) -> None:
    with open(file, "wb") as handle:
        handle.write(data)


def generate_site(spec: SiteSpec, root: Path) -> GroundTruth:
    """Write the site for ``spec`` into ``root`` (created if needed) and return its ground truth."""
    site = _Site(spec)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    ok_pages = {"/"}
    for index in (None, *range(spec.pages)):
        path, text = site.page(index)
        ok_pages.add(path)
        _write(root / ("index.html" if index is None else path.lstrip("/")), text.encode("utf-8"))
    if spec.assets:
        (root / "assets").mkdir(exist_ok=True)
        (root / "img").mkdir(exist_ok=True)
        _write(root / STYLESHEET.lstrip("/"), site.stylesheet().encode("utf-8"))
        _write(root / SCRIPT.lstrip("/"), b'document.documentElement.classList.add("js");\n')
        for n, logo in enumerate((*LOGOS, BACKGROUND)):
            _write(root / logo.lstrip("/"), _png(40 * n, 120, 200 - 30 * n))
    _write(root / LOCATIONS_FILE, site.locations().encode("utf-8"))
    truth = site.truth(frozenset(ok_pages))
    _write(root / TRUTH_FILE, truth.to_json().encode("utf-8"))
    return truth


def _spec_summary(spec: SiteSpec) -> str:
    return ", ".join(f"{key}={value}" for key, value in asdict(spec).items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a deterministic test website with ground truth.")
    defaults = SiteSpec()
    parser.add_argument("--pages", type=int, default=defaults.pages)
    parser.add_argument("--out", type=Path, required=True, help="directory to write the site into")
    parser.add_argument("--links-per-page", type=int, default=defaults.links_per_page)
    parser.add_argument("--broken-share", type=float, default=defaults.broken_share)
    parser.add_argument("--redirect-chains", type=int, default=defaults.redirect_chains)
    parser.add_argument("--no-fragments", action="store_true")
    parser.add_argument("--no-assets", action="store_true")
    parser.add_argument("--no-server-errors", action="store_true", help="no 500 answers among the broken")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    spec = SiteSpec(
        pages=args.pages,
        links_per_page=args.links_per_page,
        broken_share=args.broken_share,
        redirect_chains=args.redirect_chains,
        fragments=not args.no_fragments,
        assets=not args.no_assets,
        seed=args.seed,
        server_errors=not args.no_server_errors,
    )
    started = time.perf_counter()
    truth = generate_site(spec, args.out)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {len(truth.ok_pages)} pages to {args.out} in {elapsed:.2f} s ({_spec_summary(spec)}); "
        f"{len(truth.broken)} broken targets, {len(truth.redirected)} redirect chains"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
