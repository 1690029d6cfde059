"""Resuming and interrupting a distributed ``check``: the scan's record, ``--resume``, and SIGINT/SIGTERM.

A distributed scan writes its record to Redis before it hands out any work (:func:`open_scan`): which page
store its workers write to (:mod:`linkdoctor.distributed.pagestore`) and a fingerprint of its inputs and
fetch settings. The record lives as long as the scan's other keys (``key_ttl`` after the coordinator's last
beat) and is deleted with them when the scan finishes. ``check --resume SCAN`` runs the crawl again under
that key: the pages the workers stored are replayed, and the fetches an earlier coordinator handed out and
that are still in flight are awaited, not repeated (:class:`~linkdoctor.distributed.coordinator.RemotePages`).
A scan that is unknown, finished or expired, that checked other inputs or settings, or whose coordinator
is alive is refused with one line (exit 3). A coordinator killed with ``kill -9`` stops counting as alive
``SCAN_STALE_AFTER`` seconds after its last beat; ``--resume`` waits for that rather than fail. Every
coordinator claims its scan (:func:`~linkdoctor.distributed.pagestore.owner_key`, renewed by its beats), so
two never run one scan: of two ``--resume`` of one scan started together, one runs and the other is
refused, and a coordinator frozen past ``SCAN_STALE_AFTER`` whose scan was taken over stops at its next beat.
A ``check`` goes on beating and holding its claim while it writes its report
(:class:`~linkdoctor.distributed.claim.HeldScan`): its scan is refused until then.

:class:`Interrupt` turns the first SIGINT or SIGTERM into a stop: no new check starts, the fetches in flight
finish, and the report is written with what was done, marked partial by a ``crawl.interrupted`` line (the
left-out line every format shows, like ``crawl.time-budget``) and a warning naming the resume command. The
scan's keys stay, so nothing fetched is lost. A second signal stops at once, without a report. A signal
during the resume's wait for a dead coordinator ends the wait (:meth:`Interrupt.guard`): nothing was changed,
and the exit is 128+signal with one line naming the resume command.

>>> interrupt = Interrupt("cli-1f2e")
>>> interrupt.signum is None
True
>>> # report = await check_distributed(config, inputs, settings, scan="cli-1f2e", interrupt=interrupt)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from secrets import token_hex
from typing import TYPE_CHECKING, Any, Final, TypeVar

from linkdoctor.config import CheckConfig, reveal
from linkdoctor.distributed.pagestore import owner_key, record_key
from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings, sync_redis
from linkdoctor.distributed.wire import FetchSpec, is_credential
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.interrupt import Interrupt as RunInterrupt
from linkdoctor.engine.interrupt import RunStopped
from linkdoctor.errors import ConfigError, LinkdoctorError

if TYPE_CHECKING:
    from redis.asyncio import Redis

_POLL_S: Final = 1.0
# KEYS: the scan's claim, its record. ARGV: the coordinator, seconds. Claims a scan that still has its record
# and no claim: 1; 0 when another holds it; -1 when the scan was forgotten (its check finished).
_CLAIM: Final = """
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""
_LEFTOVER_MS: Final = 5_000  # a dead resumer's claim outliving its last beat by less than this is waited for
T = TypeVar("T")
log = logging.getLogger("linkdoctor.distributed")


class ScanStopped(RunStopped):
    """A signal stopped the scan before its fetches in flight were done: no report, keys kept."""


class ScanTakenOver(FetchInterrupted):
    """Another coordinator (a ``--resume``) took the scan over while this one was silent: it stops, leaving
    the scan to the other."""


def resume_hint(settings: BrokerSettings, scan: str, failure: LinkdoctorError) -> str | None:
    """How to go on after ``failure`` stopped a live check of ``scan``: ``--resume`` while Redis keeps the
    scan's record (or cannot be asked: an outage keeps it, unless Redis restarts without persistence).
    None when Redis lost the scan with its crawl state, another coordinator runs it, or a second signal
    stopped it (whose message says it already)."""
    if isinstance(failure, RunStopped | ScanTakenOver):
        return None
    from redis.exceptions import RedisError

    client = sync_redis(settings)
    try:
        kept = bool(client.exists(record_key(settings.keys, scan)))
    except (RedisError, OSError):
        kept = True
    finally:
        client.close()
    return f"the scan is kept: resume with --resume {scan}" if kept else None


