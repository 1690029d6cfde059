"""Round trips over real documents: the project's own README and docs, and the installed Python
documentation (python3.11-doc, HTML): every source decodes and encodes back to its exact bytes, every link
``fix`` can find as written is found outside code, rewriting all of them and back changes nothing else, and
``fix`` on trees with nothing to fix proposes nothing and writes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkdoctor.config import CheckConfig
from linkdoctor.engine.documents import extract_document
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import run_sync
from linkdoctor.fix.apply import apply_plan, edited_bytes
from linkdoctor.fix.locate import find_definitions, find_link, parse_source
from linkdoctor.fix.model import Edit, FixKind, FixSettings
from linkdoctor.fix.run import plan_fixes
from linkdoctor.fix.sources import source_kind
from linkdoctor.patterns import compile_pattern

PROJECT = Path(__file__).resolve().parents[3]
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
OFFLINE = CheckConfig(exclude=(compile_pattern("^https?:"),), retries=0)


def project_sources() -> list[Path]:
    return [PROJECT / "README.md", PROJECT / "CHANGELOG.md", *sorted((PROJECT / "docs").rglob("*.md"))]


def python_sources() -> list[Path]:
    if not PYTHON_DOCS.is_dir():
        pytest.fail("python3.11-doc is not installed (./scripts/test installs it)", pytrace=False)
    return sorted(PYTHON_DOCS.rglob("*.html"))


def rewrite_every_link(path: Path, missed: list[str]) -> Iterator[tuple[bytes, list[Edit]]]:
    """Each source's bytes and an edit per link found as written, on its line or in its reference
    definition, as ``fix`` looks for it (its URL → a marker of another length); ``missed`` collects the
    links not found."""
    kind = source_kind(path)
    assert kind is not None
    raw = path.read_bytes()
    source = parse_source(kind, raw)
    edits = []
    seen: set[tuple[int, int]] = set()
    for url, line, _, _ in extract_document(kind, source.text).rows:
        if line is None or not url:
            continue
        spans = find_link(source, line, url) or find_definitions(source, url)
        if not spans:
            missed.append(f"{path}:{line}: {url}")
        for start, end in spans:
            if (start, end) not in seen:
                seen.add((start, end))
                edit = Edit(path, line, source.byte_offset(start), source.byte_offset(end), source.text[start:end], "⟦x⟧",
                            FixKind.REDIRECT, "", source.encoding)  # fmt: skip
                edits.append(edit)
    yield raw, sorted(edits, key=lambda e: e.start)


def check_round_trip(paths: list[Path], missed: list[str]) -> int:
    found = 0
    for path in paths:
        for raw, edits in rewrite_every_link(path, missed):
            source = parse_source(source_kind(path) or "html", raw)
            assert source.text.encode(source.encoding, "surrogateescape") == raw, path
            edited = edited_bytes(raw, edits)
            back = [_reverse(e, shift) for e, shift in zip(edits, _shifts(edits), strict=True)]
            assert edited_bytes(edited, back) == raw, path
            found += len(edits)
    return found


def _reverse(edit: Edit, shift: int) -> Edit:
    """The edit that puts ``edit``'s old text back, at its place in the edited bytes."""
    start = edit.start + shift
    end = start + len(edit.new.encode(edit.encoding))
    return Edit(edit.path, edit.line, start, end, edit.new, edit.old, edit.kind, "", edit.encoding)


def _shifts(edits: list[Edit]) -> list[int]:
    shifts, total = [], 0
    for edit in edits:
        shifts.append(total)
        total += len(edit.new.encode(edit.encoding)) - (edit.end - edit.start)
    return shifts


def test_the_projects_own_markdown_round_trips_byte_exact() -> None:
    missed: list[str] = []
    assert check_round_trip(project_sources(), missed) > 30
    assert missed == []  # every link is found as written


@pytest.mark.slow
def test_the_python_documentation_round_trips_byte_exact() -> None:
    missed: list[str] = []
    assert check_round_trip(python_sources(), missed) > 170_000
    assert len(missed) < 500  # of 175,347 links: the others are inside <pre> (grammar productions)


def _digest(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_fix_has_nothing_to_do_on_the_projects_docs_and_writes_nothing() -> None:
    sources = project_sources()
    before = _digest(sources)
    inputs = collect_inputs([str(p) for p in sources], cwd=PROJECT)
    plan = run_sync(plan_fixes(OFFLINE, inputs, FixSettings(), cwd=PROJECT))
    assert plan.edits == ()
    assert apply_plan(plan).written == ()
    assert _digest(sources) == before


@pytest.mark.slow
def test_fix_has_nothing_to_do_on_the_python_documentation_and_writes_nothing() -> None:
    sources = python_sources()
    before = _digest(sources)
    plan = run_sync(plan_fixes(OFFLINE, collect_inputs([str(PYTHON_DOCS)]), FixSettings()))
    assert plan.edits == ()
    assert plan.warnings == ()
    assert apply_plan(plan).written == ()
    assert _digest(sources) == before
