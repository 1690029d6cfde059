"""Password and API token hashing for the monitor's users (stdlib scrypt and SHA-256; no dependency).

Passwords are stored as ``scrypt$n$r$p$salt$hash``; API tokens as the SHA-256 of a 32-byte random token
(tokens are long and random, so a slow hash buys nothing). Comparisons are constant time.

>>> check_password("s3cret", hash_password("s3cret"))
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
TOKEN_PREFIX = "ldt_"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_stamp(password_hash: str) -> str:
    """What a login session remembers of the password: a new password (or a removed user) ends the
    sessions that were opened with the old one. One-way, like the hash it comes from."""
    return hashlib.sha256(b"session:" + password_hash.encode()).hexdigest()[:32]


def new_password() -> str:
    return secrets.token_urlsafe(18)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()
