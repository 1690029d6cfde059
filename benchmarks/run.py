"""One command benchmarks linkdoctor against its peers on a generated site served by a private nginx.

``python benchmarks/run.py --pages 2000`` generates a deterministic site (:mod:`harness.sitegen`),
serves it with its own nginx on 127.0.0.1, installs lychee and LinkChecker into ``benchmarks/.work/
peers-venv`` and linkinator into ``benchmarks/.work/node-peers`` (never into the project), runs every tool
``--runs`` times in alternation, and prints a
table: median wall time, CPU seconds, peak RSS, requests and requests per second (counted in nginx's
access log), and each tool's broken set against the generator's ground truth. ``--profile`` adds a
py-spy breakdown of where linkdoctor's time goes. ``--json-out`` keeps the numbers.

Each run is a child process measured by ``os.wait4`` (its own CPU time and peak RSS) and killed after
``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import compileall
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``harness`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.nginx import NginxServer, quote, start_nginx
from harness.ports import free_port
from harness.sitegen import STYLESHEET, GroundTruth, SiteSpec, generate_site

from benchmarks.peers import (
    NodePeer,
    Peers,
    Target,
    Tool,
    install_linkinator,
    install_peers,
    linkdoctor_tool,
    normalize_url,
    raw_fetch_tool,
    replay_tool,
    tool_version,
)

HERE: Final = Path(__file__).resolve().parent
DEFAULT_WORK: Final = HERE / ".work"
DEFAULT_TIMEOUT: Final = 600.0
GNU_TIME: Final = "/usr/bin/time"
TOOL_NAMES: Final = ("linkdoctor", "lychee", "linkinator", "linkchecker", "raw", "replay")


@dataclass(frozen=True)
class Measurement:
    """One run of one tool."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    timed_out: bool
    requests: int


@dataclass(frozen=True)
class Verdict:
    """A tool's broken set against the ground truth it can be expected to find."""

    expected: int
    found: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass
class ToolResult:
    name: str
    mode: str
    version: str
    runs: list[Measurement] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    note: str = ""

    def median(self, attribute: str) -> float:
        values: list[float] = [float(getattr(run, attribute)) for run in self.runs]
        return statistics.median(values)

    def worst_verdict(self) -> Verdict | None:
        return max(self.verdicts, key=lambda v: len(v.missing) + len(v.extra), default=None)


# --- the served site -------------------------------------------------------------------------------------
def server_block(root: Path, port: int) -> str:
    """The site's server; the ``LinkChecker`` header lets LinkChecker lift its per-host rate limit."""
    return (
        "server {\n"
        f"    listen 127.0.0.1:{port} backlog=4096;\n"
        "    server_name localhost;\n"
        f"    root {quote(root)};\n"
        "    keepalive_requests 100000;\n"
        "    add_header LinkChecker benchmark always;\n"
        f"    include {quote(root / 'nginx-locations.conf')};\n"
        "}\n"
    )


def expected_broken(truth: GroundTruth, base: str, tool: Tool) -> frozenset[str]:
    """The ground truth restricted to what ``tool`` checks (fragments, links inside CSS)."""
    keep = set()
    for target, referrers in truth.referrers.items():
        if "#" in target and not tool.checks_fragments:
            continue
        if not tool.parses_css and all(page == STYLESHEET for page, _line in referrers):
            continue
        keep.add(normalize_url(base.rstrip("/") + target))
    return frozenset(keep)


def compare(found: frozenset[str], expected: frozenset[str]) -> Verdict:
    return Verdict(
        expected=len(expected),
        found=len(found & expected),
        missing=tuple(sorted(expected - found)),
        extra=tuple(sorted(found - expected)),
    )


