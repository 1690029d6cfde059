"""The dashboard's pages: login, the sites overview (or, for anonymous visitors with ``--public-status``,
the public status view), site and scan detail (problems grouped as every report groups them, one per target
document and cause, with collapsible lists of the pages they were found on), ``explain``, and settings (add and edit sites, API tokens,
users). What each role may do is :mod:`linkdoctor.web.roles`'s; the pages show only the actions the
user's role allows, and the handlers refuse the others with 403. Server-rendered Jinja2; HTMX runs "scan now", watches a running scan, and filters
the results table, and every form also works without JavaScript.

Reading handlers are plain ``def`` (run in the thread pool, like the monitor's database calls); form
handlers are ``async`` to read the form and hand the service calls to the thread pool.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import timedelta
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from linkdoctor.classify.codes import CODES
from linkdoctor.classify.statuses import STATUSES, explain_status
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category
from linkdoctor.monitor import grouping, users
from linkdoctor.monitor.model import Role, ScanState, Site, SiteOptions, SiteSpec, StoredResult
from linkdoctor.monitor.service import Monitor
from linkdoctor.web import auth, charts, cluster, csrf, roles
from linkdoctor.web.auth import Principal, page_reader, page_user, page_writer
from linkdoctor.web.context import monitor, runtime
from linkdoctor.web.public import public_sites
from linkdoctor.web.schemas import SiteIn, format_every

T = TypeVar("T")
MAX_ID: Final = 2**31 - 1
PAGE_SIZE: Final = 500
ACTIVE: Final = (ScanState.QUEUED, ScanState.RUNNING)
TOKEN_DAYS: Final = (7, 30, 90, 365)  # the expiries the token form offers (besides "never")
PROBLEMS_PAGE: Final = 100  # problems per page of a scan, and per list of a diff
FOUND_ON_SHOWN: Final = 100  # places listed under one problem (the API lists them all)
ALERTS_SHOWN: Final = 5  # the newest alerts on a site's page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal | None, Depends(page_reader)]
User = Annotated[Principal, Depends(page_user)]
Writer = Annotated[Principal, Depends(page_writer)]
Service = Annotated[Monitor, Depends(monitor)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def render(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with what every page needs: the user, the CSRF token, whether pages are public."""
    rt = runtime(request)
    response: HTMLResponse = rt.templates.TemplateResponse(
        request,
        template,
        {
            "user": principal,
            "roles": roles,
            "csrf": csrf.session_token(request.session),
            "public": rt.settings.public_status,
            **context,
        },
        status_code=status_code,
    )
    return response


def found(call: Callable[[], T]) -> T:
    try:
        return call()
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found") from None


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


