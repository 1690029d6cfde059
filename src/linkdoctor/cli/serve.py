"""``linkdoctor serve``: the dashboard, the API and the scheduler in one process (uvicorn, run programmatically).

With no options it listens on http://127.0.0.1:8484 and keeps a SQLite database in the user data directory;
``--db postgresql+psycopg://…`` points it at PostgreSQL. On first run it creates the ``admin`` account and
prints its password once (or takes it from ``LINKDOCTOR_ADMIN_PASSWORD``).

The listening socket is bound before anything else happens, so a busy port fails with one line before the
URL or the admin password is printed.
"""

from __future__ import annotations

import logging.config
import math
import os
import socket
from pathlib import Path

import click

from linkdoctor.engine.http.ssrf import parse_networks
from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import DEFAULT_TURN_SECONDS
from linkdoctor.web.settings import (
    DB_FILENAME,
    DEFAULT_HOST,
    DEFAULT_MAX_MEMBER_BUDGET,
    DEFAULT_MAX_SITES_PER_MEMBER,
    DEFAULT_PORT,
    DEFAULT_TICK,
    ServeSettings,
    default_data_dir,
    sqlite_url,
)


def shown_url(db_url: str) -> str:
    """The database URL without its password, for the start-up line.

    >>> shown_url("postgresql+psycopg://ld:secret@db.example/ld")
    'postgresql+psycopg://ld:***@db.example/ld'
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError as exc:
        raise ConfigError(f"--db is not a database URL: {exc}") from None


# A turn shorter than a slow request or two would end before the scan gets anywhere.
MIN_TURN_SECONDS = 10.0


def _turn(value: float) -> float:
    if value == 0 or (math.isfinite(value) and value >= MIN_TURN_SECONDS):
        return value
    raise click.BadParameter(
        f"{value:g} is not 0 (no limit) or a number of seconds from {MIN_TURN_SECONDS:g}"
    )


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--db",
    "db_url",
    envvar="LINKDOCTOR_DB",
    metavar="URL",
    help="SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db (or $LINKDOCTOR_DB, which keeps "
    "a password out of the process list). "
    "[default: SQLite in $XDG_DATA_HOME/linkdoctor or ~/.local/share/linkdoctor]",
)
@click.option(
    "--allow-private",
    multiple=True,
    metavar="CIDR",
    help="Let scans reach this private, loopback or link-local network (repeatable), e.g. 10.0.0.0/8. "
    "Without it the SSRF guard refuses such addresses.",
)
@click.option(
    "--allow-env",
    multiple=True,
    metavar="NAME",
    help="Let sites name this environment variable in headers_env or password_env (repeatable). Names "
    "starting with LINKDOCTOR_SITE_ are always allowed; no other variable of the server ever is.",
)
@click.option(
    "--cert-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="The folder whose files sites may name as client certificate, key or CA bundle. Without it, "
    "sites may name no file of this server.",
)
@click.option(
    "--tick",
    type=click.FloatRange(0),
    default=DEFAULT_TICK,
    show_default=True,
    help="Seconds between scheduler runs (0: never run scans from this process).",
)
@click.option(
    "--scan-turn",
    type=click.FloatRange(0),
    default=DEFAULT_TURN_SECONDS,
    show_default=True,
    metavar="SECONDS",
    callback=lambda _context, _option, value: _turn(value),
    help="How long one run of a scan starts checks; then it finishes those it began, saves its progress and "
    "gives way to the other sites' due scans, and a later tick resumes it "
    f"(0: no limit; else at least {MIN_TURN_SECONDS:g}). A slow site cannot hold up the others.",
)
@click.option(
    "--max-sites-per-member",
    type=click.IntRange(0),
    default=DEFAULT_MAX_SITES_PER_MEMBER,
    show_default=True,
    metavar="N",
    help="How many sites a member account may own at once (0: any number; admins are not limited). Each "
    "site is scanned on its schedule within its daily budget: the cap bounds what one account can make this "
    "server check.",
)
@click.option(
    "--max-member-budget",
    type=click.IntRange(0),
    default=DEFAULT_MAX_MEMBER_BUDGET,
    show_default=True,
    metavar="CHECKS",
    help="The largest daily budget (link checks per 24 hours) a member may give a site (0: any; an admin "
    "may give more, and a member keeps what an admin set).",
)
@click.option(
    "--public-status", is_flag=True, help="Let visitors who are not logged in read the status pages."
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Mark the session cookie Secure (automatic when --base-url is https).",
)
@click.option("--base-url", metavar="URL", help="Public address of the dashboard, for links in alerts.")
@click.option(
    "--broker",
    envvar="LINKDOCTOR_BROKER",
    metavar="URL",
    help="Hand each due scan to linkdoctor workers through this Redis broker, so they run side by side "
    "(use a --db they share; or $LINKDOCTOR_BROKER). Needs the extra: pip install 'linkdoctor[distributed]'.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="What serve logs on stderr, as JSON Lines: at info, HTTP requests, scans and alerts.",
)
def serve(
    host: str,
    port: int,
    db_url: str | None,
    allow_private: tuple[str, ...],
    allow_env: tuple[str, ...],
    cert_dir: Path | None,
    tick: float,
    scan_turn: float,
    max_sites_per_member: int,
    max_member_budget: int,
    public_status: bool,
    secure_cookies: bool,
    base_url: str | None,
    broker: str | None,
    log_level: str,
) -> None:
    """Run the monitoring dashboard, its REST API (/api/v1, docs at /docs) and the scan scheduler."""
    if broker:
        from linkdoctor.cli.extras import require_distributed

        require_distributed("serve --broker")
        from linkdoctor.distributed.settings import check_broker_url

        check_broker_url(broker)  # now, as one line, not as a traceback when the scheduler starts

    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from linkdoctor.web import logs
    from linkdoctor.web.app import create_app

    if db_url is None:
        data_dir = default_data_dir(os.environ, home=Path.home())
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create the data directory {data_dir}: {exc}") from exc
        db_url = sqlite_url(data_dir / DB_FILENAME)
    settings = ServeSettings(
        db_url=db_url,
        host=host,
        port=port,
        allow_private=parse_networks(allow_private),
        tick=tick,
        scan_turn=scan_turn or None,
        max_sites_per_member=max_sites_per_member,
        max_member_budget=max_member_budget,
        secure_cookies=secure_cookies,
        public_status=public_status,
        base_url=base_url,
        broker_url=broker,
        allow_env=allow_env,
        cert_dir=None if cert_dir is None else cert_dir.absolute(),
    )
    shown = shown_url(db_url)
    listener = listen(host, port)
    logging.config.dictConfig(logs.log_config(log_level))  # JSON Lines on stderr, from the start
    try:
        try:
            app = create_app(settings, announce=click.echo)
        except (SQLAlchemyError, OSError) as exc:  # a database that cannot be opened or migrated: say which
            raise ConfigError(f"cannot open the database {shown}: {exc}") from exc
        click.echo(f"linkdoctor: dashboard on {settings.public_url}/ (database {shown})")
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            log_config=logs.log_config(log_level),
            access_log=True,
        )
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()


def listen(host: str, port: int) -> socket.socket:
    """The bound listening socket of ``host:port`` (uvicorn serves on it), or a :class:`ConfigError` saying
    why not (such as a port in use)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock
