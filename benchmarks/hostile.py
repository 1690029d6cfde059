"""The hostile run side by side: linkdoctor and lychee, each with its default flags, against the project's
hostile test server (:mod:`tests.support.hostile_run`: every hostile endpoint linked from one index page,
both halves of the server behind byte-counting proxies).

``python -m benchmarks.hostile`` runs each tool once against a fresh server (``--runs`` for more) and prints a
Markdown table: exit code, wall time, peak RSS (the process, and it and its children together, polled from
``/proc``), bytes the server sent, the longest any request was held (answered, or left by the client) and
on which path, and how many links the tool reported. linkdoctor crawls from the index (``check URL``, the
default recursive check of ``tests/integration/check/test_hostile_run.py``); lychee cannot crawl, so it
checks the index page's links. lychee is a peer, never a project dependency: ``--lychee PATH``, else
``lychee`` on the PATH, else the peers venv of :mod:`benchmarks.peers` (installed from PyPI on first use).
Every run is killed after ``--limit`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``tests.support`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.hostile import gzip_bomb
from tests.support.hostile_run import CheckRun, hostile_site, run_check, run_measured

from benchmarks.run import DEFAULT_WORK

LIMIT: Final = 300.0
_MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class HostileRun:
    """One tool's run against a fresh hostile server."""

    tool: str
    run: CheckRun
    sent: int  # bytes the server sent through its proxies
    longest: tuple[float, str]  # the longest a request was held: (seconds, path)
    links: int | None  # links the tool reported, when its output says


def find_lychee(explicit: str | None, work: Path) -> Path | None:
    """``explicit``, else ``lychee`` on the PATH, else the benchmark's peers venv (installing it if need be)."""
    if explicit:
        return Path(explicit)
    found = shutil.which("lychee")
    if found:
        return Path(found)
    from benchmarks.peers import install_peers

    return install_peers(work / "peers-venv", log=lambda line: print(line, file=sys.stderr)).lychee


def _lychee_links(output: Path) -> int | None:
    try:
        document: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    total = document.get("total")
    return total if isinstance(total, int) else None


async def run_tool(tool: str, lychee: Path | None, limit: float) -> HostileRun:
    """Run ``tool`` (``linkdoctor`` or ``lychee``) once against a fresh hostile server."""
    async with hostile_site(gzip_bomb()) as site:
        with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
            workdir = Path(tmp)
            if tool == "linkdoctor":
                run = await run_check(site.index, workdir, limit=limit)
                links = len(run.report["results"]) if run.report is not None else None
            else:
                assert lychee is not None
                output = workdir / "lychee.json"
                argv = [str(lychee), "--no-progress", "--format", "json", "--output", str(output), site.index]
                run = await run_measured(argv, workdir, limit=limit)
                links = _lychee_links(output)
        return HostileRun(tool, run, site.sent(), site.longest_request(), links)


def table(runs: Sequence[HostileRun]) -> str:
    """The Markdown table of ``runs``."""
    lines = [
        "| tool | exit | wall s | peak RSS MB (process / with children) | downloaded MB | longest request s "
        "| links reported |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        seconds, path = r.longest
        lines.append(
            f"| {r.tool} | {r.run.code} | {r.run.wall:.1f} | {r.run.peak_rss / _MIB:.0f} / "
            f"{r.run.peak_tree_rss / _MIB:.0f} | {r.sent / _MIB:.1f} | {seconds:.1f} (`{path}`) "
            f"| {'n/a' if r.links is None else f'{r.links:,}'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tools", default="linkdoctor,lychee", help="comma-separated: linkdoctor,lychee")
    parser.add_argument("--runs", type=int, default=1, help="runs per tool, alternating")
    parser.add_argument("--limit", type=float, default=LIMIT, help="seconds before a run is killed")
    parser.add_argument("--lychee", help="the lychee binary (default: on the PATH, else the peers venv)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch directory (the peers venv)")
    args = parser.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - {"linkdoctor", "lychee"}
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    lychee = find_lychee(args.lychee, args.work) if "lychee" in tools else None
    if "lychee" in tools and lychee is None:
        print("lychee is not available: it is left out", file=sys.stderr)
        tools.remove("lychee")
    runs: list[HostileRun] = []
    for _ in range(args.runs):
        for tool in tools:
            result = asyncio.run(run_tool(tool, lychee, args.limit))
            print(f"{tool}: exit {result.run.code} in {result.run.wall:.1f} s", file=sys.stderr)
            runs.append(result)
    print(table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