def fingerprint(spec: FetchSpec, inputs: Inputs, *, secrets: Sequence[str] = (), salt: str = "") -> str:
    """What a resumed scan must share with the first run: its inputs and fetch settings, and the values of
    its ``secrets`` (passwords: the spec names only their variables), so pages fetched with a password
    since changed are not replayed. The secrets enter through scrypt salted with ``salt`` (the scan key):
    the record in Redis gives a guesser no cheap test of a password."""
    data = {
        "spec": spec.to_json(),
        "seeds": list(inputs.seeds),
        "links": sorted({url for url, _source, _line in inputs.links}),
        "documents": sorted(url for _path, url in inputs.documents),
    }
    if secrets:
        hidden = hashlib.scrypt(
            json.dumps(list(secrets)).encode(),
            salt=f"linkdoctor:{salt}".encode(),
            n=2**14,
            r=8,
            p=1,
            dklen=16,
        )
        data["secrets"] = hidden.hex()
    return hashlib.blake2b(json.dumps(data, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def secrets_of(config: CheckConfig) -> tuple[str, ...]:
    """The secrets a scan fetches with (basic-auth passwords, client key passwords, credential headers), in
    a stable order."""
    found = [h.basic_auth[1].reveal() for h in config.host_settings if h.basic_auth is not None]
    found += [c.password.reveal() for c in config.client_certs if c.password is not None]
    headers = [*config.headers, *(header for h in config.host_settings for header in h.headers)]
    found += [reveal(value) for name, value in headers if is_credential(name, value)]
    return tuple(found)


async def open_scan(
    redis: Redis,
    settings: BrokerSettings,
    scan: str,
    *,
    store: str,
    fingerprint: str,
    resume: bool,
    owner: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Write a new scan's record, or check that ``scan`` can be resumed (raises :class:`ConfigError`); then
    claim the scan for ``owner`` (:func:`owner_id`), the coordinator that will run it."""
    key = record_key(settings.keys, scan)
    owner = owner or owner_id()
    if not resume:
        record = json.dumps({"store": store, "fingerprint": fingerprint, "started": clock()})
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, record, ex=settings.key_ttl)
            pipe.set(owner_key(settings.keys, scan), owner, ex=int(SCAN_STALE_AFTER))
            await pipe.execute()
        return
    raw = await redis.get(key)
    if raw is None:
        raise ConfigError(
            f"--resume {scan}: no such scan on the broker (unknown, finished, its keys expired after "
            f"{settings.key_ttl} s, or lost when the broker restarted without persistence)"
        )
    if json.loads(raw).get("fingerprint") != fingerprint:
        raise ConfigError(
            f"--resume {scan}: that scan checked other inputs or settings; repeat its first command with "
            f"--resume {scan}"
        )
    await _await_dead_coordinator(redis, settings, scan, clock=clock, sleep=sleep)
    await _claim(redis, settings, scan, owner, sleep=sleep)


def owner_id() -> str:
    """A name for this coordinator in a scan's claim: host, process, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{token_hex(4)}"


async def _claim(
    redis: Redis,
    settings: BrokerSettings,
    scan: str,
    owner: str,
    *,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Make ``owner`` the scan's only coordinator: two ``--resume`` of one scan started together both see its
    coordinator dead, and only one may run it. The claim lives ``SCAN_STALE_AFTER`` seconds past the
    coordinator's last beat (:meth:`RemotePages._heartbeat` renews it, and stops a coordinator that lost it)
    and is dropped when it ends."""
    key = owner_key(settings.keys, scan)
    for _attempt in range(2):
        claimed = int(
            await redis.eval(_CLAIM, 2, key, record_key(settings.keys, scan), owner, int(SCAN_STALE_AFTER))
        )
        if claimed < 0:  # its check forgot it while this one waited: it finished
            raise ConfigError(f"--resume {scan}: no such scan on the broker (it finished meanwhile)")
        if claimed:
            return
        left = int(await redis.pttl(key))
        if not 0 < left <= _LEFTOVER_MS:  # a live resumer's claim, not a dead one's about to lapse
            break
        await sleep(left / 1000 + 0.05)
    raise ConfigError(f"--resume {scan}: another --resume of that scan is running")


async def _await_dead_coordinator(
    redis: Redis,
    settings: BrokerSettings,
    scan: str,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Until the scan's earlier coordinator counts as dead: its last beat ``SCAN_STALE_AFTER`` seconds ago.
    One that beats again meanwhile is alive, and the scan is refused."""
    first = await redis.zscore(settings.keys.running_scans, scan)
    if first is None:
        return
    logged = False
    while True:
        beat = await redis.zscore(settings.keys.running_scans, scan)
        if beat is None:
            return
        if float(beat) > float(first):
            raise ConfigError(f"--resume {scan}: the scan is running (its coordinator is alive)")
        age = clock() - float(beat)
        if age >= SCAN_STALE_AFTER:
            return
        if not logged:
            log.warning(
                "scan %s: its earlier coordinator beat %.0f s ago; waiting %.0f s for it to count as dead",
                scan,
                age,
                SCAN_STALE_AFTER - age,
            )
            logged = True
        await sleep(min(_POLL_S, SCAN_STALE_AFTER - age + 0.05))


class Interrupt(RunInterrupt):
    """SIGINT and SIGTERM during a distributed run (:class:`~linkdoctor.engine.interrupt.Interrupt`, whose
    messages name the command that resumes ``scan``), and during the resume's wait for a dead coordinator
    (:meth:`guard`). Install it for the whole distributed run, from opening the scan on."""

    def __init__(self, scan: str, *, announce: Callable[[str], None] | None = None) -> None:
        super().__init__(hint=f"resume with --resume {scan}", announce=announce)
        self.scan = scan
        self._waiting: asyncio.Future[Any] | None = None

    async def guard(self, wait: Awaitable[T]) -> T:
        """``wait`` (the resume's wait for a dead coordinator, before anything of the scan changed), ended by
        a signal with :class:`ScanStopped`: exit 128+signal, one line naming the resume command."""
        task: asyncio.Future[T] = asyncio.ensure_future(wait)
        self._waiting = task
        try:
            return await task
        except asyncio.CancelledError:
            if self.signum is None or not task.cancelled():
                raise
            raise ScanStopped(
                f"stopped by {self.signal_name} while waiting for the scan's earlier coordinator: nothing "
                f"changed; resume with --resume {self.scan}",
                self.signum,
            ) from None
        finally:
            self._waiting = None

    def _first(self) -> bool:
        if self._waiting is None:
            return False
        self._waiting.cancel()  # the scan has not started: it stops, untouched
        return True

    def _stopping(self) -> str:
        return (
            f"{self.signal_name}: stopping scan {self.scan}: no new checks, finishing those in flight; "
            "the report will be partial (send it again to stop now)"
        )
