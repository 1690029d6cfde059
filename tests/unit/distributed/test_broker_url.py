"""A broker URL that cannot work is one line and exit 3 from every command that takes one, before anything
connects, and the line never shows the URL's password."""

from __future__ import annotations

import subprocess
import sys

import pytest

from linkdoctor.distributed.settings import BrokerSettings, broker_url_problem
from linkdoctor.errors import ConfigError

SECRET = "s3cret-pw"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl", "must start with redis:// or rediss://"),
        ("http://redis:6379/0", "must start with redis:// or rediss://"),
        ("unix:///run/redis.sock", "must start with redis:// or rediss://"),  # kombu has no such transport
        ("redis:///0", "must start with redis:// or rediss://"),
        (f"redis://:{SECRET}@127.0.0.1:99999/0", "cannot be parsed: Port out of range"),
        (f"redis://:{SECRET}@[::1/0", "cannot be parsed: Invalid IPv6 URL"),
        (f"redis://:{SECRET}@redis/zero", "database that is not a number: 'zero'"),
        (f"redis://:{SECRET}@redis/0?socket_timeout=3", "option linkdoctor does not take: 'socket_timeout'"),
        ("redis://redis/0?ssl_ca_certs=/ca.pem", "option linkdoctor does not take: 'ssl_ca_certs'"),
        ("rediss://redis/0?ssl_ca_certs=/ca.pem&foo=1", "option linkdoctor does not take: 'foo'"),
    ],
)
def test_a_broker_url_that_cannot_work_is_refused_without_its_password(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        BrokerSettings(url)
    assert says in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://redis:6379/0",
        "redis://127.0.0.1",
        f"redis://user:{SECRET}@[::1]:6380/15",
        "rediss://redis:6380/0?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=required&ssl_check_hostname=true",
    ],
)
def test_a_broker_url_both_celery_and_redis_read_is_taken(url: str) -> None:
    assert broker_url_problem(url) is None


@pytest.mark.parametrize(
    "command",
    [
        ["check", "http://127.0.0.1:9/", "--broker"],
        ["worker", "--broker"],
        ["serve", "--db", "sqlite:///:memory:", "--port", "9", "--broker"],
    ],
)
def test_every_command_says_it_in_one_line_with_exit_3(command: list[str]) -> None:
    url = f"redis://:{SECRET}@127.0.0.1:1/0?foo=1"
    done = subprocess.run(
        [sys.executable, "-m", "linkdoctor", *command, url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr == (
        "linkdoctor: error: the broker URL has an option linkdoctor does not take: 'foo' "
        "(only the ssl_* options of a rediss:// URL)\n"
    )
