"""Passwords are hashed with OWASP's current scrypt parameters, and a hash made with older ones is
replaced at the next successful login, against a real ``serve`` process on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import (
    DATABASES,
    USER_PASSWORD,
    Served,
    add_user_by_cli,
    database_url,
    log_in,
    serve_process,
)

from linkdoctor.monitor import accounts
from linkdoctor.monitor.db import create_engine_for
from linkdoctor.monitor.orm import UserRow

CURRENT = "scrypt$131072$8$1$"  # OWASP: N=2^17, r=8, p=1


def old_hash(password: str) -> str:
    """A hash as linkdoctor made it before (N=2^14)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.urlsafe_b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


def stored_hash(db_url: str, username: str, replace: str | None = None) -> str:
    engine = create_engine_for(db_url)
    try:
        with engine.begin() as connection:
            if replace is not None:
                connection.execute(
                    update(UserRow).where(UserRow.username == username).values(password_hash=replace)
                )
            return str(connection.scalar(select(UserRow.password_hash).where(UserRow.username == username)))
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with serve_process(database_url(request, tmp_path, "hash"), tmp_path) as served:
        yield served


@pytest.mark.slow
def test_new_passwords_are_hashed_with_the_current_owasp_parameters(server: Served) -> None:
    add_user_by_cli(server, "ann")
    assert stored_hash(server.db_url, "admin").startswith(CURRENT)
    assert stored_hash(server.db_url, "ann").startswith(CURRENT)


@pytest.mark.slow
def test_an_old_hash_is_replaced_at_login_and_the_password_still_works(server: Served) -> None:
    add_user_by_cli(server, "ann")
    old = old_hash(USER_PASSWORD)
    stored_hash(server.db_url, "ann", replace=old)
    assert accounts.check_password(USER_PASSWORD, old)

    log_in(server.base, "ann", USER_PASSWORD)
    upgraded = stored_hash(server.db_url, "ann")
    assert upgraded.startswith(CURRENT) and upgraded != old
    assert accounts.check_password(USER_PASSWORD, upgraded)
    log_in(server.base, "ann", USER_PASSWORD)  # and the server still lets the user in with it


@pytest.mark.slow
def test_a_failed_login_leaves_an_old_hash_as_it_was(server: Served) -> None:
    stored_hash(server.db_url, "admin", replace=old_hash(ADMIN_PASSWORD))
    with pytest.raises(AssertionError):
        log_in(server.base, "admin", "not the password")
    assert stored_hash(server.db_url, "admin") == old_hash(ADMIN_PASSWORD)
