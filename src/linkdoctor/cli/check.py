"""``linkdoctor check``: flags → :class:`CheckConfig` → :func:`check_async` → report → exit code.

The flags are generated from the option schema (:mod:`linkdoctor.options`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from linkdoctor.cli import UsageError
from linkdoctor.cli.credentials import client_cert_from_options
from linkdoctor.cli.flags import schema_options
from linkdoctor.cli.merge import merge_config_file, open_cache
from linkdoctor.config import CheckConfig, ExitCode, HostSettings, Method, Secret
from linkdoctor.config_file import FileConfig, apply_sections
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.interrupt import Interrupt, OutageStopped
from linkdoctor.engine.runner import check_async, fewer_collections, run_sync
from linkdoctor.errors import ConfigError
from linkdoctor.models import CheckResult, Report
from linkdoctor.patterns import PatternError, UserPattern, compile_pattern
from linkdoctor.report.context import RenderContext
from linkdoctor.report.formats import FORMAT_NAMES
from linkdoctor.report.outputs import open_outputs, plan_outputs, streams_to_stdout
from linkdoctor.scratch import ScratchFailed
from linkdoctor.tls.context import prompt_or_env_password

if TYPE_CHECKING:
    from linkdoctor.distributed.claim import HeldScan
    from linkdoctor.distributed.resume import Interrupt as ScanInterrupt


def parse_status_list(values: Sequence[str]) -> frozenset[int]:
    """``["200..299", "429", "496"]`` → the set of statuses.

    >>> sorted(parse_status_list(["200..201", "496"]))
    [200, 201, 496]
    """
    codes: set[int] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            low, sep, high = part.partition("..")
            try:
                start, end = int(low), int(high if sep else low)
            except ValueError:
                raise ConfigError(f"--accept: {part!r} is not a status or a range like 200..299") from None
            if not (100 <= start <= end <= 999):
                raise ConfigError(f"--accept: {part!r} is outside 100..999")
            codes.update(range(start, end + 1))
    return frozenset(codes)


def _regexes(values: Sequence[str], flag: str) -> tuple[UserPattern, ...]:
    """The patterns of a repeatable flag, compiled for RE2 (linear time: :mod:`linkdoctor.patterns`)."""
    patterns = []
    for value in values:
        try:
            patterns.append(compile_pattern(value))
        except PatternError as exc:
            raise ConfigError(f"{flag} {value!r} is not a valid regular expression: {exc.reason}") from None
    return tuple(patterns)


def _header(value: str, flag: str) -> tuple[str, str]:
    name, sep, content = value.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"{flag} {value!r} must look like 'Name: value'")
    return name.strip(), content.strip()


def _env_secret(var: str, what: str) -> Secret:
    secret = prompt_or_env_password(var, None, what=what)
    assert secret is not None  # a named variable either yields a value or raises
    return secret


def build_config(opts: dict[str, Any]) -> CheckConfig:
    """Turn parsed CLI options into a :class:`CheckConfig` (raises ``ConfigError`` for bad values)."""
    host_settings: list[HostSettings] = []
    for host, header in opts["host_header"]:
        host_settings.append(HostSettings((host,), headers=(_header(header, "--host-header"),)))
    for host, user, env_var in opts["basic_auth"]:
        host_settings.append(HostSettings((host,), basic_auth=(user, _env_secret(env_var, "--basic-auth"))))
    client = client_cert_from_options(opts, hosts=tuple(opts["cert_host"]))
    certs = [client] if client is not None else []
    # CheckConfig refuses out-of-range numbers (--timeout 0, --depth -1) against the option schema
    return CheckConfig(
        recursive=opts["recursive"],
        depth=opts["depth"],
        max_pages=opts["max_pages"],
        max_urls=opts["max_urls"],
        max_sitemap_urls=opts["max_sitemap_urls"],
        max_time=opts["max_time"],
        max_queries=opts["max_queries"],
        max_path_depth=opts["max_path_depth"],
        trap_depth=opts["trap_depth"],
        trap_ids=opts["trap_ids"],
        max_links_per_page=opts["max_links_per_page"],
        include=_regexes(opts["include"], "--include"),
        exclude=_regexes(opts["exclude"], "--exclude"),
        scope=_regexes(opts["scope"], "--scope"),
        base_url=opts["base_url"],
        respect_robots=not opts["ignore_robots"],
        check_fragments=opts["fragments"],
        soft_404=bool(opts.get("soft_404", True)),
        all_referrers=bool(opts.get("all_referrers", False)),
        method=Method(opts["method"]),
        max_concurrency=opts["max_concurrency"],
        max_per_host=opts["max_per_host"],
        host_interval=opts["host_interval"],
        timeout=opts["timeout"],
        connect_timeout=min(opts["connect_timeout"], opts["timeout"]),
        retries=opts["retries"],
        max_redirects=opts["max_redirects"],
        max_body=opts["max_body"],
        max_url_length=opts["max_url_length"],
        user_agent=opts["user_agent"],
        headers=tuple(_header(h, "--header") for h in opts["header"]),
        host_settings=tuple(host_settings),
        cookie_jar=opts["cookie_jar"],
        dns_server=opts["dns_server"],
        accept=parse_status_list(opts["accept"]),
        client_certs=tuple(certs),
        cacert=opts["cacert"],
        insecure=opts["insecure"],
        diagnose=bool(opts.get("diagnose", False)),
    )


# A URL list's bounds: a line longer than any URL worth checking, or a list past this size, is an error
# (``--urls-from /dev/zero`` read until memory ran out).
MAX_URL_LIST_LINE = 65_536
MAX_URL_LIST_BYTES = 512 * 2**20


def _url_lists(values: Sequence[str]) -> list[tuple[str, list[str]]]:
    lists = []
    for value in values:
        if value == "-":
            lists.append(("<stdin>", _read_url_list(sys.stdin, "-")))
            continue
        try:
            with open(value, encoding="utf-8", errors="replace") as stream:
                lists.append((value, _read_url_list(stream, value)))
        except OSError as exc:
            raise ConfigError(f"--urls-from {value}: {exc.strerror}") from exc
    return lists


def _read_url_list(stream: TextIO, name: str) -> list[str]:
    """The lines of a URL list, each at most :data:`MAX_URL_LIST_LINE` characters, in all at most
    :data:`MAX_URL_LIST_BYTES` characters (else a :class:`ConfigError`)."""
    lines: list[str] = []
    total = 0
    while line := stream.readline(MAX_URL_LIST_LINE + 1):
        if len(line) > MAX_URL_LIST_LINE:
            raise ConfigError(
                f"--urls-from {name}: line {len(lines) + 1} is longer than {MAX_URL_LIST_LINE:,} characters"
            )
        total += len(line)
        if total > MAX_URL_LIST_BYTES:
            raise ConfigError(f"--urls-from {name}: longer than {MAX_URL_LIST_BYTES // 2**20} MiB")
        lines.append(line.rstrip("\r\n"))
    return lines


@click.command()
@click.argument("inputs", nargs=-1)
@schema_options(help_values={"formats": ", ".join(FORMAT_NAMES)})
@click.pass_context
def check(ctx: click.Context, /, inputs: tuple[str, ...], **opts: Any) -> None:
    """Crawl sites and check every link: URLs, local folders and files (HTML, Markdown), sitemaps.

    \b
    linkdoctor check https://example.org/
    linkdoctor check ./public --base-url https://example.org/
    linkdoctor check docs/**/*.md README.md
    linkdoctor check --urls-from urls.txt
    linkdoctor check https://example.org/sitemap.xml

    Exit codes: 0 nothing broken, 2 broken links found, 3 usage or config error, 1 unexpected error;
    stopped by SIGINT or SIGTERM, a check lets the checks in flight finish, writes its partial report and
    exits 130 or 143 (a second signal stops it at once, with no report).
    """
    try:
        inputs, file = merge_config_file(ctx, inputs, opts)
        broker = opts.pop("broker")
        resume = opts.pop("resume")
        if resume is not None and not broker:
            raise ConfigError("--resume needs --broker: only a distributed check can be resumed")
        if broker:
            from linkdoctor.cli.extras import require_distributed

            require_distributed("--broker")
        report, stopped_by = _run(inputs, opts, file, broker=broker or None, resume=resume)
    except ConfigError as exc:
        raise UsageError(exc) from exc
    if stopped_by is not None:
        ctx.exit(128 + stopped_by)
    ctx.exit(ExitCode.BROKEN if report.summary.broken else ExitCode.OK)


def repository_root(cwd: Path, environ: Mapping[str, str]) -> Path | None:
    """The repository the run is in, which SARIF and GitHub annotations name files relative to: the
    GitHub workspace when the working directory is in it, else the nearest folder up with a ``.git``."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if workspace and cwd.resolve().is_relative_to(Path(workspace).resolve()):
        return Path(workspace)
    for folder in (cwd.resolve(), *cwd.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return None


def _progress_bar() -> Callable[[Crawler], AbstractAsyncContextManager[None]] | None:
    """The live progress bar on stderr when that is a terminal (rich loads only then)."""
    if not (sys.stderr.isatty() or os.environ.get("FORCE_COLOR") or os.environ.get("FORCE_TERMINAL")):
        return None
    from rich.console import Console

    from linkdoctor.report.console import live_progress

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    return lambda crawler: live_progress(crawler.progress, console, enabled=True)


def _run(
    inputs: tuple[str, ...],
    opts: dict[str, Any],
    file: FileConfig | None = None,
    *,
    broker: str | None = None,
    resume: str | None = None,
) -> tuple[Report, int | None]:
    """Run the check and write its reports: the report, and the signal that stopped a distributed run. A
    distributed check holds its scan until its reports are written (a ``--resume`` meanwhile is refused),
    then forgets it, unless it was stopped: then it is left to ``--resume``."""
    if not broker:
        return _checked(inputs, opts, file)
    # The distributed mode's imports (celery, redis) load only when asked for.
    from linkdoctor.distributed.claim import HeldScan
    from linkdoctor.distributed.coordinator import new_scan_key
    from linkdoctor.distributed.settings import BrokerSettings

    with HeldScan(BrokerSettings(broker), resume or new_scan_key()) as held:
        report, stopped_by = _checked(inputs, opts, file, held=held, resume=resume is not None)
        if stopped_by is None:  # the reports are written (renamed into place): now the crawl state may go
            run_sync(held.forget())
    return report, stopped_by


def _checked(
    inputs: tuple[str, ...],
    opts: dict[str, Any],
    file: FileConfig | None = None,
    *,
    held: HeldScan | None = None,
    resume: bool = False,
) -> tuple[Report, int | None]:
    """:func:`_run`'s check and reports, distributed when ``held`` names the scan."""
    targets = plan_outputs(opts["fmt"], opts["output"])
    config = apply_sections(build_config(opts), file, environ=os.environ)
    collected = collect_inputs(inputs, base_url=config.base_url, url_lists=_url_lists(opts["urls_from"]))
    show_progress = opts["progress"] and not streams_to_stdout(targets)
    console_on_stdout = any(t.path is None and t.format.name == "console" for t in targets)
    context = RenderContext(
        sites=collected.sites,
        root=Path.cwd(),
        verbose=opts["verbose"],
        group_by=opts["group_by"],
        repo_root=repository_root(Path.cwd(), os.environ),
    )
    with (
        open_cache(opts, config) or contextlib.nullcontext() as cache,
        open_outputs(targets, context, stdout=sys.stdout) as outputs,
    ):
        on_result = outputs.on_result if outputs.streaming else None
        around = _progress_bar() if show_progress else None
        interrupt = Interrupt(announce=_say)
        scan: ScanInterrupt | None = None  # a distributed check's: its messages name --resume
        live: list[str] = []  # its key, once the scan is live: from then on it can be resumed

        def announce(key: str) -> None:
            live.append(key)
            _say(f"scan {key}; resume with --resume {key}")

        if held is not None:
            from linkdoctor.distributed.resume import Interrupt as ScanInterrupt

            interrupt = scan = ScanInterrupt(held.scan, announce=_say)

        async def local(sink: Callable[[CheckResult], None] | None) -> Report:
            with interrupt.installed():
                found = await check_async(
                    config, collected, on_result=sink, around=interrupt.around(around), cache=cache
                )
            return interrupt.partial(found)

        def check(sink: Callable[[CheckResult], None] | None) -> Coroutine[Any, Any, Report]:
            if held is not None and scan is not None:
                from linkdoctor.distributed.run import check_distributed

                return check_distributed(
                    config,
                    collected,
                    held.settings,
                    scan=held.scan,
                    resume=resume,
                    interrupt=scan,
                    held=held,  # forgotten only once the report is written: a kill meanwhile can still resume
                    announce=announce,
                    on_result=sink,
                    around=around,
                    cache=cache,
                )
            return local(sink)

        try:
            if config.diagnose:  # the doctor (and pyOpenSSL) load only when asked for
                from linkdoctor.doctor.attach import check_diagnosed

                report: Report = run_sync(check_diagnosed(config, check, on_result=on_result))
            else:
                report = run_sync(check(on_result))
            with fewer_collections():  # the reports read the whole crawl state: no rescans of it meanwhile
                outputs.finish(report)
                # Counted before the reports are in place: what it reads can fail as they can (a full disk).
                summary = None if console_on_stdout else _summary_line(report)
            if held is not None:
                held.check()  # the crawl state was this check's while the reports read it
        except FetchInterrupted as exc:  # a distributed check lost its broker or its state: say how to go on
            if held is None or not live or isinstance(exc, OutageStopped):  # not started, or stopped during
                raise  # an outage: its message says how to go on, and Redis cannot be asked anything
            held.check()  # another coordinator took the scan (and cleared its state): no hint
            from linkdoctor.distributed.resume import resume_hint

            hint = resume_hint(held.settings, live[0], exc)
            if hint is None:
                raise
            raise FetchInterrupted(f"{exc}; {hint}") from exc
        except sqlite3.Error as exc:  # the reports' scratch space (a distributed check's): a full disk
            if held is None:
                raise  # only a distributed check's report has a scratch space: this is another failure
            failed = ScratchFailed.of(exc)
            if not live:
                raise failed from exc
            held.check()  # another coordinator took the scan (and cleared its state): no hint
            from linkdoctor.distributed.resume import resume_hint

            hint = resume_hint(held.settings, live[0], failed)
            raise (failed if hint is None else ScratchFailed(f"{failed}; {hint}")) from exc
    if summary is not None:
        click.echo(summary, err=True)
    if interrupt.signum is None:
        return report, None
    if scan is not None:
        _say(
            f"interrupted by {interrupt.signal_name}: the report is partial; to finish the scan, run the "
            f"same command with --resume {scan.scan}"
        )
    else:
        _say(f"interrupted by {interrupt.signal_name}: the report is partial")
    return report, interrupt.signum


def _say(message: str) -> None:
    click.echo(f"linkdoctor: {message}", err=True)


def _summary_line(report: Report) -> str:
    """The one-line summary for stderr, for a run whose console report is not on stdout (only ``-o`` files,
    or a machine format on stdout that the line must not mix into)."""
    from linkdoctor.problems import problem_counts, summary_line

    return summary_line(report.summary, problem_counts(report.results))
