"""Login throttling: a password form must not be a free guessing machine.

Failed logins are counted per (client address, user name) and per client address, in a sliding window.
Past the limit, the login form answers ``429 Too Many Requests`` with ``Retry-After`` and does not check
the password at all, until the oldest counted failure leaves the window. A successful login clears its
(address, user name) count. The counts live in this process: each process of a scaled-out service counts
on its own. Behind a reverse proxy, the address is the client's only when the server trusts the proxy's
``X-Forwarded-For`` (uvicorn trusts 127.0.0.1, more with ``FORWARDED_ALLOW_IPS``); otherwise every
client shares the proxy's address, and the per-user-name limit still holds.

>>> throttle = LoginThrottle(clock=lambda: 0.0)
>>> for _ in range(5):
...     throttle.failed("203.0.113.9", "admin")
>>> throttle.retry_after("203.0.113.9", "admin")
900.0
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Final

FAILURES_PER_USER: Final = 5  # failed logins per (address, user name) within the window
FAILURES_PER_ADDRESS: Final = 50  # failed logins per address, any user names, within the window
WINDOW_S: Final = 900.0
MAX_KEYS: Final = 10_000  # memory bound: the least recently failed keys are forgotten first

_Key = tuple[str, ...]


class LoginThrottle:
    """Counts failed logins; :meth:`retry_after` says how long a client must wait (0: it may try now)."""

    def __init__(
        self,
        *,
        per_user: int = FAILURES_PER_USER,
        per_address: int = FAILURES_PER_ADDRESS,
        window: float = WINDOW_S,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {1: per_address, 2: per_user}  # by key length: (address,) or (address, name)
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[_Key, deque[float]] = OrderedDict()

    def retry_after(self, address: str, username: str) -> float:
        """Seconds until ``address`` may try ``username`` again; 0 when it may now."""
        now = self._clock()
        wait = 0.0
        for key in _keys(address, username):
            times = self._recent(key, now)
            if times is not None and len(times) >= self._limits[len(key)]:
                wait = max(wait, times[-self._limits[len(key)]] + self._window - now)
        return wait

    def failed(self, address: str, username: str) -> None:
        now = self._clock()
        for key in _keys(address, username):
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = deque(maxlen=max(self._limits.values()))
            times.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, address: str, username: str) -> None:
        self._failures.pop(_keys(address, username)[1], None)

    def _recent(self, key: _Key, now: float) -> deque[float] | None:
        """The key's failures still inside the window (dropping older ones), or None when it has none."""
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


def _keys(address: str, username: str) -> tuple[_Key, _Key]:
    return (address,), (address, username.casefold())
