"""Password and API token hashing for the monitor's users (stdlib scrypt and SHA-256; no dependency).

Passwords are stored as ``scrypt$n$r$p$salt$hash`` with OWASP's current scrypt parameters (N=2^17, r=8,
p=1: 128 MiB and about a second of one core per hash). A hash made with older parameters still verifies,
and :func:`needs_rehash` tells the login to store a new one (the users store does, transparently). At most
:data:`CONCURRENT_HASHES` hashes run at once in a process, so a burst of logins cannot exhaust its memory.
API tokens are stored as the SHA-256 of a 32-byte random token (tokens are long and random, so a slow hash
buys nothing). Comparisons are constant time.

>>> stored = hash_password("s3cret")
>>> check_password("s3cret", stored), needs_rehash(stored)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from typing import Final

SCRYPT_N: Final = 2**17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
MAX_N: Final = 2**20  # a stored hash asking for more is refused, not computed
CONCURRENT_HASHES: Final = 2
TOKEN_PREFIX = "ldt_"

# A process-wide bound, like a connection pool's: each hash takes 128 MiB while it runs.
_hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password.encode(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(n) > MAX_N:
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = _scrypt(
            password.encode(), base64.urlsafe_b64decode(salt), int(n), int(r), int(p), len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (so a login should replace it).

    >>> needs_rehash("scrypt$16384$8$1$c2FsdA==$ZGlnZXN0")
    True
    """
    parts = stored.split("$")
    return len(parts) != 6 or parts[:4] != ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # scrypt needs 128 * r * n bytes (plus a little): OpenSSL refuses more than maxmem, 32 MiB by default.
    with _hashing:
        return hashlib.scrypt(
            password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=128 * r * (n + p + 2) + 2**20
        )


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(18)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()
