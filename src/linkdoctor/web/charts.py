"""Geometry of the dashboard's charts, drawn as inline SVG by the templates (no JavaScript, no build step).

* :func:`sparkline` — the trend of broken links on the sites overview.
* :func:`history_chart` — broken, redirected and OK link counts per scan on the site page, and the count of
  unique problems on an axis of its own: three new problems must show as a jump next to 20,000 OK links.

>>> sparkline((0, 2, 1), width=100, height=20).points
'0.0,20.0 50.0,0.0 100.0,10.0'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from linkdoctor.monitor.model import Scan, ScanState

CHART_WIDTH = 600
CHART_HEIGHT = 160
PAD = 4


@dataclass(frozen=True, slots=True)
class Line:
    """One polyline: its name (also the CSS class), its vertices, and the values it was drawn from."""

    name: str
    coords: tuple[tuple[float, float], ...]
    values: tuple[int, ...]

    @property
    def points(self) -> str:
        """The vertices as an SVG ``points`` attribute."""
        return " ".join(f"{x},{y}" for x, y in self.coords)


@dataclass(frozen=True, slots=True)
class Chart:
    """A line chart: a view box, the top value of the links axis (left), lines, one x position and label per
    column, and the problem line with the top value of its own axis (right). The problem line has a vertex
    only for the scans that counted their problems (``problem_columns`` their indexes)."""

    width: int
    height: int
    top: int
    lines: tuple[Line, ...]
    columns: tuple[float, ...]
    labels: tuple[str, ...]
    problems: Line = Line("problems", (), ())
    problems_top: int = 1
    problem_columns: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.columns


def _xs(count: int, width: float) -> list[float]:
    if count == 1:
        return [width / 2]
    return [round(i * width / (count - 1), 1) for i in range(count)]


def _ys(values: Sequence[int], top: int, height: float) -> list[float]:
    scale = height / top if top else 0.0
    return [round(height - v * scale, 1) for v in values]


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 24) -> Line:
    """A polyline through ``values`` (oldest first), scaled so the largest touches the top."""
    top = max(values, default=0) or 1
    xs, ys = _xs(len(values), width), _ys(values, top, height)
    return Line("broken", tuple(zip(xs, ys, strict=True)), tuple(values))


def history_chart(scans: Sequence[Scan], *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> Chart:
    """Per finished scan (done or partial), oldest first: broken, redirected and OK link counts against one
    axis, and the unique problems against their own.

    >>> from linkdoctor.models import Summary
    >>> from datetime import UTC, datetime
    >>> t = datetime(2030, 1, 1, tzinfo=UTC)
    >>> scans = [Scan(i, 1, ScanState.DONE, t, t, t, Summary(ok=20_000, broken=p), 1, 1, problems=p)
    ...          for i, p in ((1, 1), (2, 4))]
    >>> chart = history_chart(scans, width=108, height=108)
    >>> chart.top, chart.problems_top, chart.problems.coords
    (20000, 4, ((4.0, 79.0), (104.0, 4.0)))
    """
    shown = sorted((s for s in scans if s.state in (ScanState.DONE, ScanState.PARTIAL)), key=lambda s: s.id)
    series = {
        "broken": [s.counts.broken for s in shown],
        "redirected": [s.counts.redirected for s in shown],
        "ok": [s.counts.ok for s in shown],
    }
    top = max((v for values in series.values() for v in values), default=0) or 1
    inner = height - 2 * PAD
    xs = [x + PAD for x in _xs(len(shown), width - 2 * PAD)]
    lines = tuple(
        Line(
            name, tuple((x, y + PAD) for x, y in zip(xs, _ys(values, top, inner), strict=True)), tuple(values)
        )
        for name, values in series.items()
    )
    counted = tuple(i for i, s in enumerate(shown) if s.problems is not None)
    problems = [shown[i].problems or 0 for i in counted]
    problems_top = max(problems, default=0) or 1
    problem_line = Line(
        "problems",
        tuple((xs[i], y + PAD) for i, y in zip(counted, _ys(problems, problems_top, inner), strict=True)),
        tuple(problems),
    )
    labels = tuple(f"scan {s.id}" for s in shown)
    return Chart(width, height, top, lines, tuple(xs), labels, problem_line, problems_top, counted)