# --- measuring one child process -------------------------------------------------------------------------
class AccessLog:
    """The requests nginx logged since the last call."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size if path.exists() else 0

    def take(self) -> list[str]:
        """Each request as its ``METHOD<tab>URI<tab>status<tab>time`` log line."""
        if not self._path.exists():
            return []
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        return data.decode("utf-8", "replace").splitlines()


def measure(
    argv: Sequence[str], stdout: Path | None, timeout: float, cwd: Path
) -> tuple[float, float, float, int, bool]:
    """Run ``argv``; return (wall s, CPU s, peak RSS MB, exit code, timed out).

    ``os.wait4`` reports the child's own CPU time (and that of any children it waited for). Its peak RSS,
    though, counts the memory of the process it was forked from, this runner, until the ``exec``; so
    when GNU time is installed the tool runs under it (a small process to fork from) and the peak RSS is
    the one GNU time reports for the tool alone.
    """
    out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    rss_file = cwd / ".peak-rss"
    rss_file.unlink(missing_ok=True)
    wrapper = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if Path(GNU_TIME).exists() else []
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*wrapper, *argv],
            stdout=out,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,  # its own process group, so a timeout can end it and its children
        )
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout is not None and not isinstance(out, int):
            out.close()
    cpu = usage.ru_utime + usage.ru_stime
    peak_kb = usage.ru_maxrss
    if wrapper:
        lines = rss_file.read_text(encoding="utf-8").split() if rss_file.exists() else []
        if lines and lines[-1].isdigit():
            peak_kb = int(lines[-1])
    return wall, cpu, peak_kb / 1024, process.returncode, expired.is_set()


def run_tool(
    tool: Tool, target: Target, run_dir: Path, timeout: float, log: AccessLog
) -> tuple[Measurement, frozenset[str] | None]:
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o777)  # LinkChecker runs as "nobody" when started by root
    argv, stdout = tool.command(target, run_dir)
    log.take()
    wall, cpu, rss, code, timed_out = measure(argv, stdout, timeout, run_dir)
    served = log.take()
    measurement = Measurement(round(wall, 3), round(cpu, 3), round(rss, 1), code, timed_out, len(served))
    if tool.name == "linkdoctor" and target.replay_file is not None:
        base = target.base_url.rstrip("/")
        fields = (line.split("\t") for line in served)
        target.replay_file.write_text("".join(f"{f[0]}\t{base}{f[1]}\n" for f in fields), encoding="utf-8")
    broken = None
    if tool.broken is not None and not timed_out:
        try:
            broken = tool.broken(run_dir)
        except (OSError, ValueError, KeyError) as exc:
            print(f"  {tool.name}: cannot read its output: {exc}", file=sys.stderr)
    return measurement, broken


# --- profiling -------------------------------------------------------------------------------------------
PROFILE_BUCKETS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("start-up: imports", ("_find_and_load",)),
    ("report output (JSON)", ("write_json", "report_to_dict")),
    ("parse: HTML/CSS extraction", ("extract_html", "_HtmlPass", "extract_css", "_extract (")),
    ("URL handling: resolve, normalize", ("resolve (", "normalize (", "urljoin (")),
    ("network: HTTP checker + aiohttp", ("HttpChecker", "aiohttp/")),
    ("bookkeeping: frontier, dedupe, results", ("crawl.py",)),
    ("event loop, other async", ("run_sync",)),
)


def profile_breakdown(raw: Path) -> list[tuple[str, float]]:
    """Share of py-spy samples per bucket (first matching bucket wins, in order)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        bucket = next((name for name, keys in PROFILE_BUCKETS if any(k in stack for k in keys)), "other")
        counts[bucket] += int(number)
    total = sum(counts.values()) or 1
    return [(name, round(100 * n / total, 1)) for name, n in counts.most_common()]


def run_profile(
    peers: Peers, tool: Tool, target: Target, run_dir: Path, timeout: float
) -> list[tuple[str, float]] | None:
    if peers.py_spy is None:
        print("profile: py-spy is unavailable", file=sys.stderr)
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    argv, stdout = tool.command(target, run_dir)
    raw = run_dir / "profile.txt"
    spy = [
        str(peers.py_spy),
        "record",
        "--nonblocking",
        "-r",
        "200",
        "-f",
        "raw",
        "-o",
        str(raw),
        "--",
        *argv,
    ]
    measure(spy, stdout, timeout, run_dir)
    return profile_breakdown(raw) if raw.exists() else None


# --- the raw-fetch floor (a child mode of this script) ---------------------------------------------------
def raw_fetch(requests_file: Path, concurrency: int) -> int:
    """Send each request of ``requests_file`` (a URL to GET, or ``METHOD<tab>URL``) and read its body;
    exit code 0 when every request was answered."""
    import aiohttp
    import uvloop

    lines = [line for line in requests_file.read_text(encoding="utf-8").splitlines() if line]
    requests = [line.split("\t", 1) if "\t" in line else ["GET", line] for line in lines]

    async def main() -> int:
        queue = iter(requests)
        done = 0

        async def worker(session: aiohttp.ClientSession) -> None:
            nonlocal done
            for method, url in queue:
                async with session.request(method, url, allow_redirects=False) as response:
                    await response.read()
                done += 1

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return done

    fetched: int = uvloop.run(main())
    return 0 if fetched == len(requests) else 1


