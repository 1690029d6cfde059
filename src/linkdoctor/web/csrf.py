"""CSRF protection for the dashboard: one random token per session (the synchronizer-token pattern).

Every HTML form carries the token in a hidden ``csrf_token`` field, and HTMX requests send it in the
``X-CSRF-Token`` header (set once on ``<body hx-headers=…>``). A write that arrives with the session
cookie but without the session's token is refused with 403. Requests authenticated by an API token
(``Authorization: Bearer``) carry no cookie, so a browser cannot forge them, and need no CSRF token.

>>> session: dict[str, object] = {}
>>> token = session_token(session)
>>> token == session_token(session) and tokens_match(session, token)
True
>>> tokens_match(session, "forged")
False
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any, Final

SESSION_KEY: Final = "csrf"
FORM_FIELD: Final = "csrf_token"
HEADER: Final = "X-CSRF-Token"


def session_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def rotate(session: MutableMapping[str, Any]) -> str:
    """Replace the session's token (on login and logout, so a token seen before login is worthless after)."""
    session.pop(SESSION_KEY, None)
    return session_token(session)


def tokens_match(session: MutableMapping[str, Any], presented: str | None) -> bool:
    """Whether ``presented`` is this session's token (constant-time comparison)."""
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
