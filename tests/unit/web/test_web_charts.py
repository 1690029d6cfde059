"""The chart geometry: sparklines scale to their largest value, the history chart draws one column per
finished scan, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from linkdoctor.models import Summary
from linkdoctor.monitor.model import Scan, ScanState
from linkdoctor.web.charts import history_chart, sparkline

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def scan(
    scan_id: int,
    state: ScanState,
    ok: int = 0,
    redirected: int = 0,
    broken: int = 0,
    problems: int | None = None,
) -> Scan:
    counts = Summary(total=ok + redirected + broken, ok=ok, redirected=redirected, broken=broken)
    return Scan(scan_id, 1, state, T0, T0, T0, counts, budget_used=counts.total, runs=1, problems=problems)


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


def test_a_new_problem_next_to_20000_ok_links_moves_the_problem_line_on_its_own_axis() -> None:
    chart = history_chart(
        [
            scan(1, ScanState.DONE, ok=20_000, broken=3, problems=3),
            scan(2, ScanState.DONE, ok=20_000, broken=4, problems=4),
        ]
    )
    lines = {line.name: line for line in chart.lines}
    drawn = chart.height - 8  # the padding above and below
    broken_move = lines["broken"].coords[0][1] - lines["broken"].coords[1][1]
    problem_move = chart.problems.coords[0][1] - chart.problems.coords[1][1]
    assert (chart.top, chart.problems_top) == (20_000, 4)
    assert broken_move < 1  # on the links axis one more broken link is invisible
    assert problem_move == drawn / 4  # on its own axis one more problem of four is a quarter of the chart
    assert chart.problems.values == (3, 4)


def test_scans_stored_before_problems_were_counted_are_left_out_of_the_problem_line() -> None:
    chart = history_chart(
        [scan(1, ScanState.DONE, ok=5, broken=2), scan(2, ScanState.DONE, ok=5, broken=2, problems=1)]
    )
    assert chart.problems.values == (1,) and chart.problem_columns == (1,)
    assert chart.problems.coords[0][0] == chart.columns[1]
