"""The scale benchmark: linkdoctor over a generated site of up to 500,000 pages served from memory.

``python -m benchmarks.big --pages 500000`` starts :mod:`benchmarks.bigsite` in a child process, crawls
it once with linkdoctor's CLI (the flags of ``run.py``, JSON report to a file), and prints a table: wall
time, CPU seconds, peak RSS (the whole run, the JSON report included), the report's size, and the broken
links found against the site's known set. ``--scale-from`` takes an earlier, smaller run's ``--json-out``
and compares the wall time with its linear extrapolation. Targets (issue #18): peak RSS ≤ 300 MB at
500,000 pages, wall ≤ 1.2× the extrapolation from 50,000 pages, exactly the known broken links.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bigsite import broken_links
from benchmarks.peers import LINKDOCTOR_FLAGS
from benchmarks.run import DEFAULT_WORK, compile_linkdoctor, measure
from linkdoctor.report.json_v2 import link_verdicts

RSS_TARGET_MB: Final = 300.0
SCALE_TARGET: Final = 1.2


def broken_in_report(report: Path) -> frozenset[str]:
    """The broken URLs of a JSON report, read a line at a time (the report holds one result per line)."""
    found: set[str] = set()
    with report.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.strip().removesuffix(",")
            if line.startswith('{"url"'):  # a result: its links inside (the version 2 report)
                result = json.loads(line)
                found.update(url for url, category in link_verdicts(result) if category == "broken")
    return frozenset(found)


def run(pages: int, work: Path, timeout: float, extra: Sequence[str]) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    compile_linkdoctor()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bigsite", "--pages", str(pages)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        out = work / f"big-{pages}.json"
        argv = [
            sys.executable, "-m", "linkdoctor", "check", base + "/", *LINKDOCTOR_FLAGS,
            "--max-pages", str(pages + 10), *extra, "-o", str(out),
        ]  # fmt: skip
        wall, cpu, rss, code, timed_out = measure(argv, None, timeout, work)
    finally:
        server.terminate()
        server.wait()
    expected = {url.removeprefix(base) for url in broken_links(base, pages)}
    found = {url.removeprefix(base) for url in broken_in_report(out)} if out.exists() else set()
    return {
        "pages": pages,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(rss, 1),
        "exit_code": code,
        "timed_out": timed_out,
        "report_mb": round(out.stat().st_size / 2**20, 1) if out.exists() else 0.0,
        "broken_expected": len(expected),
        "broken_found": len(found & expected),
        "missing": sorted(expected - found)[:10],
        "extra": sorted(found - expected)[:10],
    }


def table(result: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    lines = [
        "| pages | wall s | CPU s | peak RSS MB | JSON report MB | broken found / expected | missing | extra |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['pages']:,} | {result['wall_s']} | {result['cpu_s']} | {result['peak_rss_mb']:.0f} | "
        f"{result['report_mb']} | {result['broken_found']} / {result['broken_expected']} | "
        f"{len(result['missing'])} | {len(result['extra'])} |",
        "",
        f"peak RSS {result['peak_rss_mb']:.0f} MB (target ≤ {RSS_TARGET_MB:.0f} MB at 500,000 pages)",
    ]
    if baseline is not None:
        expected = baseline["wall_s"] * result["pages"] / baseline["pages"]
        ratio = result["wall_s"] / expected
        lines.append(
            f"wall / linear extrapolation from {baseline['pages']:,} pages ({expected:.1f} s): {ratio:.2f}× "
            f"(target ≤ {SCALE_TARGET}×): {'met' if ratio <= SCALE_TARGET else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500_000)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--json-out", type=Path, help="write the measurement to this JSON file")
    parser.add_argument("--scale-from", type=Path, help="an earlier, smaller run's --json-out")
    parser.add_argument("extra", nargs="*", help="more linkdoctor flags, after --")
    args = parser.parse_args(argv)
    result = run(args.pages, args.work, args.timeout, args.extra)
    baseline = json.loads(args.scale_from.read_text(encoding="utf-8")) if args.scale_from else None
    print(table(result, baseline))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if not result["missing"] and not result["extra"] and not result["timed_out"] else 1


if __name__ == "__main__":
    sys.exit(main())
