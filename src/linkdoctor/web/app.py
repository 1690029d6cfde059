"""The app factory of ``linkdoctor serve``: dashboard pages, the ``/api/v1`` API (OpenAPI at ``/docs``), static
files, sessions and security headers, and a lifespan that runs the scheduler. Building the app opens the
database (migrating it) and creates the admin account on first run.

``/docs`` is Swagger UI served from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which reads the
OpenAPI 3.1 document FastAPI writes), so it works with no internet, under a CSP that lets it reach nothing
but this server.

>>> # app = create_app(ServeSettings(db_url="sqlite:////tmp/ld.sqlite"))
>>> # uvicorn.run(app, host="127.0.0.1", port=8484)
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import swagger_ui_bundle  # type: ignore[import-untyped]  # ships no type information
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from linkdoctor._version import __version__
from linkdoctor.errors import ConfigError
from linkdoctor.monitor.certpaths import CertFolder
from linkdoctor.monitor.scan import CheckpointPolicy
from linkdoctor.monitor.service import JobRunner, Monitor
from linkdoctor.monitor.sites import SiteLimitReached
from linkdoctor.monitor.spawned import LocalRunnerFactory, RunnerFactory, SpawnedScans
from linkdoctor.web import api, charts, cluster, csrf, pages
from linkdoctor.web.auth import LoginRequired
from linkdoctor.web.context import Runtime, Ticker
from linkdoctor.web.limits import MAX_BODY, BodyLimit
from linkdoctor.web.schemas import format_every
from linkdoctor.web.settings import ServeSettings

if TYPE_CHECKING:
    from linkdoctor.distributed.settings import BrokerSettings

SESSION_COOKIE = "linkdoctor_session"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# Swagger UI's page starts it with an inline script; its CSP allows that and still nothing off this server.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
DOCS_PATH = "/docs"
DOCS_ASSETS = "/docs-assets"
CACHEABLE = ("/static/", f"{DOCS_ASSETS}/")  # the packaged assets, the same for everyone


def create_app(
    settings: ServeSettings,
    *,
    service: Monitor | None = None,
    announce: Callable[[str], None] = print,
) -> FastAPI:
    """Build the app. Without ``service`` it opens (and migrates) the database of ``settings.db_url`` and closes
    it on shutdown; a given service stays the caller's. On first run it creates the admin account, and
    ``announce`` shows its generated password once.
    """
    owns_service = service is None
    # Scans run in spawned processes: nothing a scan does can hold this process's GIL or event loop.
    scans = SpawnedScans(_runner_factory(settings), allow_env=settings.env_allowlist)
    monitor = service or Monitor.open(
        settings.db_url,
        guard=settings.guard,
        scan_guard=settings.guard,
        dashboard_url=settings.public_url,
        job_runner=scans,
        cert_folder=CertFolder(settings.cert_dir),
        checkpoint_policy=CheckpointPolicy(turn_seconds=settings.scan_turn),
    )
    secret = settings.secret_key.reveal() if settings.secret_key else monitor.secret("session")
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    runtime = Runtime(settings=settings, templates=_templates(), monitor=monitor, owner=owner)

    password = monitor.ensure_admin(password_env=settings.admin_password_env)
    if password is not None:
        announce(
            f"linkdoctor: created the admin account; log in as 'admin' with password {password} "
            f"(shown once; set {settings.admin_password_env} to choose it)"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tick, close_tick = _scheduler_tick(settings, monitor, owner)
        if settings.tick > 0:
            runtime.ticker = Ticker(tick, settings.tick)
            runtime.ticker.start()
        try:
            yield
        finally:
            scans.close()  # running scans stop now, and resume from their checkpoint on a later run
            if runtime.ticker is not None:
                await runtime.ticker.stop()
                runtime.ticker = None
            close_tick()
            if owns_service:
                monitor.close()

    app = FastAPI(
        title="linkdoctor",
        version=__version__,
        summary="Scheduled link monitoring: sites, scans, results, diffs and history.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(timedelta(days=settings.session_days).total_seconds()),
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY)  # before any route reads a body, or anyone is known
    app.middleware("http")(_security_headers)
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(ConfigError, _config_error)
    app.add_exception_handler(
        SiteLimitReached, _site_limit
    )  # a ConfigError, but the account's, not the spec's
    app.mount("/static", StaticFiles(packages=[("linkdoctor.web", "static")]), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path)), name="docs-assets")
    app.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)(_docs_page)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(pages.router)
    app.include_router(cluster.router)
    return app


def _scheduler_tick(
    settings: ServeSettings, monitor: Monitor, owner: str
) -> tuple[Callable[[], object], Callable[[], None]]:
    """The scheduler's tick and what closes it: without ``--broker`` it runs the due scans here, one after
    another; with it, it hands each due scan to the workers as a job of its own, so they run side by side
    (:mod:`linkdoctor.distributed.fleet`, imported only then)."""
    if not settings.broker_url or settings.tick <= 0:
        return (lambda: monitor.run_due_scans(owner=owner)), (lambda: None)
    from linkdoctor.distributed.app import create_celery
    from linkdoctor.distributed.fleet import FleetScan, open_dispatcher
    from linkdoctor.distributed.settings import BrokerSettings

    broker = BrokerSettings(settings.broker_url, db_url=settings.db_url)
    rules = FleetScan(
        0,
        allow_private=tuple(str(n) for n in settings.allow_private),
        allow_env=tuple(sorted(settings.allow_env)),
        cert_dir=None if settings.cert_dir is None else str(settings.cert_dir),
        dashboard_url=settings.public_url,
        turn_seconds=settings.scan_turn,
    )
    dispatcher = open_dispatcher(broker, rules, create_celery(broker))
    return (lambda: dispatcher.tick(monitor)), dispatcher.close


def _runner_factory(settings: ServeSettings) -> RunnerFactory:
    """What runs a scan inside its spawned process: the engine with the SSRF guard, or with ``--broker`` the
    engine with its fetches on Celery workers (imported only then)."""
    if not settings.broker_url:
        return LocalRunnerFactory(settings.guard, settings.env_allowlist)
    from linkdoctor.distributed.settings import BrokerSettings

    broker = BrokerSettings(settings.broker_url, db_url=settings.db_url)
    return functools.partial(distributed_runner, broker, tuple(str(n) for n in settings.allow_private))


def distributed_runner(
    broker: BrokerSettings, allow_private: tuple[str, ...], env: Mapping[str, str]
) -> JobRunner:
    """A scan's runner with its fetches on the workers (built in the scan's process, from its environment)."""
    from linkdoctor.distributed.run import scan_job_runner

    return scan_job_runner(broker, allow_private=allow_private, env=env)


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("linkdoctor.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["every"] = lambda value: "on request" if value is None else f"every {format_every(value)}"
    env.filters["when"] = _when
    env.globals["sparkline"] = charts.sparkline
    env.globals["csrf_field"] = csrf.FORM_FIELD
    env.globals["csrf_header"] = csrf.HEADER
    env.globals["version"] = __version__
    return Jinja2Templates(env=env)


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _docs_page() -> HTMLResponse:
    """Swagger UI from the package's own assets (no CDN); "Authorize" takes an API token."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="linkdoctor API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
    )


async def _security_headers(request: Request, call_next: Callable[[Request], ASGIApp]) -> Response:
    response: Response = await call_next(request)  # type: ignore[misc]
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith(CACHEABLE):
        # Pages and API answers can hold secrets (a new token, notification URLs): no cache keeps them.
        response.headers.setdefault("Cache-Control", "no-store")
    docs = request.url.path == DOCS_PATH
    policy = DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


async def _login_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": exc.location})
    return RedirectResponse(exc.location, status_code=303)


async def _config_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _site_limit(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=403)
