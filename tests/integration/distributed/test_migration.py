"""The ``distributed_fetches`` table comes from the service's Alembic migrations, on SQLite and PostgreSQL:
a fresh database migrates to it, the store migrates a fresh database it is pointed at, and a table made by
earlier versions (created on first use) is adopted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from linkdoctor.distributed.store import FETCHES, FetchStore
from linkdoctor.monitor.db import create_engine_for, upgrade

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def head() -> str:
    """The newest migration's revision."""
    from alembic.script import ScriptDirectory

    from linkdoctor.monitor.db import alembic_config

    engine = create_engine_for("sqlite://")
    try:
        return str(ScriptDirectory.from_config(alembic_config(engine)).get_current_head())
    finally:
        engine.dispose()


def revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_a_fresh_database_migrates_to_a_distributed_fetches_table(fresh_db: str) -> None:
    engine = create_engine_for(fresh_db)
    try:
        upgrade(engine)
        inspector = inspect(engine)
        assert inspector.has_table("distributed_fetches")
        assert {c["name"] for c in inspector.get_columns("distributed_fetches")} == {"scan", "item", "page"}
        assert inspector.get_pk_constraint("distributed_fetches")["constrained_columns"] == ["scan", "item"]
        assert revision(engine) == head()
    finally:
        engine.dispose()


def test_the_store_migrates_a_fresh_database_and_writes_each_fetch_once(fresh_db: str) -> None:
    store = FetchStore.open(fresh_db)
    try:
        store.put("scan-1", {"k1": {"n": 1}, "k2": {"n": 2}})
        store.put("scan-1", {"k1": {"n": 3}})  # a batch that ran twice
        assert (store.get("scan-1", "k1"), store.get("scan-1", "k2")) == ({"n": 3}, {"n": 2})
        assert store.count("scan-1") == (2, 2)
        assert inspect(store.engine).has_table("scans")  # the whole service schema, not just this table
    finally:
        store.close()


def test_a_table_created_by_earlier_versions_is_adopted_by_the_migration(fresh_db: str) -> None:
    engine = create_engine_for(fresh_db)
    try:
        FETCHES.metadata.create_all(engine)  # what earlier versions did on first use
        with engine.begin() as connection:
            connection.execute(FETCHES.insert().values(scan="old", item="k", page="{}"))
        upgrade(engine)
        assert revision(engine) == head()
        with engine.connect() as connection:
            assert connection.execute(FETCHES.select()).all() == [("old", "k", "{}")]
    finally:
        engine.dispose()


def test_autogenerate_sees_no_difference_and_keeps_the_unmapped_table(fresh_db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from linkdoctor.monitor.db import include_object
    from linkdoctor.monitor.orm import Base

    engine = create_engine_for(fresh_db)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": include_object})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert not [d for d in differences if d[0] == "remove_table"], differences
