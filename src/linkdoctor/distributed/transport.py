"""The workers' Celery transport: kombu's Redis transport, but a message whose acknowledgement the broker
did not take still frees its worker's prefetch slot.

kombu's Redis ``QoS.ack`` (and ``reject``) first removes the message from the broker's unacked index and only
then frees the slot it held in the worker. When that broker call fails (Redis frozen or restarting while a
batch ends), the slot is never freed: a worker with one slot (``--pool solo``, prefetch 1) takes no message
again, for good, though the broker answers seconds later. Here the slot is freed whatever the broker said,
and the error still reaches kombu, which logs it ("Couldn't ack"). The message stays in the broker's unacked
index, so the broker hands it out again after its visibility timeout, as it does for a worker that died;
the coordinator ignores a batch's second reply.

Celery uses it for ``redis://`` and ``rediss://`` brokers (:func:`~linkdoctor.distributed.app.create_celery`,
which also gives a ``rediss://`` broker its TLS options: kombu sets its own only for the transport it names
``rediss``). A message whose
slot was freed this way is not put back when the worker shuts down (kombu restores only the messages it
holds); the broker hands it out again after its visibility timeout, and the coordinator re-sends its batch
when its lease runs out long before.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis, virtual

__all__ = ["Transport"]


class _QoS(redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except BaseException:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]
        except BaseException:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]
            raise


class _Channel(redis.Channel):
    QoS = _QoS


class Transport(redis.Transport):
    """kombu's Redis transport whose channels free a prefetch slot even when the broker fails an ack."""

    Channel = _Channel
