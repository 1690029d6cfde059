"""The per-owner site cap of ``Monitor.add_site`` holds under a burst of adds on PostgreSQL, whatever
isolation level the database defaults to (the engine asks for READ COMMITTED, so the count after the
owner's row lock sees the adds committed meanwhile)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from harness.postgres import PostgresCluster

from linkdoctor.monitor.model import Role, SiteSpec
from linkdoctor.monitor.service import Monitor
from linkdoctor.monitor.sites import SiteLimitReached

pytestmark = pytest.mark.postgres

LIMIT = 3


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
def test_a_burst_of_adds_stops_at_the_cap(postgres_cluster: PostgresCluster, isolation: str) -> None:
    name = f"cap_{uuid.uuid4().hex[:12]}"
    url = postgres_cluster.create_database(name)
    admin = f"host=127.0.0.1 port={postgres_cluster.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:  # an operator's choice of default
        connection.execute(f"ALTER DATABASE {name} SET default_transaction_isolation = '{isolation}'")
    monitor = Monitor.open(url)
    try:
        owner = monitor.create_user("member", "a long enough password", role=Role.MEMBER).id

        def add(index: int) -> str:
            spec = SiteSpec(name=f"site {index}", url="http://127.0.0.1:9/")
            try:
                monitor.add_site(spec, owner_id=owner, owner_limit=LIMIT)
            except SiteLimitReached:
                return "refused"
            return "added"

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(add, range(12)))
        assert outcomes.count("added") == LIMIT, outcomes
        assert outcomes.count("refused") == 12 - LIMIT
    finally:
        monitor.close()
