"""The users store: accounts, their login sessions and their API tokens. The first admin
(:func:`ensure_admin`), creating a user, checking a password, listing, a new password, removing a user
(``linkdoctor users``); login sessions kept on the server (:func:`start_session`, :func:`session_user`,
:func:`end_session`); API tokens with an optional expiry (issue, list, revoke, look up).

Sessions and tokens are revocable because the server holds them: a cookie or a token is only a random key
whose SHA-256 is a row here, and deleting the row ends it. Logout ends one session; a new password ends the
user's other sessions and (by default) its tokens; removing a user ends all of them.

Hashing is :mod:`linkdoctor.monitor.accounts`'s; the SQL is here. The last admin cannot be removed, so the
service never ends up without anyone who can log in and manage it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkdoctor.errors import ConfigError
from linkdoctor.monitor import accounts
from linkdoctor.monitor.convert import user_from_row
from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import ApiToken, Role, User
from linkdoctor.monitor.orm import LoginSessionRow, TokenRow, UserRow

ADMIN_USERNAME = "admin"
MIN_PASSWORD_LENGTH = 8
# API tokens one user may hold (expired ones included, until revoked): creating one is cheap and every
# token is listed on the settings page, so without a bound one user could grow that page (an admin's
# lists everyone's) and the table without end.
MAX_TOKENS_PER_USER = 1000


def check_password_rules(password: str) -> None:
    """Raise :class:`ConfigError` for a password the service does not accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def ensure_admin(db: Sessions, *, password_env: str = "LINKDOCTOR_ADMIN_PASSWORD") -> str | None:
    """Create the admin on first run. Returns the generated password to show once, or None when the
    admin existed or its password came from ``password_env``."""
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(UserRow)):
            return None
        from_env = os.environ.get(password_env)
        password = from_env or accounts.new_password()
        s.add(
            UserRow(
                username=ADMIN_USERNAME,
                password_hash=accounts.hash_password(password),
                is_admin=True,
                role=Role.ADMIN.value,
                created_at=db.now(),
            )
        )
    return None if from_env else password


def create_user(
    db: Sessions, username: str, password: str, *, is_admin: bool = False, role: Role | None = None
) -> User:
    """A new account: an admin with ``is_admin`` (or ``role=Role.ADMIN``), else ``role`` (default member)."""
    role = Role.ADMIN if is_admin else (role or Role.MEMBER)
    if not username.strip() or len(username) > 100 or not username.isprintable():
        raise ConfigError("a user name needs 1 to 100 printable characters")
    check_password_rules(password)
    try:
        with db.session() as s:
            row = UserRow(
                username=username,
                password_hash=accounts.hash_password(password),
                is_admin=role is Role.ADMIN,
                role=role.value,
                created_at=db.now(),
            )
            s.add(row)
            s.flush()
            return user_from_row(row)
    except IntegrityError as exc:
        raise ConfigError(f"a user named {username!r} already exists") from exc


def authenticate(db: Sessions, username: str, password: str) -> User | None:
    """The user whose name and password these are, or None. A hash made with older parameters is replaced
    on the way (:func:`accounts.needs_rehash`). The slow hash runs outside any transaction."""
    with db.session() as s:
        row = s.scalar(select(UserRow).where(UserRow.username == username))
        user, stored = (None, "") if row is None else (user_from_row(row), row.password_hash)
    if user is None:
        accounts.check_password(password, _dummy_hash())  # same work whether or not the user exists
        return None
    if not accounts.check_password(password, stored):
        return None
    if accounts.needs_rehash(stored):
        _rehash(db, user.id, stored, password)
    return user


def _rehash(db: Sessions, user_id: int, old: str, password: str) -> None:
    """Store a hash of ``password`` with today's parameters in place of ``old``, unless it changed since."""
    new = accounts.hash_password(password)
    with db.session() as s:
        s.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.password_hash == old)
            .values(password_hash=new)
        )


# --- API tokens ----------------------------------------------------------------------------------------
def create_token(db: Sessions, user_id: int, name: str, *, expires_at: datetime | None = None) -> str:
    """A new API token for the user, returned once; only its hash is stored."""
    return issue_token(db, user_id, name, expires_at=expires_at)[1]


