"""The benchmark's peers: how linkinator's verdicts are read, and what happens when it cannot be had."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from benchmarks.peers import NODE_MAJOR, Target, install_linkinator, linkinator_tool


def test_linkinator_broken_links_are_read_without_fragments_or_mailto(tmp_path: Path) -> None:
    tool = linkinator_tool(Path("/usr/bin/node"), Path("/x/cli.js"))
    argv, stdout = tool.command(Target("http://127.0.0.1:9/", tmp_path / "pages.txt"), tmp_path)
    assert argv[:3] == ["/usr/bin/node", "/x/cli.js", "http://127.0.0.1:9/"]
    assert "--recurse" in argv and stdout == tmp_path / "linkinator.json"
    links = [
        {"url": "http://127.0.0.1:9/", "status": 200, "state": "OK"},
        {"url": "HTTP://127.0.0.1:9/missing.html#x", "status": 404, "state": "BROKEN"},
        {"url": "http://127.0.0.1:9/loop-a", "status": 0, "state": "BROKEN"},
        {"url": "mailto:someone@example.invalid", "status": 0, "state": "BROKEN"},
        {"url": "http://127.0.0.1:9/skip", "status": 0, "state": "SKIPPED"},
    ]
    (tmp_path / "linkinator.json").write_text(json.dumps({"links": links, "passed": False}))
    assert tool.broken is not None
    assert tool.broken(tmp_path) == {"http://127.0.0.1:9/missing.html", "http://127.0.0.1:9/loop-a"}


def _fake_node_and_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, npm: str) -> Path:
    """A recent ``node`` and an ``npm`` running ``npm`` (a shell line), first on the PATH; returns their folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("node", f"echo v{NODE_MAJOR}.1.0"), ("npm", npm)):
        program = bin_dir / name
        program.write_text(f"#!/bin/sh\n{body}\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    return bin_dir


def test_without_npm_linkinator_is_unavailable_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    peer = install_linkinator(tmp_path / "node-peers", log=lambda _line: None)
    assert peer.tool() is None
    assert "npm is not installed" in peer.unavailable


def test_an_installed_linkinator_on_a_recent_node_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _fake_node_and_npm(tmp_path, monkeypatch, "exit 1")  # installing anything would fail
    cli = tmp_path / "peers" / "node_modules" / "linkinator" / "build" / "src" / "cli.js"
    cli.parent.mkdir(parents=True)
    cli.write_text("")
    peer = install_linkinator(tmp_path / "peers", log=lambda _line: None)
    assert (peer.node, peer.cli) == (bin_dir / "node", cli)
    assert peer.tool() is not None


def test_a_failed_install_leaves_linkinator_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_node_and_npm(tmp_path, monkeypatch, "echo 'E404 no such package' >&2; exit 1")
    said: list[str] = []
    peer = install_linkinator(tmp_path / "peers", log=said.append)
    assert peer.tool() is None and peer.unavailable == "linkinator: not installed"
    assert any("E404" in line for line in said)
