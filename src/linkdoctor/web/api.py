"""The REST API under ``/api/v1``: the dashboard's operations for scripts, documented at ``/docs``.

Every route needs a user (a session or ``Authorization: Bearer``), except ``/status``, the public status
view, which anyone may read when public status pages are on. What each role may do is
:mod:`linkdoctor.web.roles`'s: a refused role gets 403. Handlers are plain ``def`` functions: FastAPI runs them in its thread pool, where the monitor's
synchronous database calls belong. A missing site or scan is 404, a spec the service refuses (including the
SSRF guard's refusals) is 422.

>>> # curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8484/api/v1/sites
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.security import HTTPBearer

from linkdoctor.models import Category
from linkdoctor.monitor import users
from linkdoctor.monitor.model import (
    DailyCount,
    Scan,
    ScanDiff,
    ScanProblems,
    Site,
    StoredAlert,
    StoredResult,
)
from linkdoctor.monitor.service import Monitor
from linkdoctor.web import roles
from linkdoctor.web.auth import Principal, Via, api_reader, api_visitor, api_writer, session_key
from linkdoctor.web.context import monitor, runtime
from linkdoctor.web.credentials import PasswordChange, TokenIn, TokenInfo, TokenOut
from linkdoctor.web.public import PublicSite, UserIn, UserOut, hide_targets, public_sites
from linkdoctor.web.schemas import Me, SiteIn, SiteOut, SiteOverviewOut

T = TypeVar("T")
MAX_ID: Final = 2**31 - 1

# Declares the bearer scheme in the OpenAPI document, so Swagger UI's "Authorize" sends API tokens; the
# checking is auth.py's (a session cookie works as well).
bearer_scheme = HTTPBearer(auto_error=False, description="An API token from Settings or POST /api/v1/tokens")
router = APIRouter(tags=["api"], dependencies=[Depends(bearer_scheme)])
Reader = Annotated[Principal, Depends(api_reader)]
Visitor = Annotated[Principal | None, Depends(api_visitor)]
Writer = Annotated[Principal, Depends(api_writer)]
Service = Annotated[Monitor, Depends(monitor)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {404: {"description": "No such site or scan"}}
FORBIDDEN: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "The caller's role may not do this (or, adding a site, it has as many as it may)"}
}
REFUSED: Final[dict[int | str, dict[str, Any]]] = {
    **FORBIDDEN,
    422: {"description": "The site was refused (bad spec, duplicate name, SSRF guard)"},
}


def found(call: Callable[[], T]) -> T:
    """Run a monitor call, turning its ``KeyError`` (no such site or scan) into 404."""
    try:
        return call()
    except KeyError as exc:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, str(exc.args[0]) if exc.args else "not found"
        ) from None


def site_out(site: Site, principal: Principal) -> SiteOut:
    """A site as ``principal`` may see it: notification URLs in full only for those who may change it."""
    out = SiteOut.of(site, redact=False)
    if roles.may_see_targets(principal.role, principal.user_id, site):
        return out
    return hide_targets(out)


@router.get("/me", response_model=Me)
def me(principal: Writer) -> Me:
    """Who the request is authenticated as."""
    return Me(user_id=principal.user_id, username=principal.username, via=principal.via.value)


@router.get("/status", response_model=list[PublicSite])
def public_status(principal: Visitor, service: Service) -> list[PublicSite]:
    """The public status view: each site's name, state and last counts, nothing else (open to anyone when
    public status pages are on)."""
    return public_sites(service.sites())


@router.get("/sites", response_model=list[SiteOverviewOut])
def list_sites(principal: Reader, service: Service) -> list[SiteOverviewOut]:
    """Every site with its status, last scan, broken count and sparkline."""
    return [
        SiteOverviewOut.of(o, redact=False).model_copy(update={"site": site_out(o.site, principal)})
        for o in service.sites()
    ]


@router.post("/sites", response_model=SiteOut, status_code=status.HTTP_201_CREATED, responses=REFUSED)
def add_site(body: SiteIn, request: Request, principal: Writer, service: Service) -> SiteOut:
    """Add a site (admins and members). Its URL must pass the SSRF guard; header and auth options are an
    admin's, and name only the environment variables the operator allows (422 otherwise)."""
    spec = body.to_spec()
    settings = runtime(request).settings
    roles.check_site_write(
        principal.role, principal.user_id, spec, None, max_budget=settings.max_member_budget
    )
    settings.env_allowlist.check(spec)
    limit = roles.site_limit(principal.role, settings.max_sites_per_member)
    return SiteOut.of(service.add_site(spec, owner_id=principal.user_id, owner_limit=limit), redact=False)


