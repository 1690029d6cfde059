"""``linkdoctor users list|add|passwd|remove``: the accounts of ``linkdoctor serve``, on the same database
(``--db``, or SQLite in the user data directory). Passwords come from a hidden prompt or an environment
variable named with ``--password-env``, never from a command-line value.

    linkdoctor users add alice --admin
    linkdoctor users add bob --role viewer
    LD_PW=… linkdoctor users passwd admin --password-env LD_PW   # ends its sessions, revokes its tokens
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from linkdoctor.cli import UsageError
from linkdoctor.cli.sites import DB_OPTION, open_monitor
from linkdoctor.errors import ConfigError
from linkdoctor.monitor import users as accounts
from linkdoctor.monitor.model import Role
from linkdoctor.monitor.service import Monitor


@contextmanager
def _service(ctx: click.Context) -> Iterator[Monitor]:
    """The monitor for one command; its refusals (a short password, an unknown user) exit 3."""
    monitor = open_monitor(ctx)
    try:
        yield monitor
    except ConfigError as exc:
        raise UsageError(exc) from exc
    finally:
        monitor.close()


def _password(password_env: str | None) -> str:
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            raise UsageError(
                ConfigError(f"the environment variable {password_env} (the new password) is not set")
            )
        return value
    entered: str = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    return entered


_PASSWORD_ENV = click.option(
    "--password-env", metavar="VAR", help="Read the password from this environment variable (else a prompt)."
)


@click.group()
@DB_OPTION
@click.pass_context
def users(ctx: click.Context, db: str | None) -> None:
    """Manage who can log in to `linkdoctor serve`."""
    ctx.obj = db


@users.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the accounts."""
    with _service(ctx) as monitor:
        for user in accounts.list_users(monitor):
            click.echo(f"{user.username}\t{user.role.value}\tcreated {user.created_at:%Y-%m-%d}")


@users.command("add")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An administrator (manages users and settings): --role admin.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MEMBER.value,
    show_default=True,
    help="admin: users, settings, every site; member: view, scan, add sites and change its own; "
    "viewer: view only.",
)
@_PASSWORD_ENV
@click.pass_context
def add(ctx: click.Context, username: str, admin: bool, role: str, password_env: str | None) -> None:
    """Add an account."""
    chosen = Role.ADMIN if admin else Role(role)
    password = _password(password_env)
    with _service(ctx) as monitor:
        monitor.create_user(username, password, role=chosen)
    click.echo(f"added {chosen.value} {username}")


@users.command("passwd")
@click.argument("username")
@_PASSWORD_ENV
@click.option(
    "--keep-tokens/--revoke-tokens",
    default=False,
    help="Keep the account's API tokens (default: revoke them, as a new password usually means a leak).",
)
@click.pass_context
def passwd(ctx: click.Context, username: str, password_env: str | None, keep_tokens: bool) -> None:
    """Set an account's password (for example a lost admin password). This logs the account out everywhere
    and revokes its API tokens unless --keep-tokens."""
    password = _password(password_env)
    with _service(ctx) as monitor:
        accounts.set_password(monitor, username, password, revoke_tokens=not keep_tokens)
    click.echo(
        f"changed the password of {username}, ended its sessions"
        + (" and kept its API tokens" if keep_tokens else " and revoked its API tokens")
    )


@users.command("remove")
@click.argument("username")
@click.pass_context
def remove(ctx: click.Context, username: str) -> None:
    """Remove an account and its API tokens (never the last admin)."""
    with _service(ctx) as monitor:
        accounts.remove_user(monitor, username)
    click.echo(f"removed {username}")
