"""How big the reports of one run are, and how fast the HTML report opens in headless Chromium.

``python -m benchmarks.report_size`` generates the documentation site of :mod:`harness.docsite` (500 pages
with a shared sidebar and assets, one missing page linked through 50 fragments, two missing anchors;
``--pages`` for another size), or serves ``--site DIR`` (e.g. the Python documentation,
``/usr/share/doc/python3.11/html``), with nginx; runs ``linkdoctor check`` once with every report; and
prints one JSON object: the bytes of the HTML report and of the JSON report versions 2 and 1, their
ratio, the lines of the console report, the problem headline, and the seconds from opening the HTML report
in Chromium until its problems and first rows are on screen (best of ``--opens``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``harness`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.chromium import chromium_page, require_chromium
from harness.docsite import DocSite, write_docsite
from harness.nginx import NginxPool, require_nginx
from harness.ports import free_port

LIMIT: Final = 600.0
READY: Final = (
    "document.readyState === 'complete' && document.getElementById('problems-section') !== null"
    " && document.querySelector('#results tbody tr') !== null"
)


async def open_seconds(chromium: str, report: Path, opens: int) -> float:
    """The best of ``opens`` times from navigating to the report until its rows are rendered."""
    best = float("inf")
    for _ in range(opens):
        async with chromium_page(chromium) as tab:
            started = time.monotonic()
            await tab.send("Page.navigate", url=report.as_uri())
            for _ in range(600):  # bounded: 30 s
                if await tab.evaluate(READY):
                    break
                await asyncio.sleep(0.05)
            else:
                raise TimeoutError(f"{report} did not render within 30 s")
            best = min(best, time.monotonic() - started)
    return best


def measure(url: str, work: Path, chromium: str, opens: int) -> dict[str, Any]:
    html, v2, v1, console = work / "r.html", work / "r.json", work / "r1.json", work / "r.txt"
    argv = [
        sys.executable, "-m", "linkdoctor", "check", url, "--no-progress", "--retries", "0",
        "-o", str(html), "-o", str(v2), "--format", f"json-v1:{v1}", "--format", f"console:{console}",
    ]  # fmt: skip
    started = time.monotonic()
    run = subprocess.run(argv, capture_output=True, text=True, timeout=LIMIT, check=False)
    check_s = time.monotonic() - started
    if run.returncode not in (0, 2):
        raise SystemExit(f"linkdoctor check exited {run.returncode}: {run.stderr[-2000:]}")
    document = json.loads(v2.read_text(encoding="utf-8"))
    return {
        "check_s": round(check_s, 1),
        "links": document["summary"]["total"],
        "pages_crawled": document["summary"]["pages_crawled"],
        "headline": document["problem_counts"]["headline"],
        "html_bytes": html.stat().st_size,
        "json_v2_bytes": v2.stat().st_size,
        "json_v1_bytes": v1.stat().st_size,
        "v2_over_v1": round(v2.stat().st_size / v1.stat().st_size, 3),
        "console_lines": len(console.read_text(encoding="utf-8").splitlines()),
        "html_open_s": round(asyncio.run(open_seconds(chromium, html, opens)), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages of the generated site")
    parser.add_argument("--site", type=Path, help="serve this folder instead of a generated site")
    parser.add_argument("--opens", type=int, default=3, help="times the HTML report is opened (best kept)")
    args = parser.parse_args(argv)
    chromium = require_chromium()
    with tempfile.TemporaryDirectory(prefix="report-size-") as scratch:
        work = Path(scratch)
        root = args.site.resolve() if args.site else write_docsite(
            DocSite(pages=args.pages, changelog_pages=17, nav_pages=40), work / "site"
        )  # fmt: skip
        pool = NginxPool(require_nginx(), work / "nginx")
        (work / "nginx").mkdir()
        try:
            server = pool.start(f"server {{ listen 127.0.0.1:{free_port()}; root {root}; }}", "site")
            result = {"site": str(args.site or f"harness.docsite, {args.pages} pages")}
            result |= measure(server.url("/"), work, chromium, args.opens)
        finally:
            pool.close()
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
