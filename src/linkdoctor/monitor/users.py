"""Accounts beyond the first admin: list them, set a password, remove one (``linkdoctor users``), and the
check that keeps a login session valid only while its user and password stay as they were.

Creating a user and checking a password are :class:`~linkdoctor.monitor.service.Monitor` methods; these
are the rest, as functions of a monitor, like :mod:`linkdoctor.monitor.retention`. The last admin cannot
be removed, so the service never ends up without anyone who can log in and manage it.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linkdoctor.errors import ConfigError
from linkdoctor.monitor import accounts
from linkdoctor.monitor.convert import user_from_row
from linkdoctor.monitor.model import User
from linkdoctor.monitor.orm import TokenRow, UserRow

if TYPE_CHECKING:
    from linkdoctor.monitor.service import Monitor

MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    """Raise :class:`ConfigError` for a password the service does not accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def list_users(monitor: Monitor) -> list[User]:
    with monitor.session() as s:
        return [user_from_row(row) for row in s.scalars(select(UserRow).order_by(UserRow.username))]


def set_password(monitor: Monitor, username: str, password: str, *, revoke_tokens: bool = False) -> User:
    """Give ``username`` a new password (and, with ``revoke_tokens``, drop its API tokens)."""
    check_password_rules(password)
    with monitor.session() as s:
        row = _user(s, username)
        row.password_hash = accounts.hash_password(password)
        if revoke_tokens:
            s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        return user_from_row(row)


def remove_user(monitor: Monitor, username: str) -> None:
    """Delete ``username`` and its API tokens; the last admin is refused."""
    with monitor.session() as s:
        row = _user(s, username)
        if row.is_admin:
            admins = s.scalar(select(func.count()).select_from(UserRow).where(UserRow.is_admin.is_(True)))
            if (admins or 0) <= 1:
                raise ConfigError(f"{username!r} is the last admin: add another admin before removing it")
        s.execute(delete(TokenRow).where(TokenRow.user_id == row.id))
        s.delete(row)


def session_stamp(monitor: Monitor, user_id: int) -> str | None:
    """The stamp a new login session of ``user_id`` carries (None for an unknown user)."""
    with monitor.session() as s:
        row = s.get(UserRow, user_id)
        return None if row is None else accounts.session_stamp(row.password_hash)


def session_user(monitor: Monitor, user_id: int, stamp: str) -> User | None:
    """The user of a login session, or None when the user is gone or its password changed since."""
    with monitor.session() as s:
        row = s.get(UserRow, user_id)
        if row is None or not hmac.compare_digest(accounts.session_stamp(row.password_hash), stamp):
            return None
        return user_from_row(row)


def _user(s: Session, username: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise ConfigError(f"no user named {username!r} (see: linkdoctor users list)")
    return row
