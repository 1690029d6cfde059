"""The benchmark runs end to end on a small site, and linkdoctor's broken set in it is the ground truth.

``python benchmarks/run.py --pages 50`` is run as a user would run it (peers left out: the suite has no
network), and its ``--json-out`` file is read back. Nothing here is about time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.nginx, pytest.mark.slow]

_REPO = Path(__file__).resolve().parents[2]
_RUN = _REPO / "benchmarks" / "run.py"
_TIMEOUT = 300


@pytest.fixture(scope="module")
def benchmark(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "bench.json"
    argv = [sys.executable, str(_RUN), "--pages", "50", "--runs", "1", "--tools", "linkdoctor,raw,replay"]
    argv += ["--work", str(work), "--json-out", str(out)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        cwd=_REPO,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"benchmarks/run.py failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return summary, done.stdout


def _result(summary: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in summary["results"] if r["name"] == name]
    assert len(found) == 1, [r["name"] for r in summary["results"]]
    return found[0]


def test_linkdoctor_reports_exactly_the_ground_truth(benchmark: tuple[dict[str, Any], str]) -> None:
    summary, _stdout = benchmark
    verdicts = _result(summary, "linkdoctor")["verdicts"]
    assert len(verdicts) == 1
    verdict = verdicts[0]
    assert (verdict["missing"], verdict["extra"]) == ([], [])
    assert verdict["found"] == verdict["expected"] == summary["ground_truth_broken"] > 0


def test_every_run_is_measured(benchmark: tuple[dict[str, Any], str]) -> None:
    summary, _stdout = benchmark
    for name in ("linkdoctor", "raw aiohttp GET", "raw aiohttp replay"):
        (run,) = _result(summary, name)["runs"]
        assert not run["timed_out"], name
        assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["peak_rss_mb"] > 0, name
        assert run["requests"] > 50, name  # counted in nginx's access log: at least every page once


def test_the_printed_table_has_a_row_per_tool(benchmark: tuple[dict[str, Any], str]) -> None:
    _summary, stdout = benchmark
    rows = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| tool |")
    assert [row.split("|")[1].split()[0] for row in rows[1:]] == ["linkdoctor", "raw", "raw"]


def test_the_replay_sends_exactly_linkdoctors_requests(benchmark: tuple[dict[str, Any], str]) -> None:
    summary, _stdout = benchmark
    (ours,) = _result(summary, "linkdoctor")["runs"]
    (replay,) = _result(summary, "raw aiohttp replay")["runs"]
    assert replay["exit_code"] == 0  # every request was answered
    assert replay["requests"] == ours["requests"]
