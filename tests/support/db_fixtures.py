"""Database fixtures shared by the monitor and web test suites. A conftest imports them by name:

    from tests.support.db_fixtures import db_url, postgres_cluster  # noqa: F401

* ``postgres_cluster`` — one throwaway PostgreSQL cluster per session (fails, never skips, when missing).
* ``db_url`` — parametrized ``sqlite`` / ``postgresql``: a fresh, empty database per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"test_{uuid.uuid4().hex[:12]}")
