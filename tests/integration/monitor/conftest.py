"""Fixtures of the monitor's integration tests: every test that takes ``db_url`` runs on SQLite and on a
real PostgreSQL."""

from __future__ import annotations

from tests.support.db_fixtures import db_url, postgres_cluster

__all__ = ["db_url", "postgres_cluster"]
