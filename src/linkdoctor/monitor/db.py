"""Database plumbing: the engine and session factory for SQLite (WAL) and PostgreSQL (psycopg 3), the
automatic Alembic upgrade on start, and :class:`Database`, the short transactions and the clock that every
store of the monitor (:mod:`~linkdoctor.monitor.sites`, :mod:`~linkdoctor.monitor.scans`, …) works through.

SQLite gets ``journal_mode=WAL`` (readers never block the writer), ``foreign_keys=ON`` and a busy timeout
so two ``serve`` processes on one file wait for each other instead of failing. Its file is private to its
owner (mode 0600, :func:`private_database_file`): it holds password hashes and the session secret.

>>> # engine = create_engine_for("sqlite:////tmp/linkdoctor.sqlite"); upgrade(engine)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from linkdoctor.errors import ConfigError

log = logging.getLogger("linkdoctor.monitor")

# 19 digits or more: an integer that may not fit in 64 bits (or a long digit run in a string, read the slow
# way for nothing).
_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_BYTES = re.compile(rb"\d{19}")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value: read by orjson (a dashboard page reads tens of thousands of them, three times
    faster), else by the standard decoder, which also takes what the standard encoder wrote that is not
    JSON (``NaN``) and keeps an integer past 64 bits an integer (orjson makes it a float).

    >>> json_loads('[1, NaN, 18446744073709551616]')
    [1, nan, 18446744073709551616]
    """
    long = _LONG_NUMBER.search(text) if isinstance(text, str) else _LONG_NUMBER_BYTES.search(text)
    if long is not None:
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_engine_for(db_url: str) -> Engine:
    """An engine for ``sqlite:///…`` or ``postgresql+psycopg://…``; other URLs are a :class:`ConfigError`.
    JSON columns are read with :func:`json_loads`."""
    try:
        url = make_url(db_url)
    except Exception as exc:
        raise ConfigError(f"not a database URL: {db_url!r}") from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            private_database_file(Path(url.database).expanduser())
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, json_deserializer=json_loads
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() != "psycopg":
            url = url.set(drivername="postgresql+psycopg")
        # READ COMMITTED whatever the database's default: a statement after a row lock sees what the lock's
        # holder committed (a site count after the owner's lock, a lease after its row's), which a
        # REPEATABLE READ default would hide behind the transaction's first snapshot.
        return create_engine(
            url, pool_pre_ping=True, json_deserializer=json_loads, isolation_level="READ COMMITTED"
        )
    raise ConfigError(
        f"unsupported database {url.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
    )


def private_database_file(path: Path) -> None:
    """Make ``path`` a database file only its owner can read: created with mode 0600 (its folder, when
    created here, 0700), and an existing one, with its WAL and shared-memory files, stripped of any group
    or other permission. SQLite gives the files it creates later (``-wal``, ``-shm``, journals) the
    database file's mode. The file holds the password hashes and the secret that signs session cookies.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
                log.warning("%s could be read by other users: it is now mode 0600", file)
                file.chmod(0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create the database file {path}: {exc.strerror or exc}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that BEGIN is ours (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The execution option that marks a read-only transaction (:meth:`Database.read`).
_READ_ONLY = "linkdoctor_read_only"


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: a read-then-write transaction cannot be overtaken by
    # another process between its read and its write (that would raise "database is locked" instead of waiting).
    # A read-only one begins deferred: in WAL mode it reads a snapshot, neither waiting for the writer nor
    # holding it up however long it reads (a big scan's page).
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Sessions(Protocol):
    """What a store needs: a transaction that commits on success and rolls back on error, one that only
    reads, and the time."""

    def session(self) -> AbstractContextManager[Session]: ...

    def read(self) -> AbstractContextManager[Session]: ...

    def now(self) -> datetime: ...


class Database:
    """One database and the clock its rows are stamped with: the :class:`Sessions` every store is given."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._reads: sessionmaker[Session] = session_factory(engine.execution_options(**{_READ_ONLY: True}))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that only reads: one consistent snapshot that, on SQLite, takes no write lock, so a
        long read and a scan's writes never wait for each other. Writing in it is a bug (on SQLite it
        may fail with "database is locked" instead of waiting)."""
        with self._reads.begin() as session:
            yield session

    def now(self) -> datetime:
        """The clock's time in UTC; a clock that returns naive datetimes is a bug."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the monitor's clock must return aware datetimes")
        return now.astimezone(UTC)


def alembic_config(engine: Engine) -> Config:
    """A programmatic Alembic config whose scripts are the ones shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Tables that migrations own but the ORM does not map (the distributed mode's fetch store): autogenerate
# must not propose dropping them.
UNMAPPED_TABLES = frozenset({"distributed_fetches"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's ``include_object`` hook: leave the unmapped tables out of autogenerate comparisons."""
    return not (type_ == "table" and reflected and compare_to is None and name in UNMAPPED_TABLES)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current)."""
    command.upgrade(alembic_config(engine), "head")


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched: how a compare-and-set learns whether it won."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
