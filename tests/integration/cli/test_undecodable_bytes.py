"""Bytes that are not UTF-8 in what ``check`` is given (a URL argument, a file's name in a checked folder)
are checked and reported in every format, never a traceback: the URL's byte is sent as ``%XX``, as a
browser sends it, and a file's name is shown with ``\\xNN``, as Python shows it (SARIF's URI
percent-encodes its bytes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FORMATS = ("console", "json", "csv", "html", "sarif", "markdown", "junit", "github")


def check(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", "--no-config", *args],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_url_argument_with_a_byte_that_is_not_utf8_is_checked_as_its_percent_escape(
    tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "report"
    proc = check(b"http://127.0.0.1:9/caf\xe9", "--format", fmt, "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    escaped = "caf%25E9" if fmt == "github" else "caf%E9"  # a workflow command escapes its % signs
    assert f"http://127.0.0.1:9/{escaped}" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_folder_holding_a_file_whose_name_is_not_utf8_is_checked_and_reported(
    tmp_path: Path, fmt: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    odd = os.fsencode(site) + b"/caf\xe9.md"
    with open(odd, "wb") as handle:
        handle.write(b"# Menu\n\n[gone](missing.md)\n")
    (site / "index.md").write_text("[menu](caf%E9.md#menu)\n", encoding="utf-8")
    out = tmp_path / "report"
    proc = check("site", "--format", fmt, "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "missing.md" in text
    if fmt == "sarif":
        assert '"uri": "site/caf%E9.md"' in text  # the name's bytes, percent-encoded
    elif fmt != "json":  # JSON v2 names pages by URL
        assert "caf\\xe9.md" in text, text
    if fmt == "json":
        report = json.loads(text)
        assert report["summary"]["broken"] == 1  # the link to the odd name (and its anchor) is ok
        assert report["summary"]["ok"] >= 2
