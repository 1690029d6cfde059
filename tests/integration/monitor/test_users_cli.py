"""``linkdoctor users``: list, add, passwd and remove accounts of the service, on SQLite and PostgreSQL,
with passwords from a hidden prompt or an environment variable and never from the command line."""

from __future__ import annotations

from collections.abc import Mapping

from click.testing import CliRunner, Result

from linkdoctor.cli import cli
from linkdoctor.monitor.service import Monitor


def run(db_url: str, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["users", "--db", db_url, *args], env=dict(env or {}), input=stdin)


def can_log_in(db_url: str, username: str, password: str) -> bool:
    monitor = Monitor.open(db_url)
    try:
        return monitor.authenticate(username, password) is not None
    finally:
        monitor.close()


def test_add_list_passwd_remove(db_url: str) -> None:
    added = run(db_url, "add", "alice", "--password-env", "PW", env={"PW": "first-password"})
    assert added.exit_code == 0, added.output
    assert "added member alice" in added.output
    assert can_log_in(db_url, "alice", "first-password")

    prompted = run(db_url, "add", "bob", "--admin", stdin="second-password\nsecond-password\n")
    assert prompted.exit_code == 0, prompted.output
    assert "second-password" not in prompted.stdout
    listed = run(db_url, "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["alice", "member"], ["bob", "admin"]]

    changed = run(db_url, "passwd", "alice", "--password-env", "PW", env={"PW": "a-new-password"})
    assert changed.exit_code == 0, changed.output
    assert not can_log_in(db_url, "alice", "first-password")
    assert can_log_in(db_url, "alice", "a-new-password")

    assert run(db_url, "remove", "alice").exit_code == 0
    assert not can_log_in(db_url, "alice", "a-new-password")
    assert [line.split("\t")[0] for line in run(db_url, "list").stdout.splitlines()] == ["bob"]


def test_add_gives_the_role_asked_for(db_url: str) -> None:
    added = run(
        db_url, "add", "carol", "--role", "viewer", "--password-env", "PW", env={"PW": "viewer-password"}
    )
    assert added.exit_code == 0, added.output
    assert "added viewer carol" in added.output
    assert [line.split("\t")[:2] for line in run(db_url, "list").stdout.splitlines()] == [["carol", "viewer"]]


def test_the_last_admin_cannot_be_removed(db_url: str) -> None:
    assert (
        run(db_url, "add", "root", "--admin", "--password-env", "PW", env={"PW": "root-password"}).exit_code
        == 0
    )
    refused = run(db_url, "remove", "root")
    assert refused.exit_code == 3
    assert "'root' is the last admin" in refused.output
    assert can_log_in(db_url, "root", "root-password")


def test_passwd_can_revoke_the_api_tokens(db_url: str) -> None:
    assert run(db_url, "add", "ci", "--password-env", "PW", env={"PW": "ci-password-1"}).exit_code == 0
    monitor = Monitor.open(db_url)
    try:
        user = monitor.authenticate("ci", "ci-password-1")
        assert user is not None
        token = monitor.create_token(user.id, "pipeline")
        assert monitor.user_for_token(token) is not None
        result = run(
            db_url, "passwd", "ci", "--password-env", "PW", "--revoke-tokens", env={"PW": "ci-password-2"}
        )
        assert result.exit_code == 0 and "revoked its API tokens" in result.output
        assert monitor.user_for_token(token) is None
    finally:
        monitor.close()


def test_bad_input_is_a_clear_error(db_url: str) -> None:
    short = run(db_url, "add", "eve", "--password-env", "PW", env={"PW": "short"})
    assert short.exit_code == 3 and "at least 8 characters" in short.output
    unset = run(db_url, "add", "eve", "--password-env", "LINKDOCTOR_TEST_UNSET_VARIABLE")
    assert unset.exit_code == 3 and "LINKDOCTOR_TEST_UNSET_VARIABLE" in unset.output
    missing = run(db_url, "passwd", "nobody", "--password-env", "PW", env={"PW": "long-enough"})
    assert missing.exit_code == 3 and "no user named 'nobody'" in missing.output
    mismatch = run(db_url, "add", "eve", stdin="one-password\nanother-password\none-password\none-password\n")
    assert mismatch.exit_code == 0  # the prompt asks again until both entries match
    assert run(db_url, "add", "eve", "--password-env", "PW", env={"PW": "long-enough"}).exit_code == 3
