"""The public library API: ``linkdoctor.__all__`` is pinned, every name loads, and docs/library.md's
example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import linkdoctor

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = [
    "Category",
    "CheckConfig",
    "CheckResult",
    "ConfigError",
    "Diagnosis",
    "FixPlan",
    "FixSettings",
    "Inputs",
    "LinkdoctorError",
    "Referrer",
    "Report",
    "__version__",
    "apply_plan",
    "check_async",
    "collect_inputs",
    "plan_fixes",
    "run_check",
]


def test_all_is_pinned() -> None:
    assert linkdoctor.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_loads(name: str) -> None:
    assert getattr(linkdoctor, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = linkdoctor.nope


def test_import_linkdoctor_does_not_load_the_http_stack() -> None:
    code = "import sys, linkdoctor; print('aiohttp' in sys.modules, 'linkdoctor.engine' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_library_docs_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "library.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S)
    assert example is not None
    done = subprocess.run(
        [sys.executable, "-c", example.group(1)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "4 links, 2 broken"
    broken = [line for line in lines if not line.startswith(" ") and line != lines[-1]]
    assert [line.split()[0].rsplit("/", 1)[-1] for line in broken] == ["index.html#nowhere", "missing.html"]
    assert "  found on" in done.stdout