@router.get("/sites/{site_id}", response_model=SiteOut, responses=NOT_FOUND)
def get_site(site_id: Id, principal: Reader, service: Service) -> SiteOut:
    return site_out(found(lambda: service.site(site_id)), principal)


@router.put("/sites/{site_id}", response_model=SiteOut, responses={**NOT_FOUND, **REFUSED})
def replace_site(site_id: Id, body: SiteIn, request: Request, principal: Writer, service: Service) -> SiteOut:
    """Replace a site's settings (its scans and history stay): an admin any site, a member its own."""
    spec = body.to_spec()
    settings = runtime(request).settings
    current = found(lambda: service.site(site_id))
    roles.check_site_write(
        principal.role, principal.user_id, spec, current, max_budget=settings.max_member_budget
    )
    settings.env_allowlist.check(spec)
    return SiteOut.of(found(lambda: service.update_site(site_id, spec)), redact=False)


@router.delete(
    "/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **FORBIDDEN}
)
def remove_site(site_id: Id, principal: Writer, service: Service) -> Response:
    """Remove a site with its scans, results and history: an admin any site, a member its own."""
    roles.check_site_remove(principal.role, principal.user_id, found(lambda: service.site(site_id)))
    found(lambda: service.remove_site(site_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/sites/{site_id}/scans",
    response_model=Scan,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, **FORBIDDEN},
)
def request_scan(site_id: Id, request: Request, principal: Writer, service: Service) -> Scan:
    """Queue a scan now (or return the one already queued, running or partial); the scheduler runs it.
    Admins and members."""
    roles.check_scan(principal.role)
    scan = found(lambda: service.request_scan(site_id))
    runtime(request).wake_scheduler()
    return scan