# --- login ---------------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    if auth.session_principal(request) is not None:
        return _redirect(auth.safe_next(next))
    return render(request, "login.html", None, next=auth.safe_next(next), error="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, service: Service) -> Response:
    await auth.check_csrf(request)
    form = await request.form()
    username, password = _field(form, "username"), _field(form, "password")
    target = auth.safe_next(_field(form, "next"))
    logins, address = runtime(request).logins, request.client.host if request.client else ""
    wait = logins.retry_after(address, username)
    if wait > 0:  # the password is not even checked
        minutes = max(1, math.ceil(wait / 60))
        response = render(
            request,
            "login.html",
            None,
            status_code=429,
            next=target,
            error=f"Too many failed logins. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    plausible = all(0 < len(v) <= 200 and v.isprintable() for v in (username, password))
    user = await run_in_threadpool(service.authenticate, username, password) if plausible else None
    if user is None:
        logins.failed(address, username)
        return render(
            request, "login.html", None, status_code=401, next=target, error="Wrong user name or password."
        )
    logins.succeeded(address, username)
    await run_in_threadpool(auth.log_in, request, user)
    return _redirect(target)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session on the server (every copy of its cookie stops working) and forget the cookie."""
    await auth.check_csrf(request)
    await run_in_threadpool(auth.log_out, request)
    return _redirect("/login")


@router.get("/healthz", response_class=PlainTextResponse)
def healthz() -> str:
    return "ok"


# --- sites ---------------------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def overview(request: Request, principal: Reader, service: Service) -> Response:
    if principal is None:  # public status pages: names, states and counts only
        return render(request, "status.html", None, sites=public_sites(service.sites()))
    health = cluster.cluster_health(runtime(request).settings)
    return render(request, "overview.html", principal, sites=service.sites(), cluster=health)


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def site_detail(request: Request, site_id: Id, principal: User, service: Service) -> Response:
    site = found(lambda: service.site(site_id))
    scans = service.scans(site_id, limit=100)
    latest = next((s for s in scans if s.state is ScanState.DONE), None)
    diff = service.diff(latest.id) if latest is not None else None
    return render(
        request,
        "site.html",
        principal,
        site=site,
        scans=scans,
        active=any(s.state in ACTIVE for s in scans),
        chart=charts.history_chart(scans),
        history=service.history(site_id, days=90),
        latest=latest,
        diff=diff,
        by_target=grouping.by_target,
        found_on_shown=FOUND_ON_SHOWN,
        diff_shown=PROBLEMS_PAGE,
        alerts=service.alerts(site_id, limit=ALERTS_SHOWN),
    )


@router.get("/sites/{site_id}/scans", response_class=HTMLResponse)
def scans_panel(
    request: Request, site_id: Id, principal: User, service: Service, watching: bool = False
) -> Response:
    """The scans table of a site page; HTMX polls it while a scan is queued or running, and reloads the page
    (chart and diff included) when the scan it watched has finished."""
    scans = found(lambda: service.scans(site_id, limit=100))
    active = any(s.state in ACTIVE for s in scans)
    if watching and not active:
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return render(request, "_scans.html", principal, site_id=site_id, scans=scans, active=active)


@router.post("/sites/{site_id}/scan")
async def scan_now(request: Request, site_id: Id, principal: Writer, service: Service) -> Response:
    roles.check_scan(principal.role)
    await run_in_threadpool(found, lambda: service.request_scan(site_id))
    runtime(request).wake_scheduler()
    if request.headers.get("hx-request"):
        scans = await run_in_threadpool(service.scans, site_id, limit=100)
        return render(request, "_scans.html", principal, site_id=site_id, scans=scans, active=True)
    return _redirect(f"/sites/{site_id}")


@router.get("/sites/{site_id}/edit", response_class=HTMLResponse)
def edit_site_form(request: Request, site_id: Id, principal: User, service: Service) -> Response:
    site = found(lambda: service.site(site_id))
    if not roles.may_change_site(principal.role, principal.user_id, site):
        raise roles.forbidden(f"a {principal.role.value} can change only the sites it added")
    return render(request, "site_form.html", principal, site=site, form=form_values(site), errors=[])


@router.post("/sites/{site_id}/edit", response_class=HTMLResponse)
async def edit_site(request: Request, site_id: Id, principal: Writer, service: Service) -> Response:
    site = await run_in_threadpool(found, lambda: service.site(site_id))
    values = site_form(await request.form(), principal, site)
    try:
        spec = keep_unshown_options(site_in(values).to_spec(), site)
        settings = runtime(request).settings
        roles.check_site_write(
            principal.role, principal.user_id, spec, site, max_budget=settings.max_member_budget
        )
        settings.env_allowlist.check(spec)
        await run_in_threadpool(service.update_site, site_id, spec)
    except (ValidationError, ConfigError) as exc:
        return render(
            request, "site_form.html", principal, status_code=422, site=site, form=values, errors=_errors(exc)
        )
    return _redirect(f"/sites/{site_id}")


@router.post("/sites/{site_id}/delete")
async def delete_site(request: Request, site_id: Id, principal: Writer, service: Service) -> Response:
    site = await run_in_threadpool(found, lambda: service.site(site_id))
    roles.check_site_remove(principal.role, principal.user_id, site)
    await run_in_threadpool(found, lambda: service.remove_site(site_id))
    return _redirect("/settings")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, principal: User, service: Service) -> Response:
    return settings_view(request, principal, service)


def settings_view(
    request: Request,
    principal: Principal,
    service: Monitor,
    *,
    status_code: int = 200,
    form: Mapping[str, str | bool] | None = None,
    errors: list[str] | None = None,
    token: str | None = None,
    token_errors: list[str] | None = None,
    user_errors: list[str] | None = None,
    password_notice: str = "",
    password_errors: list[str] | None = None,
) -> HTMLResponse:
    """The settings page (call from a worker thread): sites, the add-site form, API tokens (the user's;
    an admin's: everyone's), the password form, and for an admin the accounts."""
    admin = roles.may_manage_users(principal.role)
    accounts = users.list_users(service) if admin else []
    return render(
        request,
        "settings.html",
        principal,
        status_code=status_code,
        sites=service.sites(),
        form=EMPTY_FORM if form is None else form,
        errors=errors or [],
        token=token,
        token_errors=token_errors or [],
        tokens=users.list_tokens(service, None if admin else principal.user_id),
        token_days=TOKEN_DAYS,
        now=service.now(),
        password_notice=password_notice,
        password_errors=password_errors or [],
        accounts=accounts,
        user_errors=user_errors or [],
        role_names=[r.value for r in Role],
    )


@router.post("/settings/sites", response_class=HTMLResponse)
async def add_site(request: Request, principal: Writer, service: Service) -> Response:
    values = site_form(await request.form(), principal, None)
    try:
        spec = site_in(values).to_spec()
        settings = runtime(request).settings
        roles.check_site_write(
            principal.role, principal.user_id, spec, None, max_budget=settings.max_member_budget
        )
        settings.env_allowlist.check(spec)
        limit = roles.site_limit(principal.role, settings.max_sites_per_member)
        site = await run_in_threadpool(
            lambda: service.add_site(spec, owner_id=principal.user_id, owner_limit=limit)
        )
    except (ValidationError, ConfigError) as exc:
        errors = _errors(exc)
        return await run_in_threadpool(
            lambda: settings_view(request, principal, service, status_code=422, form=values, errors=errors)
        )
    return _redirect(f"/sites/{site.id}")


@router.post("/settings/users", response_class=HTMLResponse)
async def add_user(request: Request, principal: Writer, service: Service) -> Response:
    """Add an account (admins only)."""
    roles.check_admin(principal.role)
    form = await request.form()
    role = _field(form, "role")
    try:
        if role not in {r.value for r in Role}:
            raise ConfigError(f"not a role: {role!r}")
        await run_in_threadpool(
            lambda: service.create_user(
                _field(form, "username").strip(), _field(form, "password"), role=Role(role)
            )
        )
    except ConfigError as exc:
        problem = [str(exc)]
        return await run_in_threadpool(
            lambda: settings_view(request, principal, service, status_code=422, user_errors=problem)
        )
    return _redirect("/settings#users")


@router.post("/settings/users/{user_id}/delete", response_class=HTMLResponse)
async def remove_user(request: Request, user_id: Id, principal: Writer, service: Service) -> Response:
    """Remove an account and its tokens (admins only; the last admin stays)."""
    roles.check_admin(principal.role)
    accounts = await run_in_threadpool(users.list_users, service)
    user = next((u for u in accounts if u.id == user_id), None)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    try:
        await run_in_threadpool(users.remove_user, service, user.username)
    except ConfigError as exc:
        problem = [str(exc)]
        return await run_in_threadpool(
            lambda: settings_view(request, principal, service, status_code=422, user_errors=problem)
        )
    return _redirect("/settings#users")


@router.post("/settings/tokens", response_class=HTMLResponse)
async def create_token(request: Request, principal: Writer, service: Service) -> Response:
    """A new API token, shown once on the page that answers; ``expires_days`` (one of :data:`TOKEN_DAYS`,
    empty: never) sets its expiry."""
    form = await request.form()
    name = "".join(c for c in _field(form, "token_name") if c.isprintable()).strip()[:100] or "script"
    days = _field(form, "expires_days")
    expires = service.now() + timedelta(days=int(days)) if days in {str(d) for d in TOKEN_DAYS} else None
    try:
        token = await run_in_threadpool(
            lambda: users.create_token(service, principal.user_id, name, expires_at=expires)
        )
    except ConfigError as exc:
        problem = [str(exc)]
        return await run_in_threadpool(
            lambda: settings_view(request, principal, service, status_code=422, token_errors=problem)
        )
    return await run_in_threadpool(lambda: settings_view(request, principal, service, token=token))


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: Id, principal: Writer, service: Service) -> Response:
    """Revoke a token: a member or viewer its own, an admin any (another's is 404, as if absent)."""
    owner = None if roles.may_manage_users(principal.role) else principal.user_id
    if not await run_in_threadpool(lambda: users.revoke_token(service, token_id, user_id=owner)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return _redirect("/settings#tokens")


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(request: Request, principal: Writer, service: Service) -> Response:
    """The user's own password change: the other sessions end, the API tokens are revoked unless
    ``keep_tokens`` is ticked, and this session stays logged in."""
    form = await request.form()
    current, new = _field(form, "current_password"), _field(form, "new_password")
    throttle = runtime(request).logins
    address = request.client.host if request.client else ""
    problem = ""
    if throttle.retry_after(address, principal.username) > 0:
        problem = "Too many wrong passwords. Try again later."
    elif new != _field(form, "new_password_again"):
        problem = "The two new passwords differ."
    elif not (0 < len(current) <= 200 and len(new) <= 200):
        problem = "The current password is wrong."
    else:
        try:
            changed = await run_in_threadpool(
                lambda: users.change_password(
                    service,
                    principal.user_id,
                    current,
                    new,
                    revoke_tokens=_field(form, "keep_tokens") != "on",
                    keep_session=auth.session_key(request),
                )
            )
        except ConfigError as exc:
            problem = str(exc)
        else:
            if changed is None:
                throttle.failed(address, principal.username)
                problem = "The current password is wrong."
            else:
                throttle.succeeded(address, principal.username)
    if problem:
        errors = [problem]
        return await run_in_threadpool(
            lambda: settings_view(request, principal, service, status_code=422, password_errors=errors)
        )
    notice = "Password changed. Your other sessions have ended" + (
        "." if _field(form, "keep_tokens") == "on" else ", and your API tokens were revoked."
    )
    return await run_in_threadpool(lambda: settings_view(request, principal, service, password_notice=notice))


# --- scans ---------------------------------------------------------------------------------------------
@router.get("/scans/{scan_id}", response_class=HTMLResponse)
def scan_detail(
    request: Request,
    scan_id: Id,
    principal: User,
    service: Service,
    view: Annotated[str, Query(max_length=20)] = "problems",
    category: Annotated[str, Query(max_length=20)] = "broken",
    code: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """A scan's problems (one per target document and cause, as the reports group them), or with
    ``view=links`` its links, broken ones first by default; both filterable by diagnosis code, the links
    by category too."""
    scan = found(lambda: service.scan(scan_id))
    site = found(lambda: service.site(scan.site_id))
    chosen = category if category in {c.value for c in Category} else ""
    chosen_code = code if code in CODES else ""
    grouped = service.problems(scan_id)
    if view != "links":
        listed = [p for p in grouped.problems if not chosen_code or p.code == chosen_code]
        page_size = PROBLEMS_PAGE
        page = listed[offset : offset + page_size]
        results: list[StoredResult] = []
        more = len(listed) > offset + page_size
    else:
        results = service.results(
            scan_id, category=chosen or None, code=chosen_code or None, limit=PAGE_SIZE + 1, offset=offset
        )
        page_size, page, more = PAGE_SIZE, [], len(results) > PAGE_SIZE
    return render(
        request,
        "scan.html",
        principal,
        scan=scan,
        site=site,
        view="links" if view == "links" else "problems",
        grouped=grouped,
        groups=grouping.by_target(page),
        results=results[:PAGE_SIZE],
        more=more,
        offset=offset,
        page_size=page_size,
        category=chosen,
        code=chosen_code,
        categories=[c.value for c in Category],
        codes=sorted(CODES),
        found_on_shown=FOUND_ON_SHOWN,
    )


# --- explain -------------------------------------------------------------------------------------------
@router.get("/explain", response_class=HTMLResponse)
def explain_index(request: Request, principal: Reader) -> Response:
    return render(
        request, "explain_index.html", principal, statuses=list(STATUSES.values()), codes=list(CODES.values())
    )


@router.get("/explain/{topic}", response_class=HTMLResponse)
def explain_topic(
    request: Request, topic: Annotated[str, Path(max_length=100)], principal: Reader
) -> Response:
    """What a status (``496``) or a diagnosis code (``tls.client-cert-required``) means, and the fix."""
    if re.fullmatch(r"\d{3}", topic):
        return render(
            request, "explain.html", principal, status_info=explain_status(int(topic)), code_info=None
        )
    if topic in CODES:
        return render(request, "explain.html", principal, status_info=None, code_info=CODES[topic])
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"nothing to explain for {topic!r}")


# --- the site form -------------------------------------------------------------------------------------
FORM_KEYS: Final = (
    "name", "url", "every", "cron", "budget", "scope", "notify", "alert_after", "max_pages", "depth",
    "include", "exclude", "accept", "headers_env", "cert_path", "key_path", "pkcs12_path", "password_env",
    "cert_hosts",
)  # fmt: skip
FORM_FLAGS: Final = ("check_fragments", "respect_robots")
# The form's fields of roles.ADMIN_ONLY_OPTIONS: shown to admins only, kept as they are for everyone else.
ADMIN_FORM_KEYS: Final = ("headers_env", "cert_path", "key_path", "pkcs12_path", "password_env", "cert_hosts")
EMPTY_FORM: Final[Mapping[str, str | bool]] = {
    **dict.fromkeys(FORM_KEYS, ""),
    "every": "1d",
    "budget": "1500",
    "alert_after": "2",
    "check_fragments": True,
    "respect_robots": True,
}


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _lines(text: str | bool) -> list[str]:
    return [line.strip() for line in str(text).splitlines() if line.strip()]


# The options the form has fields for; the others (such as cacert_path) keep their stored values on edit.
FORM_OPTIONS: Final = frozenset(
    ("max_pages", "depth", "include", "exclude", "accept", *ADMIN_FORM_KEYS, *FORM_FLAGS)
)


def keep_unshown_options(spec: SiteSpec, site: Site) -> SiteSpec:
    """``spec`` from the edit form, with the options the form does not show taken from the stored site."""
    kept = {
        f.name: getattr(site.spec.options, f.name) for f in fields(SiteOptions) if f.name not in FORM_OPTIONS
    }
    return replace(spec, options=replace(spec.options, **kept))


def site_form(form: FormData, principal: Principal, site: Site | None) -> dict[str, str | bool]:
    """The site form's values as posted. A non-admin's form has no header and auth fields: those keep the
    site's values (none for a new site), and a post that sends them anyway is checked against them."""
    values = {key: _field(form, key) for key in FORM_KEYS} | {key: key in form for key in FORM_FLAGS}
    if not principal.is_admin:
        kept = EMPTY_FORM if site is None else form_values(site)
        values |= {key: kept[key] for key in ADMIN_FORM_KEYS if key not in form}
    return values


def site_in(values: Mapping[str, str | bool]) -> SiteIn:
    """Turn the site form's fields into a validated :class:`SiteIn` (raises pydantic's ValidationError)."""

    def text(key: str) -> str:
        return str(values.get(key, "")).strip()

    def number(key: str) -> str | None:
        return text(key) or None

    headers = []
    for line in _lines(values.get("headers_env", "")):
        name, _, env = line.partition(":")
        headers.append({"name": name.strip(), "env": env.strip()})
    data = {
        "name": text("name"),
        "url": text("url"),
        "every": text("every") or None,
        "cron": text("cron") or None,
        "budget": text("budget") or "1500",
        "scope": _lines(values.get("scope", "")),
        "notify": _lines(values.get("notify", "")),
        "alert_after": text("alert_after") or "2",
        "options": {
            "max_pages": number("max_pages"),
            "depth": number("depth"),
            "include": _lines(values.get("include", "")),
            "exclude": _lines(values.get("exclude", "")),
            "accept": [a for a in re.split(r"[,\s]+", text("accept")) if a],
            "headers_env": headers,
            "cert_path": text("cert_path") or None,
            "key_path": text("key_path") or None,
            "pkcs12_path": text("pkcs12_path") or None,
            "password_env": text("password_env") or None,
            "cert_hosts": _lines(values.get("cert_hosts", "")),
            "check_fragments": bool(values.get("check_fragments")),
            "respect_robots": bool(values.get("respect_robots")),
        },
    }
    return SiteIn.model_validate(data)


def form_values(site: Site) -> dict[str, str | bool]:
    """The site form's fields for an existing site."""
    spec, options = site.spec, site.spec.options
    return {
        "name": spec.name,
        "url": spec.url,
        "every": "" if spec.every is None else format_every(spec.every),
        "cron": spec.cron or "",
        "budget": str(spec.budget),
        "scope": "\n".join(spec.scope),
        "notify": "\n".join(spec.notify),
        "alert_after": str(spec.alert_after),
        "max_pages": "" if options.max_pages is None else str(options.max_pages),
        "depth": "" if options.depth is None else str(options.depth),
        "include": "\n".join(options.include),
        "exclude": "\n".join(options.exclude),
        "accept": ", ".join(map(str, options.accept)),
        "headers_env": "\n".join(f"{name}: {env}" for name, env in options.headers_env),
        "cert_path": options.cert_path or "",
        "key_path": options.key_path or "",
        "pkcs12_path": options.pkcs12_path or "",
        "password_env": options.password_env or "",
        "cert_hosts": "\n".join(options.cert_hosts),
        "check_fragments": options.check_fragments,
        "respect_robots": options.respect_robots,
    }


def _errors(exc: ValidationError | ConfigError) -> list[str]:
    if isinstance(exc, ConfigError):
        return [str(exc)]
    messages = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if part != "options")
        messages.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return messages
