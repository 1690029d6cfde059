"""The users store: accounts and their API tokens. The first admin (:func:`ensure_admin`), creating a user,
checking a password or a token, listing, a new password, removing a user (``linkdoctor users``), and the
check that keeps a login session valid only while its user and password stay as they were.

Hashing is :mod:`linkdoctor.monitor.accounts`'s; the SQL is here. The last admin cannot be removed, so the
service never ends up without anyone who can log in and manage it.
"""

from __future__ import annotations

import hmac
import os
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkdoctor.errors import ConfigError
from linkdoctor.monitor import accounts
from linkdoctor.monitor.convert import user_from_row
from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import Role, User
from linkdoctor.monitor.orm import TokenRow, UserRow

ADMIN_USERNAME = "admin"
MIN_PASSWORD_LENGTH = 8


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


def create_token(db: Sessions, user_id: int, name: str) -> str:
    """A new API token for the user, returned once; only its hash is stored."""
    token = accounts.new_token()
    with db.session() as s:
        if s.get(UserRow, user_id) is None:
            raise KeyError(f"no user with id {user_id}")
        s.add(
            TokenRow(user_id=user_id, name=name, token_hash=accounts.hash_token(token), created_at=db.now())
        )
    return token


def revoke_tokens(db: Sessions, user_id: int) -> None:
    with db.session() as s:
        s.execute(delete(TokenRow).where(TokenRow.user_id == user_id))


def user_for_token(db: Sessions, token: str) -> User | None:
    with db.session() as s:
        row = s.scalar(
            select(UserRow)
            .join(TokenRow, TokenRow.user_id == UserRow.id)
            .where(TokenRow.token_hash == accounts.hash_token(token))
        )
        return None if row is None else user_from_row(row)


def list_users(db: Sessions) -> list[User]:
    with db.session() as s:
        return [user_from_row(row) for row in s.scalars(select(UserRow).order_by(UserRow.username))]


def set_password(db: Sessions, username: str, password: str, *, revoke_tokens: bool = False) -> User:
    """Give ``username`` a new password (and, with ``revoke_tokens``, drop its API tokens)."""
    check_password_rules(password)
    with db.session() as s:
        row = _user(s, username)
        row.password_hash = accounts.hash_password(password)
        if revoke_tokens:
            s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        return user_from_row(row)


def remove_user(db: Sessions, username: str) -> None:
    """Delete ``username`` and its API tokens; the last admin is refused."""
    with db.session() as s:
        row = _user(s, username)
        if row.is_admin:
            admins = s.scalar(select(func.count()).select_from(UserRow).where(UserRow.is_admin.is_(True)))
            if (admins or 0) <= 1:
                raise ConfigError(f"{username!r} is the last admin: add another admin before removing it")
        s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        s.delete(row)


def session_stamp(db: Sessions, user_id: int) -> str | None:
    """The stamp a new login session of ``user_id`` carries (None for an unknown user)."""
    with db.session() as s:
        row = s.get(UserRow, user_id)
        return None if row is None else accounts.session_stamp(row.password_hash)


def session_user(db: Sessions, user_id: int, stamp: str) -> User | None:
    """The user of a login session, or None when the user is gone or its password changed since."""
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is None or not hmac.compare_digest(accounts.session_stamp(row.password_hash), stamp):
            return None
        return user_from_row(row)


def _user(s: Session, username: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise ConfigError(f"no user named {username!r} (see: linkdoctor users list)")
    return row


@cache
def _dummy_hash() -> str:
    return accounts.hash_password("linkdoctor-dummy-password")