@router.get("/sites/{site_id}/scans", response_model=list[Scan], responses=NOT_FOUND)
def list_scans(
    site_id: Id, principal: Reader, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[Scan]:
    """The site's scans, newest first."""
    return found(lambda: service.scans(site_id, limit=limit))


@router.get("/sites/{site_id}/history", response_model=list[DailyCount], responses=NOT_FOUND)
def site_history(
    site_id: Id, principal: Reader, service: Service, days: Annotated[int, Query(ge=1, le=3660)] = 90
) -> list[DailyCount]:
    """Links per category per day (the last scan of each day), oldest first."""
    return found(lambda: service.history(site_id, days=days))


@router.get("/sites/{site_id}/alerts", response_model=list[StoredAlert], responses=NOT_FOUND)
def site_alerts(
    site_id: Id, principal: Reader, service: Service, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[StoredAlert]:
    """The site's newest alerts, newest first, as they were composed (title and body; never the targets),
    with how their delivery went."""
    return found(lambda: service.alerts(site_id, limit=limit))


@router.get("/scans/{scan_id}", response_model=Scan, responses=NOT_FOUND)
def get_scan(scan_id: Id, principal: Reader, service: Service) -> Scan:
    return found(lambda: service.scan(scan_id))


@router.get("/scans/{scan_id}/results", response_model=list[StoredResult], responses=NOT_FOUND)
def scan_results(
    scan_id: Id,
    principal: Reader,
    service: Service,
    category: Category | None = None,
    code: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z0-9.\-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[StoredResult]:
    """The scan's links, by URL, optionally only one category and/or one diagnosis code."""
    return found(
        lambda: service.results(
            scan_id,
            category=None if category is None else category.value,
            code=code,
            limit=limit,
            offset=offset,
        )
    )


@router.get("/scans/{scan_id}/problems", response_model=ScanProblems, responses=NOT_FOUND)
def scan_problems(
    scan_id: Id,
    principal: Reader,
    service: Service,
    code: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z0-9.\-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ScanProblems:
    """The scan's problems, grouped as every report groups them: one per target document and cause (the
    ``#fragment`` links into a broken page are places of its one problem, each keeping its fragment), a
    missing anchor one per page and anchor. Most pages affected first; ``counts`` and ``headline`` cover
    the whole scan, ``problems`` the page asked for (optionally only one diagnosis code), each with every
    place it was found on (``found_on``: page, line, text, fragment)."""
    grouped = found(lambda: service.problems(scan_id))
    listed = [p for p in grouped.problems if code is None or p.code == code]
    return replace(grouped, problems=tuple(listed[offset : offset + limit]))


@router.get("/scans/{scan_id}/diff", response_model=ScanDiff, responses=NOT_FOUND)
def scan_diff(scan_id: Id, principal: Reader, service: Service) -> ScanDiff:
    """The scan against the site's previous finished scan. By problem (``new_problems``, ``still_problems``,
    ``fixed_problems``, grouped as ``/problems`` groups them, with ``problems`` and ``headline`` for the
    scan): a problem is new when the previous scan had none with its ``key``. By link, as before:
    ``new_broken``, ``fixed``, ``still_broken`` and ``new_redirects``."""
    return found(lambda: service.diff(scan_id))


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(principal: Reader, service: Service) -> list[TokenInfo]:
    """The caller's API tokens (an admin's: every user's), newest first, without their secrets."""
    owner = None if roles.may_manage_users(principal.role) else principal.user_id
    return [TokenInfo.of(t) for t in users.list_tokens(service, owner)]


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "A bad name or an expiry that is not in the future"}},
)
def create_token(body: TokenIn, principal: Writer, service: Service) -> TokenOut:
    """A new API token for the caller, acting with the caller's role, optionally expiring at
    ``expires_at``. Its secret is in this answer only."""
    token, secret = found(
        lambda: users.issue_token(service, principal.user_id, body.name, expires_at=body.expires_at)
    )
    return TokenOut(**TokenInfo.of(token).model_dump(), token=secret)


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such token among those the caller may revoke"}},
)
def revoke_token(token_id: Id, principal: Writer, service: Service) -> Response:
    """Revoke an API token at once: a member or viewer its own, an admin any."""
    owner = None if roles.may_manage_users(principal.role) else principal.user_id
    if not users.revoke_token(service, token_id, user_id=owner):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token with id {token_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        403: {"description": "The current password is wrong"},
        429: {"description": "Too many wrong passwords; try again later"},
    },
)
def change_password(body: PasswordChange, request: Request, principal: Writer, service: Service) -> Response:
    """Change the caller's password. The caller's other login sessions end, and its API tokens are revoked
    unless ``keep_tokens`` (the session making the change stays logged in)."""
    throttle = runtime(request).logins
    address = request.client.host if request.client else ""
    wait = throttle.retry_after(address, principal.username)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many wrong passwords; try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    keep = session_key(request) if principal.via is Via.SESSION else None
    changed = users.change_password(
        service,
        principal.user_id,
        body.current_password,
        body.new_password,
        revoke_tokens=not body.keep_tokens,
        keep_session=keep,
    )
    if changed is None:
        throttle.failed(address, principal.username)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is wrong")
    throttle.succeeded(address, principal.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", response_model=list[UserOut], responses=FORBIDDEN)
def list_users(principal: Reader, service: Service) -> list[UserOut]:
    """Every account with its role (admins only)."""
    roles.check_admin(principal.role)
    return [UserOut.of(u) for u in users.list_users(service)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=REFUSED)
def add_user(body: UserIn, principal: Writer, service: Service) -> UserOut:
    """Add an account with a role (admins only)."""
    roles.check_admin(principal.role)
    return UserOut.of(service.create_user(body.username, body.password, role=body.role))


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **REFUSED})
def remove_user(user_id: Id, principal: Writer, service: Service) -> Response:
    """Remove an account and its API tokens (admins only; the last admin stays)."""
    roles.check_admin(principal.role)
    user = next((u for u in users.list_users(service) if u.id == user_id), None)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user with id {user_id}")
    users.remove_user(service, user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
