"""The benchmark's verdicts on the targets: each ratio, met or not, and the scaling extrapolation."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.run import Measurement, ToolResult, _baseline, ratios


def _tool(name: str, wall: float, rss: float = 50.0) -> ToolResult:
    return ToolResult(name, "", "", runs=[Measurement(wall, wall, rss, 0, False, 100)])


def test_each_target_is_reported_met_or_not() -> None:
    lines = ratios(
        [
            _tool("linkdoctor", 2.0, rss=62),
            _tool("lychee", 4.0),
            _tool("linkinator", 5.0),
            _tool("LinkChecker", 50.0),
        ]
    )
    assert lines[0] == "linkdoctor peak RSS: 62 MB (target ≤ 100 MB): met"
    assert any(
        line.startswith("linkdoctor wall / lychee wall: 0.50×") and line.endswith(": met") for line in lines
    )
    assert any(
        line.startswith("linkinator wall / linkdoctor wall: 2.5×") and "NOT met" in line for line in lines
    )
    assert any(
        line.startswith("LinkChecker wall / linkdoctor wall: 25.0×") and line.endswith(": met")
        for line in lines
    )


def test_the_scaling_run_is_held_to_its_own_memory_target_and_the_extrapolation(tmp_path: Path) -> None:
    earlier = tmp_path / "bench-2000.json"
    earlier.write_text(
        json.dumps({"spec": {"pages": 2000}, "results": [{"name": "linkdoctor", "median_wall_s": 2.0}]})
    )
    baseline = _baseline(earlier)
    assert baseline == (2000, 2.0)
    met = ratios([_tool("linkdoctor", 55.0, rss=355)], 50_000, baseline)
    assert met == [
        "linkdoctor peak RSS: 355 MB (target ≤ 400 MB): met",
        "linkdoctor wall / linear extrapolation from 2000 pages (50.0 s): 1.10× (target ≤ 1.2×): met",
    ]
    missed = ratios([_tool("linkdoctor", 70.0, rss=450)], 50_000, baseline)
    assert all(line.endswith("NOT met") for line in missed)
