"""The database side of a distributed scan: every fetched page, written idempotently by the workers.

One row per (scan, fetch key), the primary key being the unique constraint: a batch that runs twice (a
worker killed after fetching, the batch redelivered) upserts the same rows, never duplicates them. A
restarted coordinator reads the rows back and replays the crawl from them instead of fetching again.

The table lives next to the service's tables in the shared database (SQLite or PostgreSQL) and comes from
the service's Alembic migrations (:func:`linkdoctor.monitor.db.upgrade`), which :meth:`FetchStore.open` runs
when the table is missing; it holds only scans in flight (the coordinator deletes a scan's rows when done).

>>> # store = FetchStore.open("postgresql+psycopg://ld@db/ld")
>>> # store.put("scan-7", {"key": "{...page json...}"}); store.get("scan-7", "key")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Column, Engine, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from linkdoctor.monitor.db import create_engine_for, upgrade

_metadata = MetaData()  # the table as the store uses it; its schema is migration 0002
FETCHES = Table(
    "distributed_fetches",
    _metadata,
    Column("scan", String(64), primary_key=True),
    Column("item", String(32), primary_key=True),
    Column("page", Text, nullable=False),
)


class FetchStore:
    """Pages fetched for scans in flight, keyed by scan and fetch key."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, db_url: str) -> FetchStore:
        """The store of ``db_url``, migrated first when its table is missing (a fresh database)."""
        engine = create_engine_for(db_url)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def put(self, scan: str, pages: Mapping[str, dict[str, Any]]) -> None:
        """Write (or overwrite) the pages of one batch in one transaction."""
        if not pages:
            return
        rows = [{"scan": scan, "item": key, "page": json.dumps(page)} for key, page in pages.items()]
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(FETCHES)
        statement = statement.on_conflict_do_update(
            index_elements=[FETCHES.c.scan, FETCHES.c.item], set_={"page": statement.excluded.page}
        )
        with self.engine.begin() as connection:
            connection.execute(statement, rows)

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        """The stored page of one fetch key of ``scan``, if any."""
        query = select(FETCHES.c.page).where(FETCHES.c.scan == scan, FETCHES.c.item == key)
        with self.engine.connect() as connection:
            page = connection.execute(query).scalar()
        return None if page is None else cast("dict[str, Any]", json.loads(page))

    def count(self, scan: str) -> tuple[int, int]:
        """(rows, distinct fetch keys) of ``scan``: equal unless a row was duplicated."""
        with self.engine.connect() as connection:
            query = select(func.count(), func.count(FETCHES.c.item.distinct())).where(FETCHES.c.scan == scan)
            rows, distinct = connection.execute(query).one()
            return int(rows), int(distinct)

    def forget(self, scan: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(FETCHES).where(FETCHES.c.scan == scan))


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema unless the store's table is there already. Another process
    migrating the same fresh database at the same moment may win the race: that is fine too."""
    if inspect(engine).has_table(FETCHES.name):
        return
    try:
        upgrade(engine)
    except Exception:
        if not inspect(engine).has_table(FETCHES.name):
            raise