# --- reporting -------------------------------------------------------------------------------------------
def machine() -> str:
    cpu = ""
    try:
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text(encoding="utf-8"))
        cpu = match.group(1).strip() if match else ""
    except OSError:
        pass
    memory = ""
    try:
        match = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(encoding="utf-8"))
        memory = f", {int(match.group(1)) / 1024 / 1024:.0f} GB RAM" if match else ""
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu or platform.processor()}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def table(results: list[ToolResult], pages: int) -> str:
    head = "| tool | how it was run | wall s | CPU s | peak RSS MB | requests | req/s | ms/page | broken found / expected | missing | extra |"
    rows = [head, "|" + "---|" * 11]
    for r in results:
        if not r.runs:
            rows.append(f"| {r.name} | {r.note or 'unavailable'} | – | – | – | – | – | – | – | – | – |")
            continue
        wall, cpu, rss = r.median("wall_s"), r.median("cpu_s"), r.median("peak_rss_mb")
        requests = int(r.median("requests"))
        verdict = r.worst_verdict()
        found = f"{verdict.found} / {verdict.expected}" if verdict else "n/a"
        missing = str(len(verdict.missing)) if verdict else "n/a"
        extra = str(len(verdict.extra)) if verdict else "n/a"
        failed = sum(1 for run in r.runs if run.timed_out)
        name = r.name + (f" ({failed} run(s) timed out)" if failed else "")
        rows.append(
            f"| {f'{name} {r.version}'.strip()} | {r.mode} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {requests} | "
            f"{requests / wall:,.0f} | {1000 * wall / pages:.2f} | {found} | {missing} | {extra} |"
        )
    return "\n".join(rows)


# Peak RSS targets: 100 MB on the 2,000-page site; 400 MB on the 50,000-page scaling site.
RSS_TARGET_MB: Final = 100
SCALING_RSS_TARGET_MB: Final = 400
SCALING_TARGET: Final = 1.2  # wall at most this times the linear extrapolation from a smaller run


def ratios(
    results: list[ToolResult], pages: int = 2000, baseline: tuple[int, float] | None = None
) -> list[str]:
    """The targets' lines; ``baseline`` is (pages, linkdoctor's median wall s) of a smaller run, for the
    scaling target."""
    by_name = {r.name: r for r in results if r.runs}
    ours = by_name.get("linkdoctor")
    if ours is None:
        return []
    wall, rss = ours.median("wall_s"), ours.median("peak_rss_mb")
    limit = RSS_TARGET_MB if pages <= 2000 else SCALING_RSS_TARGET_MB
    lines = [
        f"linkdoctor peak RSS: {rss:.0f} MB (target ≤ {limit} MB): {'met' if rss <= limit else 'NOT met'}"
    ]
    if baseline is not None and baseline[0] < pages:
        expected = baseline[1] * pages / baseline[0]
        scale = wall / expected
        lines.append(
            f"linkdoctor wall / linear extrapolation from {baseline[0]} pages ({expected:.1f} s): {scale:.2f}× "
            f"(target ≤ {SCALING_TARGET}×): {'met' if scale <= SCALING_TARGET else 'NOT met'}"
        )
    if "lychee" in by_name:
        cpu_ratio = ours.median("cpu_s") / by_name["lychee"].median("cpu_s")
        lines.append(f"linkdoctor CPU / lychee CPU: {cpu_ratio:.2f}× (no target; lychee is native code)")
        ratio = wall / by_name["lychee"].median("wall_s")
        lines.append(
            f"linkdoctor wall / lychee wall: {ratio:.2f}× (target ≤ 1.0×): {'met' if ratio <= 1.0 else 'NOT met'}"
        )
        floor = by_name.get("raw aiohttp replay")
        if floor is not None:
            lines.append(
                f"floor: aiohttp replaying linkdoctor's {floor.median('requests'):.0f} requests, no parsing, "
                f"/ lychee wall: {floor.median('wall_s') / by_name['lychee'].median('wall_s'):.2f}× "
                f"(linkdoctor's wall is {wall / floor.median('wall_s'):.2f}× its floor)"
            )
    if "linkinator" in by_name:
        ratio = by_name["linkinator"].median("wall_s") / wall
        lines.append(
            f"linkinator wall / linkdoctor wall: {ratio:.1f}× faster (target ≥ 5×): {'met' if ratio >= 5 else 'NOT met'}"
        )
    if "LinkChecker" in by_name:
        ratio = by_name["LinkChecker"].median("wall_s") / wall
        lines.append(
            f"LinkChecker wall / linkdoctor wall: {ratio:.1f}× faster (target ≥ 20×): {'met' if ratio >= 20 else 'NOT met'}"
        )
    return lines


