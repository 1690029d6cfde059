"""Every command says a bad input the same way: one line ``linkdoctor: error: …`` on stderr, exit code 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BAD_INPUTS = {
    "check, a number out of range": ["check", "--timeout", "0", "https://example.invalid/"],
    "check, a missing file": ["check", "no-such-file.html"],
    "diagnose, not a URL": ["diagnose", "not a url"],
    "explain, an unknown code": ["explain", "http.no-such-code"],
    "nginx lint, a missing file": ["nginx", "lint", "no-such-nginx.conf"],
}


@pytest.mark.parametrize("args", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_with_the_shared_prefix(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linkdoctor", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )

    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("linkdoctor: error: "), lines[0]
    assert "Traceback" not in done.stderr
