"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temp dir, ``pg_ctl start`` on a free port on
127.0.0.1 (unix socket in the same dir), fresh databases on demand, stopped and removed at the end.

initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user that Debian's
package creates. ``./scripts/test`` installs PostgreSQL with apt.

    with PostgresCluster.start() as cluster:
        url = cluster.create_database("t1")   # postgresql+psycopg://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg

from harness.ports import free_port

POSTGRES_MISSING = "PostgreSQL is required for the monitor tests: apt-get install postgresql (./scripts/test does this as root)"
START_TIMEOUT_S = 30


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


@dataclass
class PostgresCluster:
    """A running cluster; ``create_database`` gives each test a database of its own."""

    bin_dir: Path
    directory: Path
    port: int
    user: str | None

    @classmethod
    def start(cls) -> Self:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise RuntimeError(POSTGRES_MISSING)
        user = "postgres" if os.geteuid() == 0 else None
        directory = Path(tempfile.mkdtemp(prefix="linkdoctor-pg-"))
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        cluster = cls(bin_dir, directory, free_port(), user)
        try:
            cluster._run(
                "initdb", "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"
            )
            options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -c unix_socket_directories={directory} -c fsync=off"
            cluster._run(
                "pg_ctl", "-D", str(directory / "data"), "-l", str(directory / "log"), "-o", options,
                "-w", "-t", str(START_TIMEOUT_S), "start",
            )  # fmt: skip
        except BaseException:
            cluster._remove()
            raise
        return cluster

    def _run(self, program: str, *args: str) -> None:
        completed = subprocess.run(
            [str(self.bin_dir / program), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 30,
            check=False,
        )
        if completed.returncode != 0:
            log = self.directory / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({completed.returncode}): {completed.stderr}\n{tail}")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        finally:
            self._remove()

    def _remove(self) -> None:
        # rm(1) unlinks the hundreds of thousands of files of a cluster full of test databases several
        # times faster than shutil.rmtree
        if subprocess.run(["rm", "-rf", str(self.directory)], check=False).returncode != 0:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