# --- the run ---------------------------------------------------------------------------------------------
def select_tools(
    names: Sequence[str], peers: Peers | None, node_peer: NodePeer | None = None
) -> tuple[list[Tool], list[ToolResult]]:
    tools: list[Tool] = []
    missing: list[ToolResult] = []
    python = sys.executable
    for name in names:
        if name == "linkdoctor":
            tools.append(linkdoctor_tool(python))
        elif name == "raw":
            tools.append(raw_fetch_tool(python, Path(__file__).resolve()))
        elif name == "replay":
            if "linkdoctor" in names[: names.index(name)]:
                tools.append(replay_tool(python, Path(__file__).resolve()))
            else:
                missing.append(
                    ToolResult(name, "", "", note="unavailable (needs linkdoctor before it in --tools)")
                )
        elif name == "linkinator":
            tool = node_peer.tool() if node_peer else None
            if tool is not None:
                tools.append(tool)
            else:
                why = node_peer.unavailable if node_peer else "not installed"
                missing.append(ToolResult(name, "", "", note=f"unavailable ({why})"))
        else:
            found = [t for t in (peers.tools() if peers else []) if t.name.lower() == name]
            if found:
                tools.extend(found)
            else:
                why = ", ".join(peers.unavailable) if peers else "peers not installed"
                missing.append(ToolResult(name, "", "", note=f"unavailable ({why})"))
    return tools, missing


def versions(tools: list[Tool], peers: Peers | None, node_peer: NodePeer | None = None) -> dict[str, str]:
    found = {
        "linkdoctor": tool_version([sys.executable, "-m", "linkdoctor"]).replace("linkdoctor, version ", "")
    }
    if node_peer and node_peer.node and node_peer.cli:
        found["linkinator"] = tool_version([str(node_peer.node), str(node_peer.cli)])
    if peers and peers.lychee:
        found["lychee"] = tool_version([str(peers.lychee)]).replace("lychee ", "")
    if peers and peers.linkchecker:
        found["LinkChecker"] = (
            tool_version([str(peers.linkchecker)]).replace("LinkChecker ", "").split(" released")[0]
        )
    return found


def compile_linkdoctor() -> None:
    """Compile linkdoctor's modules to bytecode, as installing a package does (the peers are installed).
    From an editable install with ``PYTHONDONTWRITEBYTECODE`` set, every run would compile the sources
    again: 75 ms of each run on these machines."""
    import linkdoctor

    compileall.compile_dir(Path(linkdoctor.__file__).parent, quiet=1)


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    spec = SiteSpec(
        pages=args.pages,
        links_per_page=args.links_per_page,
        seed=args.seed,
        server_errors=not args.no_server_errors,
    )
    root = (
        work / f"site-{spec.pages}-{spec.links_per_page}-{spec.seed}{'' if spec.server_errors else '-no5xx'}"
    )
    started = time.perf_counter()
    truth = generate_site(spec, root)
    print(
        f"site: {len(truth.ok_pages)} pages in {root} ({time.perf_counter() - started:.1f} s), "
        f"{len(truth.broken)} broken targets in the ground truth"
    )
    if "linkdoctor" in args.tools:
        compile_linkdoctor()
    peer_names = [n for n in args.tools if n in ("lychee", "linkchecker")]
    peers = (
        install_peers(work / "peers-venv", log=print, profiler=args.profile)
        if peer_names or args.profile
        else None
    )
    node_peer = install_linkinator(work / "node-peers", log=print) if "linkinator" in args.tools else None
    tools, results_missing = select_tools(args.tools, peers, node_peer)
    found_versions = versions(tools, peers, node_peer)
    if args.baseline is not None:  # a change against its baseline, alternating in the same runs
        tools.append(linkdoctor_tool(str(args.baseline), name=BASELINE))
        found_versions[BASELINE] = tool_version([str(args.baseline), "-m", "linkdoctor"]).replace(
            "linkdoctor, version ", ""
        )
    port = free_port()
    server: NginxServer = start_nginx(
        server_block(root, port), work / "nginx", access_log=True, workers=args.nginx_workers
    )
    try:
        base = server.url("/")
        pages_file = root.with_name(root.name + "-pages.txt")
        pages_file.write_text(
            "".join(base.rstrip("/") + p + "\n" for p in sorted(truth.ok_pages)), encoding="utf-8"
        )
        target = Target(base, pages_file, replay_file=work / "runs" / "linkdoctor-requests.tsv")
        log = AccessLog(server.access_log or work / "nginx" / "logs" / "access.log")
        results = [ToolResult(t.name, t.mode, found_versions.get(t.name, "")) for t in tools]
        for run in range(args.runs):
            for tool, result in zip(tools, results, strict=True):
                slug = re.sub(r"[^a-z0-9]+", "-", tool.name.lower())
                measurement, broken = run_tool(
                    tool, target, work / "runs" / f"{slug}-{run}", args.timeout, log
                )
                result.runs.append(measurement)
                if broken is not None:
                    result.verdicts.append(compare(broken, expected_broken(truth, base, tool)))
                print(
                    f"  run {run + 1}/{args.runs} {tool.name}: {measurement.wall_s:.2f} s wall, "
                    f"{measurement.cpu_s:.2f} s CPU, {measurement.peak_rss_mb:.0f} MB, "
                    f"{measurement.requests} requests, exit {measurement.exit_code}"
                    + (" TIMED OUT" if measurement.timed_out else "")
                )
        profile = None
        if args.profile and peers is not None:
            profile = run_profile(
                peers,
                tools[0] if tools and tools[0].name == "linkdoctor" else linkdoctor_tool(sys.executable),
                target,
                work / "runs" / "profile",
                args.timeout,
            )
    finally:
        server.stop()
    all_results = results + results_missing
    return {
        "machine": machine(),
        "spec": asdict(spec),
        "ground_truth_broken": len(truth.broken),
        "nginx_workers": args.nginx_workers,
        "runs": args.runs,
        "results": [
            {**asdict(r), "median_wall_s": r.median("wall_s") if r.runs else None} for r in all_results
        ],
        "table": table(all_results, spec.pages),
        "ratios": ratios(all_results, spec.pages, _baseline(args.scale_from)),
        "profile": profile,
    }


