"""The users store's login sessions and API tokens on SQLite and PostgreSQL: sessions and tokens expire by
the monitor's clock, and ``linkdoctor users passwd`` ends the account's sessions and revokes its tokens
unless ``--keep-tokens``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from linkdoctor.cli import cli
from linkdoctor.errors import ConfigError
from linkdoctor.monitor import users
from linkdoctor.monitor.service import Monitor

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_a_session_and_a_token_stop_working_when_they_expire(db_url: str) -> None:
    clock = Clock()
    monitor = Monitor.open(db_url, clock=clock)
    try:
        user = monitor.create_user("ann", "ann-password")
        key = users.start_session(monitor, user.id, timedelta(days=14))
        token = users.create_token(monitor, user.id, "ci", expires_at=START + timedelta(days=1))
        assert users.session_user(monitor, key) == user and users.user_for_token(monitor, token) == user
        clock.now = START + timedelta(days=1)
        assert users.user_for_token(monitor, token) is None
        assert [t.name for t in users.list_tokens(monitor, user.id)] == ["ci"]  # listed until revoked
        clock.now = START + timedelta(days=14)
        assert users.session_user(monitor, key) is None
        with pytest.raises(ConfigError, match="in the future"):
            users.create_token(monitor, user.id, "late", expires_at=clock.now)
    finally:
        monitor.close()


def test_ending_one_session_leaves_the_others(db_url: str) -> None:
    monitor = Monitor.open(db_url)
    try:
        user = monitor.create_user("ann", "ann-password")
        first, second = (users.start_session(monitor, user.id, timedelta(days=1)) for _ in range(2))
        users.end_session(monitor, first)
        assert users.session_user(monitor, first) is None and users.session_user(monitor, second) == user
        users.end_sessions(monitor, user.id)
        assert users.session_user(monitor, second) is None
    finally:
        monitor.close()


@pytest.mark.parametrize("keep", [False, True])
def test_users_passwd_ends_the_sessions_and_revokes_the_tokens_unless_kept(db_url: str, keep: bool) -> None:
    monitor = Monitor.open(db_url)
    try:
        user = monitor.create_user("ann", "ann-password")
        key = users.start_session(monitor, user.id, timedelta(days=1))
        token = users.create_token(monitor, user.id, "ci")
        flags = ["--keep-tokens"] if keep else []
        result = CliRunner().invoke(
            cli,
            ["users", "--db", db_url, "passwd", "ann", "--password-env", "PW", *flags],
            env={"PW": "a-new-password"},
        )
        assert result.exit_code == 0, result.output
        assert ("kept its API tokens" if keep else "revoked its API tokens") in result.output
        assert users.session_user(monitor, key) is None
        assert (users.user_for_token(monitor, token) is not None) is keep
    finally:
        monitor.close()
