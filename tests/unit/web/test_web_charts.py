"""The chart geometry: sparklines scale to their largest value, the history chart draws one column per
finished scan, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from linkdoctor.models import Summary
from linkdoctor.monitor.model import Scan, ScanState
from linkdoctor.web.charts import history_chart, sparkline

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def scan(scan_id: int, state: ScanState, ok: int = 0, redirected: int = 0, broken: int = 0) -> Scan:
    counts = Summary(total=ok + redirected + broken, ok=ok, redirected=redirected, broken=broken)
    return Scan(scan_id, 1, state, T0, T0, T0, counts, budget_used=counts.total, runs=1)


def test_sparkline_touches_the_top_at_its_largest_value() -> None:
    line = sparkline((1, 4, 2), width=10, height=8)
    assert line.coords == ((0.0, 6.0), (5.0, 0.0), (10.0, 4.0))


def test_flat_zero_sparkline_lies_on_the_bottom() -> None:
    assert {y for _, y in sparkline((0, 0), height=8).coords} == {8.0}


def test_single_value_sparkline_is_centred() -> None:
    assert sparkline((3,), width=10, height=8).coords == ((5.0, 0.0),)


def test_history_chart_has_one_column_per_finished_scan_oldest_first() -> None:
    scans = [
        scan(3, ScanState.RUNNING),
        scan(2, ScanState.PARTIAL, ok=5, broken=1),
        scan(1, ScanState.DONE, ok=8, redirected=2, broken=4),
        scan(4, ScanState.FAILED),
    ]
    chart = history_chart(scans)
    assert chart.labels == ("scan 1", "scan 2")
    assert {line.name: line.values for line in chart.lines} == {
        "broken": (4, 1),
        "redirected": (2, 0),
        "ok": (8, 5),
    }
    assert chart.top == 8


def test_history_chart_of_no_finished_scan_is_empty() -> None:
    assert history_chart([scan(1, ScanState.QUEUED)]).empty
