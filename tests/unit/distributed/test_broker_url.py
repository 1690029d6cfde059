"""A broker URL that cannot work is one line and exit 3 from every command that takes one, before anything
connects, and the line never shows the URL's password."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis
import redis.asyncio

from linkdoctor.distributed.app import create_celery
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
        (f"redis://:{SECRET}@127.0.0.1:99999/0", "cannot be parsed: a port that is not a number"),
        ("redis://redis:0/0", "cannot be parsed: a port that is not a number"),
        (f"redis://:{SECRET}@[::1/0", "cannot be parsed"),
        # A password with a character the URL should have escaped: no part of it is shown.
        (f"redis://:{SECRET}/x@redis:6379/0", "cannot be parsed"),
        (f"redis://:pa#{SECRET}@redis/0", "cannot be parsed"),
        (f"redis://:pa?{SECRET}@redis/0", "cannot be parsed"),
        (f"redis://u:123/{SECRET}@redis/0", "must end in a database number"),
        (f"redis://:{SECRET}@redis/zero", "must end in a database number"),
        ("redis://redis/0/", "must end in a database number"),
        (" redis://redis:6379/0", "starts or ends with a space"),
        (f"redis://:{SECRET}@redis/0?socket_timeout=3", "option linkdoctor does not take: 'socket_timeout'"),
        ("redis://redis/0?ssl_ca_certs=/ca.pem", "option linkdoctor does not take: 'ssl_ca_certs'"),
        ("rediss://redis/0?ssl_ca_certs=/ca.pem&foo=1", "option linkdoctor does not take: 'foo'"),
        (
            "rediss://redis/0?ssl_validate_ocsp=true",
            "option linkdoctor does not take",
        ),  # not in redis.asyncio
        ("rediss://redis/0?ssl_cert_reqs=CERT_REQUIRED", "gives ssl_cert_reqs a value"),  # kombu's only
        ("rediss://redis/0?ssl_cert_reqs=bogus", "gives ssl_cert_reqs a value"),
        ("rediss://redis/0?ssl_check_hostname=maybe", "gives ssl_check_hostname a value"),
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
        "rediss://redis/?ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_ca_path=/etc/ssl&ssl_cert_reqs=optional",
    ],
)
def test_a_broker_url_celery_and_both_redis_clients_read_is_taken(url: str) -> None:
    assert broker_url_problem(url) is None
    # Each reader builds its connection from it (none connects yet).
    redis.Redis.from_url(url).connection_pool.make_connection()
    redis.asyncio.Redis.from_url(url).connection_pool.make_connection()  # type: ignore[no-untyped-call]
    with create_celery(BrokerSettings(url)).connection_for_write() as connection:
        assert connection.transport_cls in ("redis", "rediss") or connection.transport is not None


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
        "(only ssl_* options of a rediss:// URL)\n"
    )
