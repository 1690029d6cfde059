"""Per-host politeness: a concurrency cap, an optional pause between requests, and a host-wide pause
that a ``Retry-After`` answer sets for every queued request to that host, not just the one that got it.

Hosts may get their own cap and pause (``limits``, e.g. :meth:`CheckConfig.host_limits` from ``[[hosts]]``
in the config file). The clock and sleep are injected so the behaviour is testable without real waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Limits = Callable[[str], tuple[int, float]]


class SlotsClosed(Exception):
    """The limiter is closed (the run is stopping): no request starts from now on."""


@dataclass(slots=True)
class _Host:
    semaphore: asyncio.Semaphore
    interval: float
    paused_until: float = 0.0
    next_slot: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HostLimiter:
    """Hands out request slots per host.

    >>> limiter = HostLimiter(per_host=4, interval=0.0, limits=lambda host: (1, 2.0))
    >>> # async with limiter.slot("example.org"): ...

    ``limits(host)`` gives (requests in flight, seconds between requests) for one host; without it every
    host gets ``per_host`` and ``interval``.
    """

    def __init__(
        self,
        per_host: int,
        interval: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        limits: Limits | None = None,
    ) -> None:
        self._per_host = max(1, per_host)
        self._interval = max(0.0, interval)
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self.closed = False

    def close(self) -> None:
        """Start no more requests: every request waiting for a slot, and every later one, raises
        :class:`SlotsClosed` once it would start; those holding a slot go on."""
        self.closed = True

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            per_host, interval = self._limits(host) if self._limits else (self._per_host, self._interval)
            state = self._hosts[host] = _Host(asyncio.Semaphore(max(1, per_host)), max(0.0, interval))
        return state

    def pause(self, host: str, seconds: float) -> None:
        """Hold every request to ``host`` for ``seconds`` from now (a Retry-After answer)."""
        state = self._host(host)
        state.paused_until = max(state.paused_until, self._clock() + max(0.0, seconds))

    def paused_for(self, host: str) -> float:
        """Seconds left on the host's pause (0 when it is not paused)."""
        state = self._hosts.get(host)
        return max(0.0, state.paused_until - self._clock()) if state else 0.0

    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        """``async with limiter.slot(host):`` holds one of the host's request slots."""
        return _Slot(self, self._host(host))


class _Slot:
    """One request's hold on a host (a class, not a generator: the checker takes one per request)."""

    __slots__ = ("_limiter", "_state")

    def __init__(self, limiter: HostLimiter, state: _Host) -> None:
        self._limiter = limiter
        self._state = state

    async def __aenter__(self) -> None:
        limiter = self._limiter
        state, clock, sleep = self._state, limiter._clock, limiter._sleep
        if limiter.closed:
            raise SlotsClosed
        await state.semaphore.acquire()
        try:
            while (wait := state.paused_until - clock()) > 0:
                await sleep(wait)
            if state.interval:
                async with state.lock:
                    wait = state.next_slot - clock()
                    if wait > 0:
                        await sleep(wait)
                    state.next_slot = clock() + state.interval
            if limiter.closed:  # closed while this request waited
                raise SlotsClosed
        except BaseException:
            state.semaphore.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._state.semaphore.release()
