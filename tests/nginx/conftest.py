"""Fixtures for the nginx linter's tests: the session's certificate materials, fixture folders copied
to temporary directories, and ``nginx -t`` against the real nginx (which fails loudly when missing)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.nginx.materials import FixtureSpec, Materials, NginxTest, materialize

from linkdoctor.nginx import NginxVersion, detect_nginx_version

NGINX_T_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def materials(tmp_path_factory: pytest.TempPathFactory) -> Materials:
    return Materials(tmp_path_factory.mktemp("materials"))


@pytest.fixture
def materialized(materials: Materials, tmp_path: Path) -> Callable[[FixtureSpec], Path]:
    """Copy a fixture into this test's temporary directory and return its ``nginx.conf``."""

    def make(spec: FixtureSpec) -> Path:
        return materialize(spec, materials, tmp_path / "conf")

    return make


@pytest.fixture(scope="session")
def installed_nginx_version(nginx_bin: str) -> NginxVersion:
    version = detect_nginx_version(binary=nginx_bin)
    if version is None:
        pytest.fail(f"`{nginx_bin} -v` did not report a version", pytrace=False)
    return version


@pytest.fixture
def nginx_t(nginx_bin: str) -> Callable[[Path], NginxTest]:
    """Run ``nginx -t`` on a configuration, with its pid file and error log inside its directory."""

    def run(conf: Path) -> NginxTest:
        prefix = conf.parent
        done = subprocess.run(
            [
                nginx_bin,
                "-t",
                "-q",
                "-c",
                str(conf),
                "-p",
                f"{prefix}/",
                "-g",
                "pid nginx.pid; error_log error.log;",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=NGINX_T_TIMEOUT,
            check=False,
        )
        return NginxTest(done.returncode == 0, (done.stdout + done.stderr).strip())

    return run
