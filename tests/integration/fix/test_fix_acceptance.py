"""``linkdoctor fix`` end to end on a generated docs tree whose links point at a real nginx (plain HTTP and a
TLS listener) and at a fake web archive on 127.0.0.1: exactly the expected edits are proposed, ``--apply``
writes them, a second check reports none of the fixed problems, and every byte outside the changed URLs is
what it was, per file."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner
from harness.nginx import NginxFactory, quote
from harness.ports import free_ports
from tests.support.pki import PKI

from linkdoctor.cli import cli
from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async, run_sync
from linkdoctor.models import Category

pytestmark = pytest.mark.nginx
REPO = Path(__file__).resolve().parents[3]


class ArchiveHandler(BaseHTTPRequestHandler):
    """A web archive: ``/wayback/available?url=`` answers like Wayback; ``/web/…`` serves the snapshots."""

    archived: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/wayback/available":
            url = parse_qs(parts.query).get("url", [""])[0]
            snapshot = f"http://{self.headers['Host']}/web/20200101000000/{url}"
            closest = {
                "closest": {
                    "available": True,
                    "status": "200",
                    "timestamp": "20200101000000",
                    "url": snapshot,
                }
            }
            body = {"url": url, "archived_snapshots": closest if url in self.archived else {}}
            self._send(200, "application/json", json.dumps(body))
        elif parts.path.startswith("/web/"):
            self._send(200, "text/html", "<p>archived</p>")
        else:
            self._send(404, "text/plain", "not here")

    def do_HEAD(self) -> None:
        self.do_GET()

    def _send(self, status: int, kind: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class World:
    http: str  # http://127.0.0.1:P
    https: str  # https://127.0.0.1:T
    archive: str  # the availability endpoint
    cacert: Path


@pytest.fixture(scope="module")
def world(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    pki = PKI(tmp_path_factory.mktemp("fix-pki"))
    server = pki.server("fix-nginx")
    site = tmp_path_factory.mktemp("fix-site")
    (site / "index.html").write_text("<h1>Home</h1>\n")
    (site / "target.html").write_text("<h1>Target</h1>\n")
    (site / "up.html").write_text("<h1>Secure</h1>\n")
    (site / "links.html").write_text('<a href="/moved301">moved</a>\n')
    (site / "page.html").write_text(
        '<section id="id2"><h2>Installing the tool</h2></section>\n'
        '<h2 id="setup-linux">Setup</h2>\n<h2 id="setup-mac">Setup</h2>\n'
    )
    plain, tls, archive_port = free_ports(3)
    blocks = f"""
    server {{
        listen 127.0.0.1:{plain};
        root {quote(site)};
        location = /r301 {{ return 301 /r308; }}
        location = /r308 {{ return 308 /target.html; }}
        location = /moved301 {{ return 301 /target.html; }}
        location = /temp302 {{ return 302 /target.html; }}
        location = /private {{ return 301 /login?next=/private; }}
        location = /login {{ default_type text/html; return 200 "<form>sign in</form>"; }}
        location = /gone {{ return 301 /; }}
        location = /up.html {{ return 301 https://127.0.0.1:{tls}/up.html; }}
        location = /gone.html {{ return 301 https://127.0.0.1:{tls}/gone.html; }}
    }}
    server {{
        listen 127.0.0.1:{tls} ssl;
        root {quote(site)};
        ssl_certificate {quote(server.chain)};
        ssl_certificate_key {quote(server.key)};
    }}"""
    nginx_factory(blocks, "fix")
    ArchiveHandler.archived = {f"http://127.0.0.1:{plain}/dead"}
    archive = ThreadingHTTPServer(("127.0.0.1", archive_port), ArchiveHandler)
    thread = threading.Thread(target=archive.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(
            f"http://127.0.0.1:{plain}",
            f"https://127.0.0.1:{tls}",
            f"http://127.0.0.1:{archive_port}/wayback/available",
            pki.root.cert,
        )
    finally:
        archive.shutdown()
        archive.server_close()
        thread.join(timeout=5)


def index_md(h: str) -> str:
    return f"""# Links

- [chain](http://{h}/r301)
- [single](<http://{h}/moved301>)
- [temporary](http://{h}/temp302)
- [login](http://{h}/private)
- [home](http://{h}/gone)
- [upgrade](http://{h}/up.html "Secure")
- [renamed](http://{h}/page.html#installing-the-tool)
- [ambiguous](http://{h}/page.html#setup)
- [moved](old/setup-notes.md)
- [heading](guide.md#Getting_Started)
- [dead](http://{h}/dead)
- [by reference][chain]

Inline code `http://{h}/r301` and [chain again](http://{h}/r301) on one line.

```text
[chain](http://{h}/r301)
```

    [chain](http://{h}/r301)

[chain]: http://{h}/r301
"""


def page_html(h: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head>\n<body>\n'
        f'  <p><a href=\'http://{h}/moved301\'>single</a> &amp; <a class="x" href="http://{h}/r301">chain</a></p>\n'
        f'  <pre><a href="http://{h}/moved301">in pre</a></pre>\n'
        f'  <p><code><a href="http://{h}/r301">in code</a></code></p>\n'
        "  <p>caf\xe9 cr\xe8me</p>\n</body></html>\n"
    ).encode("iso-8859-1")


@pytest.fixture
def docs(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = world.http.removeprefix("http://")
    root = tmp_path / "docs"
    (root / "howto").mkdir(parents=True)
    (root / "index.md").write_text(index_md(h), newline="\n")
    (root / "guide.md").write_bytes(
        f"# Guide\r\n\r\n## Getting started\r\n\r\n  See [home](http://{h}/moved301).\r\n"
        f"[no https](http://{h}/gone.html)\r\n".encode()
    )
    (root / "howto" / "setup-notes.md").write_text("# Notes\n")
    (root / "page.html").write_bytes(page_html(h))
    monkeypatch.chdir(tmp_path)
    return root


def run(world: World, *args: str) -> tuple[int, str, str]:
    common = ["--cacert", str(world.cacert), "--retries", "0", "--no-config"]
    if args[0] == "fix":
        common += ["--archive-endpoint", world.archive]
    result = CliRunner().invoke(cli, [*args, *common])
    return result.exit_code, result.stdout, result.stderr


def expected_edits(world: World) -> set[tuple[str, int, str, str, str]]:
    h, target = world.http, f"{world.http}/target.html"
    return {
        ("docs/index.md", 3, f"{h}/r301", target, "redirect"),
        ("docs/index.md", 4, f"{h}/moved301", target, "redirect"),
        ("docs/index.md", 8, f"{h}/up.html", f"{world.https}/up.html", "https"),
        ("docs/index.md", 9, f"{h}/page.html#installing-the-tool", f"{h}/page.html#id2", "anchor"),
        ("docs/index.md", 11, "old/setup-notes.md", "howto/setup-notes.md", "file"),
        ("docs/index.md", 12, "guide.md#Getting_Started", "guide.md#getting-started", "anchor"),
        ("docs/index.md", 16, f"{h}/r301", target, "redirect"),
        ("docs/index.md", 24, f"{h}/r301", target, "redirect"),
        ("docs/guide.md", 5, f"{h}/moved301", target, "redirect"),
        ("docs/page.html", 4, f"{h}/moved301", target, "redirect"),
        ("docs/page.html", 4, f"{h}/r301", target, "redirect"),
    }


def edits_of(out: str) -> list[dict[str, Any]]:
    edits: list[dict[str, Any]] = json.loads(out)["edits"]
    return edits


def as_set(edits: list[dict[str, Any]]) -> set[tuple[str, int, str, str, str]]:
    return {(e["file"], e["line"], e["old"], e["new"], e["kind"]) for e in edits}


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root.parent).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def undo(after: bytes, edits: list[dict[str, Any]], encoding: str) -> bytes:
    """``after`` with each edit's new text put back to its old text, in order: equal to the file before
    the edits exactly when nothing else changed."""
    out, position = [], 0
    for edit in edits:
        new, old = edit["new"].encode(encoding), edit["old"].encode(encoding)
        at = after.index(new, position)
        out += [after[position:at], old]
        position = at + len(new)
    return b"".join([*out, after[position:]])


def test_fix_proposes_exactly_the_expected_edits(world: World, docs: Path) -> None:
    code, out, _ = run(world, "fix", "docs", "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert as_set(plan["edits"]) == expected_edits(world)
    assert len(plan["edits"]) == len(expected_edits(world))
    assert all(e["reason"] for e in plan["edits"])
    skipped = {s["url"]: s for s in plan["skipped"]}
    h = world.http
    assert "temporary redirect (302)" in skipped[f"{h}/temp302"]["reason"]
    assert "login page" in skipped[f"{h}/private"]["reason"]
    assert "home page" in skipped[f"{h}/gone"]["reason"]
    assert "ambiguous: #setup-linux, #setup-mac" in skipped[f"{h}/page.html#setup"]["reason"]
    assert (
        f"the https URL {world.https}/gone.html does not answer ok (404)"
        in skipped[f"{h}/gone.html"]["reason"]
    )
    assert (
        skipped[f"{h}/dead"]["suggestion"]
        == f"{world.archive.rsplit('/wayback', 1)[0]}/web/20200101000000/{h}/dead"
    )
    # the links inside <pre> and <code> are reported as left alone, by place
    assert any("docs/page.html:5" in w for w in plan["warnings"])
    assert any("docs/page.html:6" in w for w in plan["warnings"])


def test_the_dry_run_prints_a_diff_and_changes_nothing(world: World, docs: Path) -> None:
    before = snapshot(docs)
    code, out, err = run(world, "fix", "docs")
    assert code == 0
    assert snapshot(docs) == before
    assert f"-- [chain](http://{world.http.removeprefix('http://')}/r301)" in out
    assert f"+- [chain]({world.http}/target.html)" in out
    assert "--- a/docs/guide.md\n+++ b/docs/guide.md\n" in out
    assert "skipped" in err and "temporary redirect" in err


def test_check_mode_exits_2_when_fixes_are_available(world: World, docs: Path) -> None:
    code, _, _ = run(world, "fix", "docs", "--check")
    assert code == 2


def test_apply_writes_the_edits_and_a_second_check_finds_none_of_the_fixed_problems(
    world: World, docs: Path
) -> None:
    before = snapshot(docs)
    _, out, _ = run(world, "fix", "docs", "--format", "json")
    planned = edits_of(out)
    code, _, err = run(world, "fix", "docs", "--apply", "--archive")
    assert code == 0, err
    after = snapshot(docs)
    encodings = {"docs/page.html": "iso-8859-1"}
    dead = f"{world.http}/dead"
    assert edits_of(run(world, "fix", "docs", "--format", "json", "--archive")[1]) == []  # nothing left
    for name, content in before.items():
        edits = [e for e in planned if e["file"] == name]
        if name == "docs/index.md":  # --archive also rewrote the dead link
            copy = f"{world.archive.rsplit('/wayback', 1)[0]}/web/20200101000000/{dead}"
            edits = sorted([*edits, {"line": 13, "old": dead, "new": copy}], key=lambda e: e["line"])
        assert undo(after[name], edits, encodings.get(name, "utf-8")) == content, name
        assert after[name] != content or not edits
    assert b"\r\n" in after["docs/guide.md"] and b"\n\n" not in after["docs/guide.md"]
    assert "<title>Caf\xe9</title>".encode("iso-8859-1") in after["docs/page.html"]
    # the second check reports none of the fixed problems
    config = CheckConfig(cacert=world.cacert, retries=0, all_referrers=True)
    report = run_sync(check_async(config, collect_inputs(["docs"])))
    results = {r.url: r for r in report.results}
    problems = {r.url for r in report.results if r.category is Category.BROKEN or r.redirects}
    assert problems == {
        f"{world.http}/temp302", f"{world.http}/private", f"{world.http}/gone", f"{world.http}/page.html#setup",
        f"{world.http}/gone.html",  # its https URL is not found
        f"{world.http}/moved301", f"{world.http}/r301",  # only from <pre> and <code> in page.html, left alone
    }  # fmt: skip
    for url in (f"{world.http}/moved301", f"{world.http}/r301"):
        assert {(Path(urlsplit(r.url).path).name, r.line) for r in results[url].referrers} <= {
            ("page.html", 5),
            ("page.html", 6),
        }


def test_archive_note_mode_adds_a_note_after_the_link(world: World, docs: Path) -> None:
    code, _, _ = run(world, "fix", "docs", "--apply", "--archive", "--archive-mode", "note")
    assert code == 0
    text = (docs / "index.md").read_text()
    copy = f"{world.archive.rsplit('/wayback', 1)[0]}/web/20200101000000/{world.http}/dead"
    assert f"- [dead]({world.http}/dead) ([archived copy]({copy}))\n" in text


def test_fix_from_a_saved_report_proposes_the_same_edits(world: World, docs: Path) -> None:
    run(world, "check", "docs", "--all-referrers", "--format", "json:report.json", "--no-progress")
    code, out, _ = run(world, "fix", "--from", "report.json", "--format", "json")
    assert code == 0
    assert as_set(edits_of(out)) == expected_edits(world)


def test_a_file_changed_since_the_saved_report_is_skipped_with_a_warning(world: World, docs: Path) -> None:
    run(world, "check", "docs", "--all-referrers", "--format", "json:report.json", "--no-progress")
    guide = docs / "guide.md"
    guide.write_bytes(guide.read_bytes() + b"more\r\n")
    code, out, _ = run(world, "fix", "--from", "report.json", "--format", "json")
    plan = json.loads(out)
    assert code == 0
    assert not [e for e in plan["edits"] if e["file"] == "docs/guide.md"]
    assert any("docs/guide.md: changed since the report was written" in w for w in plan["warnings"])


def test_pre_commit_check_fails_on_a_permanent_redirect_and_passes_after_apply(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    program, *args = shlex.split(next(h for h in hooks if h["id"] == "linkdoctor-fix")["entry"])
    hook = [str(Path(sys.executable).parent / program), *args]
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / "README.md").write_text(f"# Project\n\nSee [the docs]({world.http}/moved301).\n")
    (tree / "ok.md").write_text(f"# Fine\n\n[target]({world.http}/target.html)\n")

    def commit() -> subprocess.CompletedProcess[str]:  # pre-commit passes the changed files
        return subprocess.run([*hook, "README.md", "ok.md"], cwd=tree, capture_output=True, text=True,
                              timeout=60, check=False)  # fmt: skip

    failed = commit()
    assert failed.returncode == 2, failed.stderr
    assert f"+See [the docs]({world.http}/target.html).\n" in failed.stdout
    monkeypatch.chdir(tree)
    assert run(world, "fix", "README.md", "--apply")[0] == 0
    passed = commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (tree / "README.md").read_text() == f"# Project\n\nSee [the docs]({world.http}/target.html).\n"


def test_a_crawled_site_has_no_sources_to_edit_and_says_where_they_would_be(world: World, docs: Path) -> None:
    code, out, _ = run(world, "fix", f"{world.http}/links.html", "--format", "json")
    plan = json.loads(out)
    assert code == 0 and plan["edits"] == []
    assert any(
        w.startswith(f"1 pages with repairable links are not local sources (e.g. {world.http}/links.html)")
        for w in plan["warnings"]
    )