def _baseline(path: Path | None) -> tuple[int, float] | None:
    """(pages, linkdoctor's median wall s) from an earlier run's ``--json-out`` file."""
    if path is None:
        return None
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    ours = [r for r in summary["results"] if r["name"] == "linkdoctor" and r["median_wall_s"]]
    return (int(summary["spec"]["pages"]), float(ours[0]["median_wall_s"])) if ours else None


BASELINE = "linkdoctor-baseline"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--links-per-page", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs per tool, alternating (default 3)")
    parser.add_argument(
        "--tools",
        default="linkdoctor,lychee,linkinator,linkchecker,raw,replay",
        help=f"comma-separated subset of {','.join(TOOL_NAMES)}",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds before a run is killed"
    )
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument(
        "--no-server-errors",
        action="store_true",
        help="a site without 500 answers (lychee backs off from a host after 5xx, which slows it down)",
    )
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch directory (gitignored)")
    parser.add_argument("--profile", action="store_true", help="also profile one linkdoctor run with py-spy")
    parser.add_argument("--json-out", type=Path, help="write all measurements to this JSON file")
    parser.add_argument(
        "--scale-from",
        type=Path,
        help="an earlier, smaller run's --json-out file: report the wall time against its linear extrapolation",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help=f"a Python interpreter with another linkdoctor installed (an earlier checkout's venv): run it "
        f"too, as {BASELINE!r}, alternating with the others",
    )
    parser.add_argument("--raw-fetch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--raw-concurrency", type=int, default=64, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.tools = [t.strip().lower() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOL_NAMES)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    if args.raw_fetch is not None:
        return raw_fetch(args.raw_fetch, args.raw_concurrency)
    summary = benchmark(args)
    out("")
    out(f"Machine: {summary['machine']}; nginx {summary['nginx_workers']} worker(s) on 127.0.0.1")
    spec = summary["spec"]
    out(
        f"Site: {spec['pages']} pages, {spec['links_per_page']} links per page, seed {spec['seed']}"
        f"{'' if spec['server_errors'] else ', no 500s'}; "
        f"medians of {summary['runs']} run(s)"
    )
    out("")
    out(summary["table"])
    out("")
    for line in summary["ratios"]:
        out(line)
    if summary["profile"]:
        out("")
        out("Where linkdoctor's time goes (py-spy samples):")
        for name, share in summary["profile"]:
            out(f"  {share:5.1f}%  {name}")
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
