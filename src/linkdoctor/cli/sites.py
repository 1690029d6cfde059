"""``linkdoctor sites add|list|scan|history|remove``: manage the monitored sites from the shell, on the same
database as ``linkdoctor serve`` (``--db``, or SQLite in the user data directory).

    linkdoctor sites add https://example.org/ --every 1d --budget 1500 --notify mailto://…
    linkdoctor sites scan example.org
"""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta
from pathlib import Path

import click

from linkdoctor.cli.flags import site_options
from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import (
    DEFAULT_ALERT_AFTER,
    DEFAULT_BUDGET,
    Scan,
    ScanState,
    SiteOptions,
    SiteSpec,
)
from linkdoctor.monitor.scheduler import ScanRefused
from linkdoctor.monitor.service import Monitor

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_every(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d`` or ``2w`` as a timedelta.

    >>> parse_every("6h")
    datetime.timedelta(seconds=21600)
    """
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(f"--every takes a number and m, h, d or w (like 6h or 1d), not {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def default_db_url() -> str:
    from linkdoctor.web.settings import DB_FILENAME, default_data_dir, sqlite_url

    return sqlite_url(default_data_dir(os.environ, home=Path.home()) / DB_FILENAME)


def open_monitor(ctx: click.Context) -> Monitor:
    """The monitor on the group's ``--db`` (or the default SQLite file); the caller closes it."""
    db: str | None = ctx.obj
    return Monitor.open(db or default_db_url())


def _site(monitor: Monitor, name: str) -> int:
    try:
        return monitor.site(int(name) if name.isdigit() else name).id
    except KeyError:
        raise ConfigError(f"no site named {name!r} (see: linkdoctor sites list)") from None


# The service's database, for every command group that works on it (sites, users).
DB_OPTION = click.option(
    "--db", envvar="LINKDOCTOR_DB", help="Database URL (sqlite:///… or postgresql+psycopg://…)."
)


@click.group()
@DB_OPTION
@click.pass_context
def sites(ctx: click.Context, db: str | None) -> None:
    """Manage the sites that `linkdoctor serve` monitors."""
    ctx.obj = db


@sites.command("add")
@click.argument("url")
@click.option("--name", help="Short name [default: the URL's host].")
@click.option("--every", "every_text", help="Scan interval: 30m, 6h, 1d, 1w [default: 1d].")
@click.option("--cron", help="Cron expression instead of --every (UTC), like '0 3 * * *'.")
@click.option("--manual", is_flag=True, help="Scan only on request.")
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=DEFAULT_BUDGET,
    show_default=True,
    help="Link checks per 24 hours.",
)
@click.option(
    "--notify", multiple=True, help="apprise URL to alert (repeatable): mailto://…, json://…, slack://…"
)
@click.option(
    "--alert-after",
    type=click.IntRange(min=1),
    default=DEFAULT_ALERT_AFTER,
    show_default=True,
    help="Consecutive broken scans before a link alerts.",
)
@site_options
@click.pass_context
def add(
    ctx: click.Context,
    url: str,
    name: str | None,
    every_text: str | None,
    cron: str | None,
    manual: bool,
    budget: int,
    notify: tuple[str, ...],
    alert_after: int,
    scope: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    cert_path: str | None,
    key_path: str | None,
    pkcs12_path: str | None,
    password_env: str | None,
    cacert_path: str | None,
    cert_warning_days: int | None,
) -> None:
    """Add a site to monitor."""
    every = None if manual or cron else parse_every(every_text or "1d")
    host = re.sub(r"^https?://", "", url).split("/")[0]
    options = SiteOptions(
        include=include,
        exclude=exclude,
        cert_path=cert_path,
        key_path=key_path,
        pkcs12_path=pkcs12_path,
        password_env=password_env,
        cacert_path=cacert_path,
        cert_warning_days=cert_warning_days,
    )
    spec = SiteSpec(
        name=name or host,
        url=url,
        every=every,
        cron=cron,
        budget=budget,
        scope=scope,
        options=options,
        notify=notify,
        alert_after=alert_after,
    )
    monitor = open_monitor(ctx)
    try:
        site = monitor.add_site(spec)
    finally:
        monitor.close()
    when = f"next scan {site.next_run_at:%Y-%m-%d %H:%M} UTC" if site.next_run_at else "scanned on request"
    click.echo(f"added {site.name} (#{site.id}): {site.url}, {when}")


@sites.command("list")
@click.pass_context
def list_sites(ctx: click.Context) -> None:
    """List the sites with their status and broken-link count."""
    monitor = open_monitor(ctx)
    try:
        rows = monitor.sites()
    finally:
        monitor.close()
    if not rows:
        click.echo("no sites yet: linkdoctor sites add URL")
    for row in rows:
        last = row.last_scan
        scanned = f"last scan #{last.id} {last.state.value}" if last else "never scanned"
        click.echo(f"{row.site.name}\t{row.status.label}\t{row.broken} broken\t{scanned}\t{row.site.url}")


@sites.command("scan")
@click.argument("name")
@click.option("--queue", "queue_only", is_flag=True, help="Only queue it for the running `serve`.")
@click.pass_context
def scan(ctx: click.Context, name: str, queue_only: bool) -> None:
    """Scan a site now (within its daily budget) and print the counts.

    A scan of the site that another process is running is not started twice, and a spent budget is not
    overdrawn: either says so (with when the budget resets) and exits 1."""
    monitor = open_monitor(ctx)
    try:
        site_id = _site(monitor, name)
        if queue_only:
            queued = monitor.request_scan(site_id)  # the site's unfinished scan, if it has one
            click.echo(f"queued scan #{queued.id}" + _joined(queued))
            return
        done = monitor.scan_now(site_id, owner=f"cli@{socket.gethostname()}:{os.getpid()}")
        budget = monitor.budget(site_id)
    except ScanRefused as exc:
        click.echo(f"linkdoctor: {exc}", err=True)
        ctx.exit(1)
    finally:
        monitor.close()
    c = done.counts
    click.echo(
        f"scan #{done.id} {done.state.value}: {c.total} links, {c.ok} ok, {c.redirected} redirected, "
        f"{c.broken} broken, {c.unverified} unverified, {c.excluded} excluded; {done.budget_used} checks"
    )
    if done.error:
        click.echo(done.error, err=True)
    if done.state is ScanState.PARTIAL and budget.spent and budget.frees_at is not None:
        click.echo(
            f"the daily budget ran out ({budget.used} of {budget.daily} link checks in the last 24 hours); "
            f"it resets at {budget.frees_at:%Y-%m-%d %H:%M} UTC, and `linkdoctor serve` continues the scan then"
        )


def _joined(scan: Scan) -> str:
    if scan.state is ScanState.QUEUED and scan.runs == 0:
        return ""
    return f" (the site's {scan.state.value} scan: no second one is started)"


@sites.command("history")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.pass_context
def history(ctx: click.Context, name: str, limit: int) -> None:
    """The site's latest scans, newest first."""
    monitor = open_monitor(ctx)
    try:
        rows = monitor.scans(_site(monitor, name), limit=limit)
    finally:
        monitor.close()
    for s in rows:
        when = f"{s.started_at:%Y-%m-%d %H:%M}" if s.started_at else "not started"
        click.echo(f"#{s.id}\t{when}\t{s.state.value}\t{s.counts.broken} broken of {s.counts.total}")


@sites.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a site with its scans and history."""
    monitor = open_monitor(ctx)
    try:
        monitor.remove_site(_site(monitor, name))
    finally:
        monitor.close()
    click.echo(f"removed {name}")