def issue_token(
    db: Sessions, user_id: int, name: str, *, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token: its listing and its secret (shown once, never stored). ``expires_at`` must lie in
    the future (None: until revoked); a user holding :data:`MAX_TOKENS_PER_USER` tokens gets none
    (:class:`ConfigError`)."""
    now = db.now()
    if expires_at is not None and expires_at <= now:
        raise ConfigError("a token's expiry must lie in the future")
    secret = accounts.new_token()
    with db.session() as s:
        user = s.get(UserRow, user_id)
        if user is None:
            raise KeyError(f"no user with id {user_id}")
        held = s.scalar(select(func.count()).select_from(TokenRow).where(TokenRow.user_id == user_id))
        if (held or 0) >= MAX_TOKENS_PER_USER:
            raise ConfigError(
                f"a user may hold at most {MAX_TOKENS_PER_USER} API tokens (expired ones included): "
                "revoke one first"
            )
        row = TokenRow(
            user_id=user_id,
            name=name,
            token_hash=accounts.hash_token(secret),
            created_at=now,
            expires_at=expires_at,
        )
        s.add(row)
        s.flush()
        return _token_from_row(row, user.username), secret


def list_tokens(db: Sessions, user_id: int | None = None) -> list[ApiToken]:
    """The tokens of ``user_id`` (None: of every user), newest first, expired ones included."""
    query = select(TokenRow, UserRow.username).join(UserRow, TokenRow.user_id == UserRow.id)
    if user_id is not None:
        query = query.where(TokenRow.user_id == user_id)
    with db.session() as s:
        rows = s.execute(query.order_by(TokenRow.created_at.desc(), TokenRow.id.desc())).all()
        return [_token_from_row(row, username) for row, username in rows]


def revoke_token(db: Sessions, token_id: int, *, user_id: int | None = None) -> bool:
    """Delete one token (only if it is ``user_id``'s, when given). False when there was no such token."""
    query = delete(TokenRow).where(TokenRow.id == token_id)
    if user_id is not None:
        query = query.where(TokenRow.user_id == user_id)
    with db.session() as s:
        return bool(s.execute(query).rowcount)  # type: ignore[attr-defined]


def revoke_tokens(db: Sessions, user_id: int) -> None:
    with db.session() as s:
        s.execute(delete(TokenRow).where(TokenRow.user_id == user_id))


def user_for_token(db: Sessions, token: str) -> User | None:
    """The user of an unexpired token (None for an unknown, revoked or expired one)."""
    with db.session() as s:
        row = s.scalar(
            select(UserRow)
            .join(TokenRow, TokenRow.user_id == UserRow.id)
            .where(TokenRow.token_hash == accounts.hash_token(token))
            .where(or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > db.now()))
        )
        return None if row is None else user_from_row(row)


def _token_from_row(row: TokenRow, username: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        username=username,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def list_users(db: Sessions) -> list[User]:
    with db.session() as s:
        return [user_from_row(row) for row in s.scalars(select(UserRow).order_by(UserRow.username))]


def set_password(
    db: Sessions,
    username: str,
    password: str,
    *,
    revoke_tokens: bool = True,
    keep_session: str | None = None,
) -> User:
    """Give ``username`` a new password. This ends the user's login sessions but ``keep_session`` (the one
    that made the change) and, unless ``revoke_tokens`` is False, deletes its API tokens."""
    check_password_rules(password)
    with db.session() as s:
        row = _user(s, username)
        row.password_hash = accounts.hash_password(password)
        ended = delete(LoginSessionRow).where(LoginSessionRow.user_id == row.id)
        if keep_session is not None:
            ended = ended.where(LoginSessionRow.key_hash != _key_hash(keep_session))
        s.execute(ended)
        if revoke_tokens:
            s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        return user_from_row(row)


def change_password(
    db: Sessions,
    user_id: int,
    current: str,
    new: str,
    *,
    revoke_tokens: bool = True,
    keep_session: str | None = None,
) -> User | None:
    """A user's own password change: :func:`set_password` once ``current`` is right (else None)."""
    with db.session() as s:
        row = s.get(UserRow, user_id)
        username = None if row is None else row.username
        stored = _dummy_hash() if row is None else row.password_hash
    if not accounts.check_password(current, stored) or username is None:
        return None
    return set_password(db, username, new, revoke_tokens=revoke_tokens, keep_session=keep_session)


def remove_user(db: Sessions, username: str) -> None:
    """Delete ``username`` and its API tokens; the last admin is refused."""
    with db.session() as s:
        row = _user(s, username)
        if row.is_admin:
            admins = s.scalar(select(func.count()).select_from(UserRow).where(UserRow.is_admin.is_(True)))
            if (admins or 0) <= 1:
                raise ConfigError(f"{username!r} is the last admin: add another admin before removing it")
        s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        s.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == row.id))
        s.delete(row)


# --- login sessions --------------------------------------------------------------------------------------
def start_session(db: Sessions, user_id: int, lifetime: timedelta) -> str:
    """A new login session of ``user_id`` for ``lifetime``: the random key its cookie carries (the server
    keeps only the key's hash). Expired sessions are swept on the way."""
    key = secrets.token_urlsafe(32)
    now = db.now()
    with db.session() as s:
        if s.get(UserRow, user_id) is None:
            raise KeyError(f"no user with id {user_id}")
        s.execute(delete(LoginSessionRow).where(LoginSessionRow.expires_at <= now))
        s.add(
            LoginSessionRow(
                user_id=user_id, key_hash=_key_hash(key), created_at=now, expires_at=now + lifetime
            )
        )
    return key


def session_user(db: Sessions, key: str) -> User | None:
    """The user of a live login session (None once it was ended or expired, or its user removed)."""
    with db.session() as s:
        row = s.scalar(
            select(UserRow)
            .join(LoginSessionRow, LoginSessionRow.user_id == UserRow.id)
            .where(LoginSessionRow.key_hash == _key_hash(key))
            .where(LoginSessionRow.expires_at > db.now())
        )
        return None if row is None else user_from_row(row)


def end_session(db: Sessions, key: str) -> None:
    """Logout: the session's cookie is worthless from now on, wherever a copy of it is."""
    with db.session() as s:
        s.execute(delete(LoginSessionRow).where(LoginSessionRow.key_hash == _key_hash(key)))


def end_sessions(db: Sessions, user_id: int) -> None:
    """End every login session of ``user_id``."""
    with db.session() as s:
        s.execute(delete(LoginSessionRow).where(LoginSessionRow.user_id == user_id))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _user(s: Session, username: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise ConfigError(f"no user named {username!r} (see: linkdoctor users list)")
    return row


@cache
def _dummy_hash() -> str:
    return accounts.hash_password("linkdoctor-dummy-password")
