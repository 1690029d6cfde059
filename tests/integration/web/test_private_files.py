"""The database file holds the password hashes and the secret that signs session cookies, so no other local
user may read it: a real ``serve`` process creates it (and its WAL and shared-memory files) with mode 0600
even under a permissive umask, its folder with 0700, and tightens a file an older version left readable."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import Served, log_in, serve_process


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def serving_under_umask(db: Path, home: Path, umask: int) -> Iterator[Served]:
    previous = os.umask(umask)  # the serve process inherits it
    try:
        with serve_process(f"sqlite:///{db}", home) as served:
            os.umask(previous)
            log_in(served.base, "admin", ADMIN_PASSWORD)  # a login writes: the WAL files exist now
            yield served
    finally:
        os.umask(previous)


@pytest.mark.slow
def test_a_new_database_and_its_folder_are_private_to_their_owner(tmp_path: Path) -> None:
    db = tmp_path / "data" / "linkdoctor.sqlite"
    with serving_under_umask(db, tmp_path, 0o000):
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(db.parent) == 0o700
        with sqlite3.connect(db) as connection:  # the session secret is a row of that private file
            (secret,) = connection.execute(
                "SELECT value FROM settings WHERE key = 'secret:session'"
            ).fetchone()
        assert len(secret) >= 32


@pytest.mark.slow
def test_a_database_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "linkdoctor.sqlite"
    db.touch()
    db.chmod(0o644)
    with serving_under_umask(db, tmp_path, 0o022):
        assert mode(db) == 0o600
