"""Results of earlier runs, kept in SQLite, so a second run skips links that were fine.

What is kept and served: ``ok`` and ``redirected`` results. A check that does not need the body (a link
that is not crawled: an image, a script, an external page) is served any fresh result; a check that wants
the body (a page to crawl) is served only a result marked ``leaf``: one whose body, when it was fetched,
held nothing to parse (a PDF, an image, an archive linked with ``<a href>``). So pages are always fetched
again, since their links must be extracted; broken and unverified results are never kept, so failures are
always re-checked. A result is served while it is younger than ``max_age`` seconds and was
obtained with the same settings (see :func:`settings_fingerprint`: method, accepted statuses, headers,
trust …); referrers are never stored, they come from the current run.

Writes are batched, one transaction per batch, in WAL mode: a run killed at any moment leaves the file
consistent (at worst the last, uncommitted batch is lost). A file that is not a usable cache (garbage, a
damaged database, an older schema) is rebuilt with a warning instead of failing the run::

    with ResultCache.open(Path(".linkdoctor/cache.sqlite"), max_age=parse_duration("12h")) as cache:
        report = await check_async(config, inputs, cache=cache)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from linkdoctor.codec import result_from_json, result_to_json
from linkdoctor.config import CheckConfig, reveal
from linkdoctor.config_values import parse_duration
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult
from linkdoctor.options import DEFAULT_CACHE_FILE, DEFAULT_MAX_CACHE_AGE

CACHEABLE = frozenset({Category.OK, Category.REDIRECTED})

_SCHEMA_VERSION = 2
_APPLICATION_ID = 0x4C444331  # "LDC1" in the SQLite header: this file is a linkdoctor results cache
_BATCH = 500

Warn = Callable[[str], None]


def settings_fingerprint(config: CheckConfig) -> str:
    """A digest of the settings that can change a single link's result; results checked with other settings
    are not served. Passwords are left out (the user names and hosts they belong to are in); header values
    are in, those read from the environment too (a changed token or language is other settings)."""
    hosts = [
        (
            h.hosts,
            tuple((name, reveal(value)) for name, value in h.headers),
            h.basic_auth[0] if h.basic_auth else None,
            str(h.cacert),
        )
        for h in config.host_settings
    ]
    certs = [(str(c.cert), str(c.key), str(c.pkcs12), c.hosts) for c in config.client_certs]
    material = repr(
        (
            _SCHEMA_VERSION,
            config.method.value,
            sorted(config.accept),
            config.max_redirects,
            config.user_agent,
            config.headers,
            hosts,
            certs,
            str(config.cacert),
            config.insecure,
            str(config.cookie_jar),
        )
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


class ResultCache:
    """A results cache in one SQLite file. Open it with :meth:`open`; close it (or use ``with``) to write
    the last batch. Counters ``hits``, ``misses`` and ``stored`` tell how much it helped."""

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        *,
        max_age: float,
        fingerprint: str,
        clock: Callable[[], float],
        warn: Warn,
    ) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._max_age = max_age
        self._fingerprint = fingerprint
        self._clock = clock
        self._warn = warn
        self._pending: list[tuple[str, str, float, int, str]] = []
        self.hits = 0
        self.misses = 0
        self.stored = 0

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        max_age: float = 86400.0,
        fingerprint: str = "",
        clock: Callable[[], float] = time.time,
        warn: Warn | None = None,
    ) -> ResultCache:
        """Open (or create) the cache at ``path``, dropping entries older than ``max_age`` seconds.

        A damaged cache is replaced by an empty one and ``warn`` is told. A file that is not a linkdoctor
        cache (another program's database, a text file, a device) is never replaced or changed: that, and a
        path that cannot be written, raise :class:`~linkdoctor.errors.ConfigError`."""
        report: Warn = warn or (lambda _message: None)
        if path.exists() and not path.is_file():
            raise ConfigError(f"the cache file {path} is not a regular file; choose another --cache-file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the cache folder {path.parent}: {exc.strerror}") from exc
        try:
            connection = _connect(path)
        except sqlite3.DatabaseError as exc:
            if _unusable_location(exc):
                raise ConfigError(f"cannot open the cache file {path}: {exc}") from exc
            if not _ours(path):
                raise ConfigError(
                    f"the cache file {path} is not a linkdoctor cache ({exc}); it was left as it is: "
                    "remove it or choose another --cache-file"
                ) from None
            report(f"the cache file {path} was a damaged cache ({exc}); it was rebuilt empty")
            connection = _rebuild(path)
        cache = cls(path, connection, max_age=max_age, fingerprint=fingerprint, clock=clock, warn=report)
        cache._expire()
        return cache

    def get(self, url: str, *, leaf_only: bool = False) -> CheckResult | None:
        """The stored result for ``url`` when it is fresh and was checked with the same settings;
        ``leaf_only`` (for a check that wants the body) serves only results whose body held nothing to parse.
        """
        row = self._query(
            "SELECT result FROM results WHERE url = ? AND settings = ? AND checked_at >= ? AND leaf >= ?",
            (url, self._fingerprint, self._clock() - self._max_age, int(leaf_only)),
        )
        result = _decode(url, row[0]) if row is not None else None
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def put(self, result: CheckResult, *, leaf: bool = False) -> None:
        """Remember ``result`` if it is ``ok`` or ``redirected`` (others are ignored); ``leaf`` says its body
        was fetched and held nothing to parse. Written in batches."""
        if result.category not in CACHEABLE or result.error is not None:
            return
        self._pending.append((result.url, self._fingerprint, self._clock(), int(leaf), _encode(result)))
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending results in one transaction."""
        if not self._pending or self._connection is None:
            return
        rows, self._pending = self._pending, []
        try:
            with self._connection:
                self._connection.executemany(
                    "INSERT OR REPLACE INTO results (url, settings, checked_at, leaf, result)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return
        self.stored += len(rows)

    def close(self) -> None:
        """Write what is pending and close the file."""
        try:
            self.flush()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _expire(self) -> None:
        if self._connection is None:
            return
        try:
            with self._connection:
                self._connection.execute(
                    "DELETE FROM results WHERE checked_at < ?", (self._clock() - self._max_age,)
                )
        except sqlite3.DatabaseError as exc:
            self._recover(exc)

    def _query(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if self._connection is None:
            return None
        try:
            row: tuple[Any, ...] | None = self._connection.execute(sql, params).fetchone()
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return None
        return row

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        """The file broke under us (damaged pages show only when read): start over with an empty cache, or
        go on without one when even that fails."""
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        try:
            self._connection = _rebuild(self.path)
        except (sqlite3.DatabaseError, OSError) as again:
            self._warn(f"the cache file {self.path} is unusable ({again}); continuing without the cache")
            return
        self._warn(f"the cache file {self.path} was damaged ({exc}); it was rebuilt empty")


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` and make sure it holds our schema (creating it in a new file)."""
    # One event loop uses it at a time; a library caller may open it in another thread than the loop's.
    connection = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    try:
        # Read before anything is written: another program's database is left exactly as it is.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and (version != _SCHEMA_VERSION or "results" not in tables):
            raise sqlite3.DatabaseError(f"schema version {version}, expected {_SCHEMA_VERSION}")
        if not tables:  # a new file: its schema and mark go to the file itself, before WAL mode
            with connection:
                connection.execute(
                    "CREATE TABLE results (url TEXT NOT NULL, settings TEXT NOT NULL, checked_at REAL NOT NULL,"
                    " leaf INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (url, settings)) WITHOUT ROWID"
                )
                connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")  # marks the file as ours
        elif connection.execute("PRAGMA application_id").fetchone()[0] != _APPLICATION_ID:
            connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")  # a cache of an earlier version
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("SELECT count(*) FROM results").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _ours(path: Path) -> bool:
    """Whether ``path`` is a cache this program wrote: empty, an SQLite file with its application id, or one
    of an earlier version (no id; its one table ``results``)."""
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:
        return False
    if not header:
        return True
    if not header.startswith(b"SQLite format 3\x00"):
        return False
    if int.from_bytes(header[68:72], "big") == _APPLICATION_ID:
        return True
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError:
        return False
    return tables == {"results"}


def _rebuild(path: Path) -> sqlite3.Connection:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return _connect(path)


def _unusable_location(exc: sqlite3.DatabaseError) -> bool:
    """Errors about the place (no permission, a directory), as opposed to the file's content."""
    return isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc)


# What a cached row leaves out: the URL is its key column; referrers come from the current run; findings
# come from ``--diagnose`` after the check. Rows written before the codec (every field present, nulls
# for defaults) decode alike.
_NOT_STORED = frozenset({"url", "referrers", "findings", "referrer_count"})


def _encode(result: CheckResult) -> str:
    data = {k: v for k, v in result_to_json(result).items() if k not in _NOT_STORED}
    return json.dumps(data, separators=(",", ":"))


def _decode(url: str, text: str) -> CheckResult | None:
    """The stored result, or None when the row does not decode (treated as a miss)."""
    try:
        data = json.loads(text)
        return result_from_json({k: v for k, v in data.items() if k not in _NOT_STORED}, url=url)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


__all__ = [
    "CACHEABLE",
    "DEFAULT_CACHE_FILE",
    "DEFAULT_MAX_CACHE_AGE",
    "ResultCache",
    "parse_duration",
    "settings_fingerprint",
]
