"""The workers' Celery transport on a real Redis: an acknowledgement the broker fails (Redis frozen as the
batch ends) still frees the worker's prefetch slot, so a solo worker takes messages again once the broker
answers; a ``rediss://`` broker is spoken to over TLS with its certificate verified."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from harness.redis import RedisServer
from kombu.entity import Exchange, Queue
from redis.exceptions import RedisError

from linkdoctor.distributed.app import create_celery
from linkdoctor.distributed.settings import BrokerSettings

pytestmark = [pytest.mark.timeout(60)]
QUEUE = Queue("t", Exchange("t"), "t")  # type: ignore[no-untyped-call]


@contextmanager
def frozen(redis_server: RedisServer) -> Iterator[None]:
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)


def settle(message: Any, requeue: bool | None) -> None:
    """Acknowledge ``message`` (``requeue`` None: a batch done), or reject it (a batch handed back)."""
    if requeue is None:
        message.ack()
    else:
        message.reject(requeue=requeue)


@pytest.mark.parametrize("requeue", [None, True, False])
def test_a_message_the_broker_failed_to_acknowledge_frees_its_slot(
    redis_server: RedisServer, requeue: bool | None
) -> None:
    app = create_celery(BrokerSettings(redis_server.url, socket_timeout=0.5))
    delivered: list[Any] = []
    connection: Any = app.connection_for_write()
    with connection:
        with connection.Producer() as producer:
            for n in range(2):
                producer.publish({"n": n}, exchange=QUEUE.exchange, routing_key="t", declare=[QUEUE])
        channel = connection.channel()
        channel.basic_qos(0, 1, False)  # one slot: a solo worker's prefetch
        with connection.Consumer([QUEUE], channel=channel, callbacks=[lambda _body, m: delivered.append(m)]):
            connection.drain_events(timeout=5)
            assert len(delivered) == 1 and not channel.qos.can_consume()
            with frozen(redis_server), pytest.raises((RedisError, OSError)):
                settle(delivered[0], requeue)
            assert channel.qos.can_consume()  # stock kombu: False, and no message ever again
            connection.drain_events(timeout=5)
            assert [m.payload["n"] for m in delivered] == [0, 1]
    app.close()


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[RedisServer, Path]]:
    """A redis-server serving TLS too, with a certificate for 127.0.0.1 from a CA of the test's own; and the
    CA's certificate (PEM)."""
    authority = trustme.CA()
    chain, key, ca = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(key))
    certificate.cert_chain_pems[0].write_to_path(str(chain))
    authority.cert_pem.write_to_path(str(ca))
    with RedisServer.start(tmp_path / "redis", tls=(chain, key)) as server:
        yield server, ca


def test_a_rediss_broker_is_spoken_to_over_verified_tls(tls_redis: tuple[RedisServer, Path]) -> None:
    """Celery speaks TLS to a ``rediss://`` broker and verifies its certificate, with the CA the URL names (as
    the distributed mode's own Redis clients do); without it, the untrusted certificate is refused, never
    accepted unverified (kombu's default for ``rediss``)."""
    server, ca = tls_redis
    trusted = f"{server.tls_url}?ssl_ca_certs={ca}"
    app = create_celery(BrokerSettings(trusted, connect_timeout=2))
    connection: Any = app.connection_for_write()
    with connection, connection.Producer() as producer:
        producer.publish({"n": 1}, exchange=QUEUE.exchange, routing_key="t", declare=[QUEUE])
    assert server.client().llen("t") == 1
    app.close()

    untrusted = create_celery(BrokerSettings(server.tls_url, connect_timeout=2))
    connection = untrusted.connection_for_write()
    with connection, pytest.raises(Exception, match="certificate verify failed"):
        connection.ensure_connection(max_retries=1)
    untrusted.close()
