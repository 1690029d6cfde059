"""What a hostile page or repository holds never reaches a terminal as a control sequence: a link's URL, its
text and a file's name with an escape sequence (clear the screen, retitle the window) come out of every
report format with the URL percent-encoded, as a browser sends it, and the rest shown as ``\\xNN``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FORMATS = ("console", "json", "csv", "html", "sarif", "markdown", "junit", "github")
CONTROLS = (b"\x1b", b"\x07", "\x9b".encode())


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(
        b'<a href="gone\x1b[2J.html">clear\x1b[2Jscreen</a>\n'
        b'<a href="http://127.0.0.1:9/p\x1b[31m?q=\x07#f\x1bx">t\x1b]0;title\x07x</a>\n'
    )
    (site / "b\x1b[2J.md").write_bytes(b"[x](missing.md)\n")
    return site


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_control_sequence_reaches_the_output(hostile_folder: Path, fmt: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "linkdoctor",
            "check",
            "--no-progress",
            "--no-config",
            "--format",
            fmt,
            "site",
        ],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=hostile_folder.parent,
    )
    assert proc.returncode == 2, proc.stderr.decode(errors="replace")
    for output in (proc.stdout, proc.stderr):
        for control in CONTROLS:
            assert control not in output, (fmt, output[:2000])
    text = proc.stdout.decode()
    escaped = "%251B" if fmt == "github" else "%1B"  # a workflow command escapes its % signs
    assert f"gone{escaped}[2J.html" in text or "gone\\x1b[2J.html" in text  # as a URL, or as a path
    assert f"127.0.0.1:9/p{escaped}[31m" in text
    if fmt in ("console", "markdown", "github", "csv", "junit"):
        assert "b\\x1b[2J.md" in text  # the file's name, as Python shows it


def test_a_file_whose_name_a_url_writes_otherwise_is_one_page(tmp_path: Path) -> None:
    """A file named ``a[1].md`` or ``b(2).md`` was listed under two URLs (``a%5B1%5D.md`` from the folder,
    ``a[1].md`` from the link), parsed twice, and its links counted twice."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.md").write_text("[a](a[1].md) [b](b(2).md)\n")
    (site / "a[1].md").write_text("[x](missing.md)\n")
    (site / "b(2).md").write_text("[y](missing.md)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", "--no-config", "site"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "linked 2 times from 2 pages:\n    site/a[1].md:1\n    site/b(2).md:1\n" in proc.stdout, (
        proc.stdout
    )
    assert "(3 pages in" in proc.stderr + proc.stdout
