"""Who is asking: login sessions (signed cookies) for the dashboard, API tokens for scripts.

* A login opens a session on the server (:func:`linkdoctor.monitor.users.start_session`) and puts its random
  key in the session cookie, which Starlette's ``SessionMiddleware`` signs with the service's secret and
  marks ``HttpOnly``, ``SameSite=Lax`` and (over https) ``Secure``. Every request looks the key up, so a
  session ends for every copy of its cookie at logout, at a new password, or when its user is removed.
* ``Authorization: Bearer <token>`` authenticates API calls; tokens are created on the settings page or
  with ``POST /api/v1/tokens`` (optionally expiring), listed and revoked there, and stored hashed.
* Every write needs a user. Reads need one too unless public status pages are switched on.
* A write that rides on the session cookie must also present the session's CSRF token (see
  :mod:`linkdoctor.web.csrf`); token-authenticated writes need not, as browsers never send tokens by themselves.

The FastAPI dependencies at the bottom raise :class:`LoginRequired` (pages: redirect to the login form),
:class:`HTTPException` 401 (API) or 403 (bad CSRF token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote

from fastapi import HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from linkdoctor.monitor import users
from linkdoctor.monitor.model import Role, User
from linkdoctor.web import csrf
from linkdoctor.web.context import monitor, runtime

SESSION_KEY: Final = "sid"
BEARER: Final = "bearer"


class Via(StrEnum):
    SESSION = "session"
    TOKEN = "token"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user_id: int
    username: str
    via: Via
    role: Role = Role.MEMBER

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class LoginRequired(Exception):
    """A page needs a logged-in user; the app turns this into a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


def log_in(request: Request, user: User) -> None:
    """Start a fresh server-side session for ``user`` (ending the one the cookie held, and dropping
    anything the anonymous session held) with a new CSRF token (database writes: call from a worker
    thread)."""
    previous = session_key(request)
    if previous is not None:
        users.end_session(monitor(request), previous)
    lifetime = timedelta(days=runtime(request).settings.session_days)
    key = users.start_session(monitor(request), user.id, lifetime)
    request.session.clear()
    request.session[SESSION_KEY] = key
    csrf.rotate(request.session)


def log_out(request: Request) -> None:
    """End the session on the server, so a copy of its cookie is refused too (call from a worker thread)."""
    key = session_key(request)
    if key is not None:
        users.end_session(monitor(request), key)
    request.session.clear()
    csrf.rotate(request.session)


def session_key(request: Request) -> str | None:
    """The server-side session key the (signed) cookie carries."""
    key: Any = request.session.get(SESSION_KEY)
    return key if isinstance(key, str) and 0 < len(key) <= 100 else None


def session_principal(request: Request) -> Principal | None:
    """The user of the session cookie while its session lives on the server (a database lookup: call from
    a worker thread)."""
    key = session_key(request)
    user = None if key is None else users.session_user(monitor(request), key)
    return None if user is None else Principal(user.id, user.username, Via.SESSION, user.role)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != BEARER or not value.strip():
        return None
    return value.strip()


def token_principal(request: Request) -> Principal | None:
    """The user of a bearer token (a database lookup: call from a worker thread)."""
    token = bearer_token(request)
    if token is None or len(token) > 512:
        return None
    user = monitor(request).user_for_token(token)
    return None if user is None else Principal(user.id, user.username, Via.TOKEN, user.role)


def safe_next(value: str | None) -> str:
    """A post-login redirect target that stays on this site (a path, never ``//host`` or a full URL).

    >>> safe_next("/sites/3"), safe_next("//evil.example/"), safe_next("https://evil.example/")
    ('/sites/3', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


# --- FastAPI dependencies -------------------------------------------------------------------------------
def api_reader(request: Request) -> Principal:
    """API reads: any authenticated caller (public status pages have their own route)."""
    principal = api_visitor(request)
    if principal is None:
        raise _unauthorized("log in or send an API token (Authorization: Bearer …)")
    return principal


def api_visitor(request: Request) -> Principal | None:
    """The public status view: any authenticated caller, or anyone when public status pages are on."""
    principal = token_principal(request) if bearer_token(request) else session_principal(request)
    if principal is None and bearer_token(request):
        raise _unauthorized("invalid API token")
    if principal is None and not runtime(request).settings.public_status:
        raise _unauthorized("log in or send an API token (Authorization: Bearer …)")
    return principal


def api_writer(request: Request) -> Principal:
    """API writes: a bearer token, or a session plus its CSRF token in the ``X-CSRF-Token`` header."""
    if bearer_token(request):
        principal = token_principal(request)
        if principal is None:
            raise _unauthorized("invalid API token")
        return principal
    principal = session_principal(request)
    if principal is None:
        raise _unauthorized("log in or send an API token (Authorization: Bearer …)")
    if not csrf.tokens_match(request.session, request.headers.get(csrf.HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong {csrf.HEADER} header")
    return principal


def page_reader(request: Request) -> Principal | None:
    """Dashboard pages: a logged-in user, or anyone when public status pages are on."""
    principal = session_principal(request)
    if principal is None and not runtime(request).settings.public_status:
        raise LoginRequired(_request_path(request))
    return principal


def page_user(request: Request) -> Principal:
    """Pages that only users see (settings, forms)."""
    principal = session_principal(request)
    if principal is None:
        raise LoginRequired(_request_path(request))
    return principal


async def page_writer(request: Request) -> Principal:
    """Form posts and HTMX writes: a logged-in user and the session's CSRF token (form field or header)."""
    principal = await run_in_threadpool(session_principal, request)
    if principal is None:
        raise LoginRequired("/")
    await check_csrf(request)
    return principal


async def check_csrf(request: Request) -> None:
    presented = request.headers.get(csrf.HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(csrf.FORM_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf.tokens_match(request.session, presented):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the form expired or did not come from this site; reload it"
        )


def _request_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
